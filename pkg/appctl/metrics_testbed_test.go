package appctl_test

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/linuxha-ng/linuxha/internal/testbed"
)

// Issue 19: cldaemon's Prometheus metrics (global/metrics, loopback),
// scraped on serverb before and after a card cut and a crash fail-over:
// node and path states, the application's state and node, its volumes
// from the node running it, its Lems' monitors and procmon's restarts,
// the takeover counter; promtool check metrics passes on what it serves.
func TestMetrics(t *testing.T) {
	needApache(t)
	tb := testbed.Up(t)
	buildApacheWith(t, tb, "<metrics>9901</metrics>", apacheConf(t), [2]string{"lems.local.xml", lemsConf(t)}, [2]string{"httpd.xml", procmonConf(t)})
	if r := tb.Exec(t, "serverb", "", "clrunapp", "-A", "apache"); r.Code != 0 {
		t.Fatalf("clrunapp: %s", r.Output())
	}
	scrapeOn := func(node string) string {
		return tb.Exec(t, node, "", "curl", "-s", "--max-time", "3", "http://127.0.0.1:9901/metrics").Stdout
	}
	scrape := func() string { return scrapeOn("serverb") }
	showsOn := func(node, what string, lines ...string) {
		t.Helper()
		testbed.Eventually(t, 20*time.Second, what+" on "+node, func() bool {
			m := scrapeOn(node)
			for _, l := range lines {
				if !strings.Contains(m, "\n"+l+"\n") {
					return false
				}
			}
			return true
		})
	}
	shows := func(what string, lines ...string) { t.Helper(); showsOn("serverb", what, lines...) }
	// The node running an application reports its volumes.
	showsOn("servera", "apache's volumes in step",
		`linuxha_volume_state{application="apache",mount="/apache/docs",state="Sync",type="filesync"} 1`,
		`linuxha_volume_valid{application="apache",mount="/apache/docs",valid="both"} 1`,
		`linuxha_volume_sync_percent{application="apache",mount="/apache/docs"} 100`)
	// Its Lems: the monitors, their last results, procmon's restarts
	// (one after apache2 is killed and restarted).
	showsOn("servera", "apache's monitors",
		`linuxha_lems_up{application="apache"} 1`,
		`linuxha_monitor_up{application="apache",module="procmon",monitor="httpd"} 1`,
		`linuxha_monitor_last_result{application="apache",monitor="httpd"} 0`,
		`linuxha_monitor_restart_limit{application="apache",monitor="httpd"} 3`,
		`linuxha_monitor_restarts{application="apache",monitor="httpd"} 0`)
	tb.Sh(t, "servera", "pkill -KILL apache2; true")
	showsOn("servera", "httpd restarted once", `linuxha_monitor_restarts{application="apache",monitor="httpd"} 1`)
	// procmon restarts within its check and answers 0: a restart is no
	// failed check.
	if m := scrapeOn("servera"); !strings.Contains(m, `linuxha_monitor_failed_checks_total{application="apache",monitor="httpd"} 0`) ||
		!strings.Contains(m, `linuxha_monitor_checks_total{application="apache",monitor="httpd"} `) {
		t.Errorf("the checks are not counted:\n%s", m)
	}
	shows("the cluster up, apache on servera",
		`linuxha_node_state{node="servera",state="UP"} 1`,
		`linuxha_node_state{node="serverb",state="UP"} 1`,
		`linuxha_heartbeat_path_up{network="drbd"} 1`,
		`linuxha_heartbeat_path_up{network="public"} 1`,
		`linuxha_application_state{application="apache",node="servera",state="STARTED"} 1`,
		`linuxha_application_stale_flags{application="apache"} 0`,
		`linuxha_takeovers_total 0`)
	if _, err := exec.LookPath("promtool"); err == nil {
		c := exec.Command("promtool", "check", "metrics")
		c.Stdin = strings.NewReader(scrape())
		if out, err := c.CombinedOutput(); err != nil {
			t.Errorf("promtool check metrics: %v\n%s", err, out)
		}
	} else {
		t.Log("promtool not installed (scripts/deps test installs prometheus): format not checked")
	}

	tb.Op(t, "cut", "servera", "eth2")
	shows("the drbd path down", `linuxha_heartbeat_path_up{network="drbd"} 0`, `linuxha_node_state{node="servera",state="UP"} 1`)
	tb.Op(t, "restore", "servera", "eth2")
	shows("the drbd path back", `linuxha_heartbeat_path_up{network="drbd"} 1`)

	tb.Op(t, "crash", "servera")
	shows("apache taken over",
		`linuxha_node_state{node="servera",state="DOWN"} 1`,
		`linuxha_application_state{application="apache",node="serverb",state="STARTED"} 1`,
		`linuxha_takeovers_total 1`,
		`linuxha_volume_valid{application="apache",mount="/apache/docs",valid="local"} 1`)
	if r := tb.Exec(t, "serverb", "", "clhaltapp", "-A", "apache"); r.Code != 0 {
		t.Fatalf("clhaltapp: %s", r.Output())
	}
}
