package clmember

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/linuxha-ng/linuxha/internal/testbed"
	"github.com/linuxha-ng/linuxha/pkg/etcdmember"
)

// writePKI writes a CA and, signed by it, a certificate for 127.0.0.1
// usable by servers and clients, as PEM files in dir.
func writePKI(t *testing.T, dir string) (ca, cert, key string) {
	t.Helper()
	write := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "linuxha test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "servera"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
	caCert, _ := x509.ParseCertificate(caDER)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &k.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(k)
	return write("ca.pem", "CERTIFICATE", caDER), write("node.pem", "CERTIFICATE", der), write("node.key", "EC PRIVATE KEY", kder)
}

func TestExternalTLS(t *testing.T) {
	// variant="external": clmember's client presents the <tls> files of
	// clconf.xml to an etcd that admits only certificates of its CA.
	dir := t.TempDir()
	ca, cert, key := writePKI(t, dir)
	peer, client := "https://"+testbed.FreeLoopback(t), "https://"+testbed.FreeLoopback(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	m, err := etcdmember.Start(ctx, etcdmember.Config{Name: "e1", DataDir: filepath.Join(dir, "data"), PeerURL: peer, ClientURL: client,
		Peers: map[string]string{"e1": peer}, Cluster: "x", TLS: &etcdmember.TLSFiles{CA: ca, Cert: cert, Key: key}})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	cfg := parse(t, `<membership mode="etcd" variant="external"><endpoint url="`+client+`"/><tls ca="`+ca+`" cert="`+cert+`" key="`+key+`"/></membership>`, "servera", "serverb")
	c, err := Client(cfg, cfg.Membership.Endpoints, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Put(ctx, Prefix(cfg)+"probe", "ok"); err != nil {
		t.Fatalf("put over TLS: %v", err)
	}
	// Without the client's certificate the member refuses.
	cfg.Membership.Cert, cfg.Membership.KeyFile = "", ""
	c2, err := Client(cfg, cfg.Membership.Endpoints, time.Second)
	if err == nil {
		defer c2.Close()
		pctx, pcancel := context.WithTimeout(ctx, 2*time.Second)
		defer pcancel()
		_, err = c2.Put(pctx, Prefix(cfg)+"probe", "no")
	}
	if err == nil {
		t.Fatal("a client without a certificate was admitted")
	}
	cfg.Membership.CA = filepath.Join(dir, "missing.pem")
	if _, err := Client(cfg, cfg.Membership.Endpoints, time.Second); err == nil || !strings.Contains(err.Error(), "membership/tls") {
		t.Fatalf("a missing CA file: %v", err)
	}
}
