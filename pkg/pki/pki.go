// Package pki holds the etcd mode's certificates (issue 23): the
// cluster's own certificate authority, kept beside clconf.xml and copied
// with it, and the certificates each host issues itself from it for its
// name and address, so that etcd's peers and clients admit only the
// cluster's hosts.
package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/linuxha-ng/linuxha/pkg/atomicfile"
)

// Files of a CA in its directory (/etc/cluster/.etcd).
const (
	CACert = "ca.pem"
	CAKey  = "ca.key"
)

// Validity of what is made: the CA outlives any host's certificate, and
// a host issues itself a new one at every start.
const (
	caValid   = 20 * 365 * 24 * time.Hour
	hostValid = 2 * 365 * 24 * time.Hour
)

// newKey makes a certificate's key and a random serial number for it.
func newKey() (*ecdsa.PrivateKey, *big.Int, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	sn, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	return key, sn, err
}

func encode(der []byte, key *ecdsa.PrivateKey) (certPEM, keyPEM []byte, err error) {
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), nil
}

// NewCA makes a self-signed CA named for the cluster.
func NewCA(cluster string, now time.Time) (certPEM, keyPEM []byte, err error) {
	key, sn, err := newKey()
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: sn, Subject: pkix.Name{CommonName: "linuxha cluster " + cluster + " CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(caValid), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("CA certificate: %w", err)
	}
	return encode(der, key)
}

// parseCA reads a CA's PEM certificate and key.
func parseCA(certPEM, keyPEM []byte) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	cb, _ := pem.Decode(certPEM)
	kb, _ := pem.Decode(keyPEM)
	if cb == nil || kb == nil {
		return nil, nil, errors.New("not PEM")
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, nil, err
	}
	key, err := x509.ParseECPrivateKey(kb.Bytes)
	if err != nil {
		return nil, nil, err
	}
	if !cert.IsCA {
		return nil, nil, errors.New("the certificate is not a CA's")
	}
	return cert, key, nil
}

// Issue makes a certificate for host at ips, for TLS servers and clients
// both (an etcd member is both to its peers), signed by the CA.
func Issue(caCertPEM, caKeyPEM []byte, host string, ips []net.IP, now time.Time) (certPEM, keyPEM []byte, err error) {
	ca, caKey, err := parseCA(caCertPEM, caKeyPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("CA: %w", err)
	}
	key, sn, err := newKey()
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: sn, Subject: pkix.Name{CommonName: host}, DNSNames: []string{host}, IPAddresses: ips,
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(hostValid), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, nil, fmt.Errorf("certificate of %s: %w", host, err)
	}
	return encode(der, key)
}

// HasCA reports whether dir holds a CA.
func HasCA(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, CAKey))
	return err == nil
}

// WriteCA makes a new CA in dir, refusing to replace one: every host's
// copy must stay the same.
func WriteCA(dir, cluster string, now time.Time) error {
	if HasCA(dir) {
		return fmt.Errorf("%s already exists: a new CA would lock out the hosts holding this one (remove it on every host first)", filepath.Join(dir, CAKey))
	}
	c, k, err := NewCA(cluster, now)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, CACert), c, 0o644); err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(dir, CAKey), k, 0o600)
}

// Files are the PEM files of a host's certificate issued from a CA.
type Files struct {
	CA, Cert, Key string
}

// IssueFiles issues host a certificate from the CA in caDir and writes it
// and its key into outDir (the key readable by root alone).
func IssueFiles(caDir, outDir, host string, ips []net.IP, now time.Time) (Files, error) {
	f := Files{CA: filepath.Join(caDir, CACert), Cert: filepath.Join(outDir, host+".pem"), Key: filepath.Join(outDir, host+".key")}
	cp, err := os.ReadFile(f.CA)
	if err != nil {
		return f, err
	}
	kp, err := os.ReadFile(filepath.Join(caDir, CAKey))
	if err != nil {
		return f, err
	}
	c, k, err := Issue(cp, kp, host, ips, now)
	if err != nil {
		return f, fmt.Errorf("%s: %w", caDir, err)
	}
	if err := os.MkdirAll(outDir, 0o700); err != nil {
		return f, err
	}
	if err := atomicfile.WriteFile(f.Cert, c, 0o644); err != nil {
		return f, err
	}
	return f, atomicfile.WriteFile(f.Key, k, 0o600)
}
