package testbed

import (
	"os"
	"strings"
	"testing"
	"time"
)

// Timings replaces the example's timings section.
type Timings struct {
	Keepalive, Warn, Dead, ClusterForm string
	Global                             string // more elements for <global>, such as <fence>
	Sections                           string // more sections of <clconf>, such as <alerts>
}

// BuildCluster writes the example clconf.xml on servera with filesync
// replication (no DRBD here) and the given timings, and runs clbuild.
func (b *Bed) BuildCluster(t testing.TB, tm Timings) {
	t.Helper()
	b.WriteClconf(t, tm)
	if r := b.Exec(t, "servera", "", "clbuild"); r.Code != 0 {
		t.Fatalf("clbuild: %s", r.Output())
	}
}

// FormCluster builds the cluster as BuildCluster does and forms it with
// clform on servera, which returns once both nodes are UP.
func (b *Bed) FormCluster(t testing.TB, tm Timings) {
	t.Helper()
	b.BuildCluster(t, tm)
	if r := b.Exec(t, "servera", "", "clform"); r.Code != 0 {
		t.Fatalf("clform: %s", r.Output())
	}
}

// WriteClconf writes the example clconf.xml on servera with filesync
// replication and the given timings.
func (b *Bed) WriteClconf(t testing.TB, tm Timings) {
	t.Helper()
	root, _ := RepoRoot()
	data, err := os.ReadFile(root + "/examples/clconf.xml")
	if err != nil {
		t.Fatal(err)
	}
	conf := strings.NewReplacer(
		ExampleKey, Key,
		"<datadetail>drbd</datadetail>", "<datadetail>filesync</datadetail>",
		"<keepalive>3</keepalive>", "<keepalive>"+tm.Keepalive+"</keepalive>",
		"<warn>7</warn>", "<warn>"+tm.Warn+"</warn>",
		"<dead>12</dead>", "<dead>"+tm.Dead+"</dead>",
		"<clusterform>300</clusterform>", "<clusterform>"+tm.ClusterForm+"</clusterform>",
		"</global>", tm.Global+"</global>",
		"</clconf>", tm.Sections+"</clconf>",
		"<name>servera</name>", "<name>"+b.NodeName("servera")+"</name>",
		"<name>serverb</name>", "<name>"+b.NodeName("serverb")+"</name>",
	).Replace(string(data))
	b.WriteFile(t, "servera", "/etc/cluster/clconf.xml", conf, 0o600)
}

// ExampleKey is the placeholder key of examples/clconf.xml, which
// clbuild refuses; Key is the testbeds' key in its place (random once,
// 256 bits, as 'clbuild --genkey' writes).
const (
	ExampleKey = "<key>REPLACE-with-clbuild-genkey</key>"
	Key        = "<key>q3Vb8nT0xK2mW7pL5sR9yC4fH1jD6gZeUaNvBiOoXw_</key>"
)

// Eventually polls cond until it holds or the timeout passes.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("timed out after %v waiting for %s", timeout, what)
}

// NodeState asks node's daemon for of's state ("" when it does not answer).
func (b *Bed) NodeState(t testing.TB, node, of string) string {
	r := b.Exec(t, node, "", "cldaemonctl", "--node", b.NodeName(node), "--timeout", "1s", "--msg", "GET_NODE_STATE node="+of)
	if r.Code != 0 {
		return ""
	}
	return strings.TrimSpace(r.Stdout)
}

// ApacheFiles writes the examples' apache application on node: conf as
// /etc/cluster/apache/appconf.xml, more files of /etc/cluster/apache
// (name, content), the admin files of examples/apache/admin under
// /apache/admin, and a page on the docs directory.
func (b *Bed) ApacheFiles(t testing.TB, node, conf string, appFiles ...[2]string) {
	t.Helper()
	root, _ := RepoRoot()
	b.WriteFile(t, node, "/etc/cluster/apache/appconf.xml", conf, 0o644)
	for _, f := range appFiles {
		b.WriteFile(t, node, "/etc/cluster/apache/"+f[0], f[1], 0o644)
	}
	for _, f := range []string{"conf/httpd.conf", "scripts/startapp", "scripts/shutdown"} {
		data, err := os.ReadFile(root + "/examples/apache/admin/" + f)
		if err != nil {
			t.Fatal(err)
		}
		mode := os.FileMode(0o644)
		if strings.HasPrefix(f, "scripts/") {
			mode = 0o755
		}
		b.WriteFile(t, node, "/apache/admin/"+f, string(data), mode)
	}
	b.Sh(t, node, "mkdir -p /apache/docs /apache/logs && echo 'hello from linuxha' > /apache/docs/index.html")
}
