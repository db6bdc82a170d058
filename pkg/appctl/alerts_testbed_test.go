package appctl_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/linuxha-ng/linuxha/internal/testbed"
)

// Issue 19, alerts: Pacemaker's own alert_file.sh.sample, run unchanged
// with Pacemaker's alert environment, records a crash fail-over on the
// survivor: servera lost, apache taken over there (once, not also as a
// plain start), and later halted. A second agent that hangs (killed at
// its time limit) does not slow the takeover.
func TestAlerts(t *testing.T) {
	needApache(t)
	const sample = "/usr/share/pacemaker/alerts/alert_file.sh.sample"
	if _, err := os.Stat(sample); err != nil {
		t.Skip("Pacemaker's sample agents are not installed (scripts/deps test installs pacemaker-common)")
	}
	tb := testbed.Up(t)
	alerts := `<alerts period="4h">
  <agent path="` + sample + `" recipient="/var/log/cluster/alerts.log" timeout="10"/>
  <agent path="/etc/cluster/hang.sh" timeout="60"/>
</alerts>
`
	for _, n := range []string{"servera", "serverb"} {
		tb.WriteFile(t, n, "/etc/cluster/hang.sh", "#!/bin/sh\nexec sleep 600\n", 0o755)
	}
	buildApacheTimed(t, tb, testbed.Timings{Keepalive: "0.2", Warn: "0.6", Dead: "1", ClusterForm: "10", Sections: alerts}, apacheConf(t))
	if r := tb.Exec(t, "serverb", "", "clrunapp", "-A", "apache"); r.Code != 0 {
		t.Fatalf("clrunapp: %s", r.Output())
	}
	tb.Op(t, "crash", "servera")
	crashed := time.Now()
	testbed.Eventually(t, 30*time.Second, "apache taken over by serverb", func() bool {
		got, err := curl(tb)
		return err == nil && got == "hello from linuxha\n"
	})
	// Within 30 s: an agent run in line would hold the takeover for its
	// 60 s limit.
	t.Logf("takeover with a hanging alert agent answered in %v", time.Since(crashed).Round(10*time.Millisecond))
	testbed.Eventually(t, 15*time.Second, "the alerts recorded by Pacemaker's sample agent", func() bool {
		l := tb.Exec(t, "serverb", "", "cat", "/var/log/cluster/alerts.log").Stdout
		return strings.Contains(l, "Node 'servera' is now 'lost'") &&
			strings.Contains(l, "Resource operation 'start' for 'apache' on 'serverb': taken over from servera")
	})
	// The takeover is told once, as a takeover: its own start claims
	// (clstartapp --takeover) send no "started" of their own.
	if l := tb.Exec(t, "serverb", "", "cat", "/var/log/cluster/alerts.log").Stdout; strings.Contains(l, "on 'serverb': started") {
		t.Errorf("the takeover was also alerted as a start:\n%s", l)
	}
	// An administrator's halt is a stop on the node that ran it.
	if r := tb.Exec(t, "serverb", "", "clhaltapp", "-A", "apache"); r.Code != 0 {
		t.Fatalf("clhaltapp: %s", r.Output())
	}
	testbed.Eventually(t, 15*time.Second, "the stop alerted", func() bool {
		return strings.Contains(tb.Exec(t, "serverb", "", "cat", "/var/log/cluster/alerts.log").Stdout,
			"Resource operation 'stop' for 'apache' on 'serverb': stopped")
	})
	if l := tb.Sh(t, "serverb", "cat /var/log/cluster/cldaemon-cluster1.log"); strings.Contains(l, "Alert agent "+sample) {
		t.Errorf("the sample agent failed:\n%s", l)
	}
}
