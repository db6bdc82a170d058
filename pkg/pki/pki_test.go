package pki

import (
	"crypto/x509"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestIssueVerifies(t *testing.T) {
	now := time.Now()
	dir := t.TempDir()
	if err := WriteCA(dir, "c3", now); err != nil {
		t.Fatal(err)
	}
	if err := WriteCA(dir, "c3", now); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("a second CA: %v", err)
	}
	if st, _ := os.Stat(filepath.Join(dir, CAKey)); st.Mode().Perm() != 0o600 {
		t.Fatalf("CA key mode %v", st.Mode())
	}
	f, err := IssueFiles(dir, filepath.Join(t.TempDir(), "tls"), "servera", []net.IP{net.ParseIP("172.16.177.1")}, now)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	caPEM, _ := os.ReadFile(f.CA)
	pool.AppendCertsFromPEM(caPEM)
	certPEM, _ := os.ReadFile(f.Cert)
	b, _ := pem.Decode(certPEM)
	cert, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
		if _, err := cert.Verify(x509.VerifyOptions{Roots: pool, DNSName: "172.16.177.1", KeyUsages: []x509.ExtKeyUsage{u}}); err != nil {
			t.Errorf("verify for %v: %v", u, err)
		}
	}
	// Another cluster's CA does not vouch for it.
	other := t.TempDir()
	WriteCA(other, "c4", now)
	op := x509.NewCertPool()
	oPEM, _ := os.ReadFile(filepath.Join(other, CACert))
	op.AppendCertsFromPEM(oPEM)
	if _, err := cert.Verify(x509.VerifyOptions{Roots: op}); err == nil {
		t.Error("another cluster's CA verified the certificate")
	}
}
