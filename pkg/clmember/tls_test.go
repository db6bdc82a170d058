package clmember

import (
	"context"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/linuxha-ng/linuxha/internal/testbed"
	"github.com/linuxha-ng/linuxha/pkg/config"
	"github.com/linuxha-ng/linuxha/pkg/etcdmember"
	"github.com/linuxha-ng/linuxha/pkg/layout"
	"github.com/linuxha-ng/linuxha/pkg/pki"
)

// writePKI makes a CA in dir and issues 127.0.0.1 a certificate from it.
func writePKI(t *testing.T, dir string) (ca, cert, key string) {
	t.Helper()
	if err := pki.WriteCA(dir, "x", time.Now()); err != nil {
		t.Fatal(err)
	}
	f, err := pki.IssueFiles(dir, dir, "servera", []net.IP{net.ParseIP("127.0.0.1")}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return f.CA, f.Cert, f.Key
}

// refused reports whether a client with host's certificate (or cfg's
// external TLS files) cannot write to the members at endpoints.
func refused(ctx context.Context, cfg *config.Cluster, endpoints []string, host *pki.Files) bool {
	c, err := Client(cfg, endpoints, time.Second, host)
	if err != nil {
		return true
	}
	defer c.Close()
	pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_, err = c.Put(pctx, Prefix(cfg)+"probe", "no")
	return err != nil
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
	c, err := Client(cfg, cfg.Membership.Endpoints, 2*time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Put(ctx, Prefix(cfg)+"probe", "ok"); err != nil {
		t.Fatalf("put over TLS: %v", err)
	}
	// Without the client's certificate the member refuses.
	cfg.Membership.Cert, cfg.Membership.KeyFile = "", ""
	if !refused(ctx, cfg, cfg.Membership.Endpoints, nil) {
		t.Fatal("a client without a certificate was admitted")
	}
	cfg.Membership.CA = filepath.Join(dir, "missing.pem")
	if _, err := Client(cfg, cfg.Membership.Endpoints, time.Second, nil); err == nil || !strings.Contains(err.Error(), "membership/tls") {
		t.Fatalf("a missing CA file: %v", err)
	}
}

func TestMembersByClusterCA(t *testing.T) {
	// With the cluster's CA (clmember --genca) a member serves and a
	// host connects by TLS with the certificate it issued itself; a host
	// without one is refused.
	l := layout.Layout{Root: t.TempDir()}
	if err := pki.WriteCA(l.EtcdCADir(), "c3", time.Now()); err != nil {
		t.Fatal(err)
	}
	host, err := HostTLS(l, "servera", "127.0.0.1")
	if err != nil || host == nil {
		t.Fatalf("HostTLS = %v, %v", host, err)
	}
	peer, client := "https://"+testbed.FreeLoopback(t), "https://"+testbed.FreeLoopback(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	m, err := etcdmember.Start(ctx, etcdmember.Config{Name: "servera", DataDir: l.EtcdDataDir(), PeerURL: peer, ClientURL: client,
		Peers: map[string]string{"servera": peer}, Cluster: "c3", TLS: &etcdmember.TLSFiles{CA: host.CA, Cert: host.Cert, Key: host.Key}})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	cfg := parse(t, `<membership mode="etcd"/>`, "servera", "serverb", "serverc")
	c, err := Client(cfg, []string{client}, 2*time.Second, host)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Put(ctx, Prefix(cfg)+"probe", "ok"); err != nil {
		t.Fatalf("put with the host's certificate: %v", err)
	}
	// A host of another cluster (another CA) is refused.
	o := layout.Layout{Root: t.TempDir()}
	pki.WriteCA(o.EtcdCADir(), "c4", time.Now())
	stranger, _ := HostTLS(o, "serverx", "127.0.0.1")
	if !refused(ctx, cfg, []string{client}, stranger) {
		t.Fatal("a host of another cluster's CA was admitted")
	}
	if h, err := HostTLS(layout.Layout{Root: t.TempDir()}, "servera", "127.0.0.1"); h != nil || err != nil {
		t.Fatalf("without a CA: %v, %v; want plain HTTP", h, err)
	}
}
