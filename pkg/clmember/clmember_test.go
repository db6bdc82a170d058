package clmember

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.etcd.io/etcd/api/v3/mvccpb"

	"github.com/linuxha-ng/linuxha/internal/testbed"
	"github.com/linuxha-ng/linuxha/pkg/config"
	"github.com/linuxha-ng/linuxha/pkg/layout"
	"github.com/linuxha-ng/linuxha/pkg/logx"
)

func parse(t *testing.T, membership string, nodes ...string) *config.Cluster {
	t.Helper()
	cfg, _, err := config.ParseCluster("clconf.xml", []byte(testbed.EtcdClconf(nodes, membership)))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

var addrs = map[string]string{"servera": "10.0.0.1", "serverb": "10.0.0.2", "serverc": "10.0.0.3"}

func resolve(n string) (string, error) {
	if a, ok := addrs[n]; ok {
		return a, nil
	}
	return "", fmt.Errorf("unknown host")
}

func TestMembersAndEndpoints(t *testing.T) {
	cfg := parse(t, `<membership mode="etcd"/>`, "serverc", "servera", "serverb")
	ms, err := Members(cfg, resolve, false)
	if err != nil || len(ms) != 3 || ms[0].Name != "servera" || ms[2].PeerURL() != "http://10.0.0.3:2380" {
		t.Fatalf("Members = %+v, %v", ms, err)
	}
	if eps := Endpoints(cfg, ms, "serverb"); strings.Join(eps, " ") != "http://10.0.0.2:2379 http://10.0.0.1:2379 http://10.0.0.3:2379" {
		t.Errorf("Endpoints = %v; want this host's first", eps)
	}
	// Claims go through the host's own member only: it answers only
	// through its quorum.
	if eps := ownerEndpoints(cfg, ms, "serverb"); len(eps) != 1 || eps[0] != "http://10.0.0.2:2379" {
		t.Errorf("ownerEndpoints = %v", eps)
	}
	w := parse(t, `<membership mode="etcd" variant="witness"><witness name="tie" address="10.0.0.9"/></membership>`, "servera", "serverb")
	ms, err = Members(w, resolve, true)
	if err != nil || len(ms) != 3 || ms[2].Name != "tie" || ms[2].ClientURL() != "https://10.0.0.9:2379" {
		t.Fatalf("Members with a witness = %+v, %v", ms, err)
	}
	x := parse(t, `<membership mode="etcd" variant="external"><endpoint url="https://e1:2379"/><tls ca="/a" cert="/b" key="/c"/></membership>`, "servera", "serverb")
	ms, err = Members(x, resolve, false)
	if err != nil || len(ms) != 0 || strings.Join(ownerEndpoints(x, ms, "servera"), " ") != "https://e1:2379" {
		t.Fatalf("external: %+v, %v, %v", ms, err, ownerEndpoints(x, ms, "servera"))
	}
	if _, err := Members(parse(t, "", "servera", "serverb"), resolve, false); err == nil || !strings.Contains(err.Error(), `clmember serves mode="etcd" only`) {
		t.Errorf("heartbeat mode: %v", err)
	}
	if _, err := Members(parse(t, `<membership mode="etcd"/>`, "servera", "serverb", "serverd"), resolve, false); err == nil || !strings.Contains(err.Error(), "node serverd") {
		t.Errorf("unresolvable node: %v", err)
	}
}

func TestApplicationsFitTheLease(t *testing.T) {
	// An application whose stop cannot end before its lease could lapse
	// is refused at its line; one without a stop time that fits is
	// claimed; one with storage is left alone (not run in this mode yet).
	l := layout.Layout{Root: t.TempDir()}
	write := func(app, body string) {
		os.MkdirAll(l.AppDir(app), 0o755)
		os.WriteFile(l.AppConf(app), []byte(`<appconf><global><version>0.2</version><name>`+app+`</name></global>`+body+`</appconf>`), 0o644)
	}
	write("web", `<application><startscript>/bin/true</startscript><stopscript>/bin/true</stopscript>
<maxstoptime>1</maxstoptime></application>`)
	write("data", `<vg><name>datavg</name><type>filesystems</type></vg><application><startscript>/bin/true</startscript>
<stopscript>/bin/true</stopscript><maxstoptime>1</maxstoptime></application>`)
	d := &Daemon{L: l, Cluster: parse(t, `<membership mode="etcd" ttl="3s"/>`, "servera", "serverb", "serverc"), Log: logx.New(os.Stderr)}
	apps, err := d.applications()
	if err != nil || len(apps) != 1 || apps[0].Name != "web" {
		t.Fatalf("applications = %v, %v; want web alone", apps, err)
	}
	write("slow", "<application><startscript>/bin/true</startscript><stopscript>/bin/true</stopscript>\n<maxstoptime>3</maxstoptime></application>")
	_, err = d.applications()
	want := filepath.Join(l.AppDir("slow"), "appconf.xml") + ":2: application/maxstoptime: 3s, with a margin of 500ms and a keep-alive period of 300ms, must be less than the lease TTL"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("applications with a slow stop: %v; want %q", err, want)
	}
}

func TestOwners(t *testing.T) {
	// The election's leader is its oldest key; an application whose
	// election is empty has no owner.
	p := "/linuxha/c3/"
	kv := func(k, v string, rev int64) *mvccpb.KeyValue {
		return &mvccpb.KeyValue{Key: []byte(p + k), Value: []byte(v), CreateRevision: rev}
	}
	got := owners(p, []*mvccpb.KeyValue{
		kv("apps/web/owner/694d9a1b2c3d4e01", "serverb", 12),
		kv("apps/web/owner/694d9a1b2c3d4e02", "servera", 9),
		kv("apps/db/state", "STOPPED", 3),
		kv("apps/db/owner/694d9a1b2c3d4e03", "serverc", 15),
		kv("apps/mail/state", "STOPPED", 4),
	})
	want := []Owner{{App: "db", Node: "serverc", Token: 15}, {App: "mail"}, {App: "web", Node: "servera", Token: 9}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("owners = %v; want %v", got, want)
	}
}
