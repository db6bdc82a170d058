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
}

// BuildCluster writes the example clconf.xml on servera with filesync
// replication (no DRBD here) and the given timings, and runs clbuild.
func (b *Bed) BuildCluster(t testing.TB, tm Timings) {
	t.Helper()
	root, _ := RepoRoot()
	data, err := os.ReadFile(root + "/examples/clconf.xml")
	if err != nil {
		t.Fatal(err)
	}
	conf := strings.NewReplacer(
		"<datadetail>drbd</datadetail>", "<datadetail>filesync</datadetail>",
		"<keepalive>3</keepalive>", "<keepalive>"+tm.Keepalive+"</keepalive>",
		"<warn>7</warn>", "<warn>"+tm.Warn+"</warn>",
		"<dead>12</dead>", "<dead>"+tm.Dead+"</dead>",
		"<clusterform>300</clusterform>", "<clusterform>"+tm.ClusterForm+"</clusterform>",
		"</global>", tm.Global+"</global>",
	).Replace(string(data))
	b.WriteFile(t, "servera", "/etc/cluster/clconf.xml", conf, 0o600)
	if r := b.Exec(t, "servera", "", "clbuild"); r.Code != 0 {
		t.Fatalf("clbuild: %s", r.Output())
	}
}

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
	r := b.Exec(t, node, "", "cldaemonctl", "--node", node, "--timeout", "1s", "--msg", "GET_NODE_STATE node="+of)
	if r.Code != 0 {
		return ""
	}
	return strings.TrimSpace(r.Stdout)
}
