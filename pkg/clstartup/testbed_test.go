package clstartup_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/linuxha-ng/linuxha/internal/testbed"
)

const startupXML = `<?xml version="1.0" standalone="yes"?>
<clstartup_config>
  <allow_single_node>%SINGLE%</allow_single_node>
  <background_startup>no</background_startup>
  <join_existing_cluster>yes</join_existing_cluster>
  <autostart_apps>yes</autostart_apps>
  <timeout>%TIMEOUT%</timeout>
</clstartup_config>
`

// Both nodes boot together and form; a node that reboots joins; alone, a
// node forms a single-node cluster when allow_single_node is yes (L2743-2748).
func TestClstartup(t *testing.T) {
	tb := testbed.Up(t)
	tb.WriteFile(t, "servera", "/etc/cluster/clstartup.xml", strings.NewReplacer("%SINGLE%", "no", "%TIMEOUT%", "10").Replace(startupXML), 0o644)
	tb.BuildCluster(t, testbed.Timings{Keepalive: "0.5", Warn: "1", Dead: "2", ClusterForm: "30"})
	if got := tb.Sh(t, "serverb", "cat /etc/cluster/clstartup.xml"); !strings.Contains(got, "allow_single_node") {
		t.Fatal("clbuild did not copy clstartup.xml to serverb")
	}
	var wg sync.WaitGroup
	results := map[string]testbed.Result{}
	var mu sync.Mutex
	for _, n := range []string{"servera", "serverb"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := tb.Exec(t, n, "", "clstartup")
			mu.Lock()
			results[n] = r
			mu.Unlock()
		}()
	}
	wg.Wait()
	for n, r := range results {
		if r.Code != 0 || !strings.Contains(r.Stdout, "Cluster cluster1 is UP on "+n) {
			t.Fatalf("clstartup on %s: %d\n%s", n, r.Code, r.Output())
		}
	}
	testbed.Eventually(t, 5*time.Second, "both UP", func() bool {
		return strings.Contains(tb.Exec(t, "servera", "", "clstat").Stdout, "servera\tUP\nserverb\tUP")
	})

	// serverb reboots and joins the running cluster.
	tb.Op(t, "crash", "serverb")
	testbed.Eventually(t, 5*time.Second, "serverb DOWN", func() bool { return tb.NodeState(t, "servera", "serverb") == "DOWN" })
	tb.Op(t, "start", "serverb")
	r := tb.Exec(t, "serverb", "", "clstartup")
	if r.Code != 0 || !strings.Contains(r.Stdout, "Cluster cluster1 is running on servera - joining it.") {
		t.Fatalf("rejoin: %d\n%s", r.Code, r.Output())
	}
	testbed.Eventually(t, 5*time.Second, "serverb UP", func() bool { return tb.NodeState(t, "servera", "serverb") == "UP" })

	// Alone, with allow_single_node no, forming fails; with yes it forms.
	if r := tb.Exec(t, "serverb", "", "clhalt"); r.Code != 0 {
		t.Fatalf("clhalt: %s", r.Output())
	}
	tb.Op(t, "crash", "serverb")
	tb.WriteFile(t, "servera", "/etc/cluster/clstartup.xml", strings.NewReplacer("%SINGLE%", "no", "%TIMEOUT%", "2").Replace(startupXML), 0o644)
	if r := tb.Exec(t, "servera", "", "clstartup"); r.Code == 0 {
		t.Fatalf("formed alone with allow_single_node no:\n%s", r.Output())
	}
	tb.WriteFile(t, "servera", "/etc/cluster/clstartup.xml", strings.NewReplacer("%SINGLE%", "yes", "%TIMEOUT%", "2").Replace(startupXML), 0o644)
	r = tb.Exec(t, "servera", "", "clstartup")
	if r.Code != 0 || !strings.Contains(r.Stdout, "Cluster cluster1 is UP on servera (serverb is DOWN)") {
		t.Fatalf("single node: %d\n%s", r.Code, r.Output())
	}
}
