package appctl_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/linuxha-ng/linuxha/internal/testbed"
	"github.com/linuxha-ng/linuxha/pkg/appcmd"
	"github.com/linuxha-ng/linuxha/pkg/clstat"
	"github.com/linuxha-ng/linuxha/pkg/daemonapi"
	"github.com/linuxha-ng/linuxha/pkg/jsonout"
	"github.com/linuxha-ng/linuxha/pkg/volctl"
)

// jsonOf reads a command's --json output: one document, of schema, on
// standard output alone.
func jsonOf(t *testing.T, r testbed.Result, schema string, v any) {
	t.Helper()
	var head struct{ Schema string }
	if !jsonout.Valid([]byte(r.Stdout)) || json.Unmarshal([]byte(r.Stdout), &head) != nil || head.Schema != schema {
		t.Fatalf("want one %s document on stdout, got (exit %d):\n%s\nstderr:\n%s", schema, r.Code, r.Stdout, r.Stderr)
	}
	if err := json.Unmarshal([]byte(r.Stdout), v); err != nil {
		t.Fatal(err)
	}
}

// lemsConf is examples/apache/lems.local.xml with short intervals, so
// that the test sees each monitor act within seconds.
func lemsConf(t *testing.T) string {
	root, _ := testbed.RepoRoot()
	b, err := os.ReadFile(root + "/examples/apache/lems.local.xml")
	if err != nil {
		t.Fatal(err)
	}
	s := strings.ReplaceAll(string(b), "<interval>10</interval>", "<interval>1</interval>")
	return strings.ReplaceAll(s, "<interval>5</interval>", "<interval>1</interval>")
}

func procmonConf(t *testing.T) string {
	root, _ := testbed.RepoRoot()
	b, err := os.ReadFile(root + "/examples/apache/httpd.xml")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// §24 and §16 on the real apache2: cldaemon starts Lems with the
// application; procmon restarts a killed httpd and, past its restarts,
// asks cldaemon for a fail-over; flag files stop and resume a monitor;
// every lemsctl message works from the other node; a dead Lems is
// restarted; clhaltapp aborts it.
func TestLemsApache(t *testing.T) {
	needApache(t)
	tb := testbed.Up(t)
	buildApache(t, tb, apacheConf(t), [2]string{"lems.local.xml", lemsConf(t)}, [2]string{"httpd.xml", procmonConf(t)})
	if r := tb.Exec(t, "servera", "", "lems", "-A", "apache", "--check", "--file", "-"); r.Code != 0 ||
		!strings.Contains(r.Stdout, "Validated monitor entry httpd successfully.") ||
		!strings.Contains(r.Stdout, "Calculated a check interval of 0.5 seconds.") {
		t.Fatalf("lems --check: %d\n%s", r.Code, r.Output())
	}
	if r := tb.Exec(t, "servera", "", "clstartapp", "-A", "apache"); r.Code != 0 {
		t.Fatalf("clstartapp: %s", r.Output())
	}
	ctl := func(node, msg string) string {
		t.Helper()
		r := tb.Exec(t, node, "", "lemsctl", "-A", "apache", "--msg", msg)
		return strings.TrimSpace(r.Stdout + r.Stderr)
	}
	// clstat -A from serverb: the monitor sections come from servera's Lems.
	testbed.Eventually(t, 20*time.Second, "Lems started by cldaemon", func() bool {
		out := tb.Exec(t, "serverb", "", "clstat", "-A", "apache").Stdout
		return strings.Contains(out, "\tRunning\t0\tYes\n") &&
			strings.Contains(out, "Process Monitors\n\nName\tStatus\tRestarts\tCurrent\tReset at\nhttpd\tRunning\t3\t0\tN/A\n") &&
			strings.Contains(out, "Flag Check\tflag_check\tRunning\n") &&
			strings.Contains(out, "FS Monitor\tfsmon\tRunning\n")
	})
	if st := appStatus(t, tb, "servera"); !strings.HasPrefix(st, "STARTED,servera,1,") {
		t.Errorf("APP_STATUS monitor field (L7624): %q", st)
	}
	lemsLog := func() string { return tb.Sh(t, "servera", "cat /var/log/cluster/lems/lems-apache.log") }

	// Kill httpd: procmon restarts it and counts (L7310-7344).
	tb.Sh(t, "servera", "pkill -KILL apache2; true")
	testbed.Eventually(t, 20*time.Second, "procmon restart", func() bool {
		out, err := curl(tb)
		st := tb.Exec(t, "serverb", "", "clstat", "-A", "apache").Stdout
		return err == nil && out == "hello from linuxha\n" && strings.Contains(st, "httpd\tRunning\t3\t1\t")
	})
	tb.Sh(t, "servera", "grep -q 'Restart 1 of 3' /var/log/cluster/procmon-apache-httpd.log")

	// Flag files (L3185-3230).
	tb.Sh(t, "servera", "touch /etc/cluster/apache/flags/httpd")
	testbed.Eventually(t, 10*time.Second, "httpd stopped by its flag", func() bool {
		return strings.Contains(ctl("serverb", "GET_STAT httpd"), "httpd,0,")
	})
	if l := lemsLog(); !strings.Contains(l, "Monitor flag_check returned: 1 => [STOP httpd;]") ||
		!strings.Contains(l, "Check httpd has been stopped, (RC=1)") {
		t.Fatalf("Lems log:\n%s", l)
	}
	tb.Sh(t, "servera", "rm /etc/cluster/apache/flags/httpd")
	testbed.Eventually(t, 10*time.Second, "httpd resumed", func() bool {
		return !strings.Contains(ctl("serverb", "GET_STAT httpd"), "httpd,0,")
	})

	// Every message, from the other node (§16, L4284-4637).
	for _, c := range [][2]string{
		{"PAUSE httpd", "httpd PAUSED"},
		{"RESUME httpd", "httpd RESUMED (in 1 secs)"},
		{"PAUSE", "OK"},
		{"RESUME", "OK"},
		{"CMD httpd RESET", "OK"},
		{"CMD httpd MAXCOUNT 1", "OK"},
		{"VERBOSE ON", "OK"},
		{"LOGCYCLE 2", "OK"},
		{"REMOVE flag_check", "flag_check REMOVED"},
		{"INSTALL flag_check", "OK"},
		{"CMD flag_check X", "NOT_IMP"},
	} {
		if got := ctl("serverb", c[0]); got != c[1] {
			t.Errorf("lemsctl %q from serverb = %q; want %q", c[0], got, c[1])
		}
	}
	if v := ctl("serverb", "GET_VSTAT httpd"); !strings.Contains(v, "httpd,") || !strings.Contains(v, "<monitor-detail-start>\n1,0,0\n<monitor-detail-end>") {
		t.Errorf("GET_VSTAT httpd:\n%s", v)
	}
	tb.Sh(t, "servera", "test -s /var/log/cluster/lems/lems-apache.log.000")
	if l := lemsLog(); !strings.Contains(l, "*** INSTALL MODULE flag_check END ***") {
		t.Errorf("Lems log after INSTALL:\n%s", l)
	}

	// A dead Lems is restarted by cldaemon (L4637).
	if got := ctl("serverb", "ABORT"); got != "OK" {
		t.Fatalf("ABORT = %q", got)
	}
	testbed.Eventually(t, 20*time.Second, "Lems restarted", func() bool {
		return tb.Exec(t, "servera", "", "grep", "-q", "Lems for application apache is not running - restarting it.",
			"/var/log/cluster/cldaemon-cluster1.log").Code == 0 && strings.Contains(ctl("servera", "GET_STAT httpd"), "httpd,")
	})

	// With MAXCOUNT 1: one restart, then FAILOVER to cldaemon (L7085-7087).
	if got := ctl("servera", "CMD httpd MAXCOUNT 1"); got != "OK" {
		t.Fatalf("MAXCOUNT = %q", got)
	}
	tb.Sh(t, "servera", "pkill -KILL apache2; true")
	testbed.Eventually(t, 20*time.Second, "restart after the first kill", func() bool {
		_, err := curl(tb)
		return err == nil && strings.Contains(ctl("servera", "GET_VSTAT httpd"), "\n1,1,")
	})
	tb.Sh(t, "servera", "pkill -KILL apache2; true")
	testbed.Eventually(t, 20*time.Second, "fail-over request", func() bool {
		return tb.Exec(t, "servera", "", "grep", "-q", "Fail-over of application apache requested by Lems on servera.",
			"/var/log/cluster/cldaemon-cluster1.log").Code == 0
	})
	if l := lemsLog(); !strings.Contains(l, "Monitor httpd (RC=2) requests fail-over of application apache.") {
		t.Errorf("Lems log:\n%s", l)
	}

	// The fail-over itself (TestFailover has the details): apache moves
	// to serverb, whose Lems clhaltapp aborts there.
	testbed.Eventually(t, 60*time.Second, "apache on serverb", func() bool {
		return strings.HasPrefix(appStatus(t, tb, "serverb"), "STARTED,serverb,1")
	})
	r := tb.Exec(t, "serverb", "", "clhaltapp", "-A", "apache", "-V")
	if r.Code != 0 || !strings.Contains(r.Stdout, "Lems Daemon aborted.") {
		t.Fatalf("clhaltapp: %d\n%s", r.Code, r.Output())
	}
	time.Sleep(7 * time.Second) // longer than cldaemon's Lems check
	for _, n := range []string{"servera", "serverb"} {
		if ps := tb.Sh(t, n, "ps -eo args"); strings.Contains(ps, "lems-apache") || strings.Contains(ps, "apache2") {
			t.Fatalf("left running on %s after clhaltapp:\n%s", n, ps)
		}
	}
}

// §19 and §23: clrunapp from either node starts the application on its
// preferred node (servera) by running clstartapp there; --preview changes
// nothing; --node overrides; clform starts autostart applications.
func TestRunAppAndAutostart(t *testing.T) {
	needApache(t)
	tb := testbed.Up(t)
	buildApache(t, tb, apacheConf(t))
	r := tb.Exec(t, "serverb", "", "clrunapp", "-A", "apache", "--preview")
	if r.Code != 0 || !strings.Contains(r.Stdout, "Application apache depends on: <NONE>") ||
		!strings.Contains(r.Stdout, "Application apache will be started on node servera (preferred_node)") ||
		!strings.Contains(r.Stdout, "clstartapp --application apache --maxdelay 30 --verbose") ||
		!strings.Contains(r.Stdout, "Preview: would start apache on servera using command:") ||
		strings.Contains(r.Stdout, "Starting apache using command:") {
		t.Fatalf("clrunapp --preview (L5887: a summary of what would be done, saying so): %d\n%s", r.Code, r.Output())
	}
	if st := appStatus(t, tb, "servera"); !strings.HasPrefix(st, "DOWN") {
		t.Fatalf("--preview started something: %q", st)
	}
	var plan appcmd.RunDoc
	jsonOf(t, tb.Exec(t, "serverb", "", "clrunapp", "-A", "apache", "--preview", "--json"), appcmd.RunSchema, &plan)
	if len(plan.Steps) != 1 || plan.Steps[0].Action != "start" || *plan.Steps[0].Node != "servera" || plan.Steps[0].Why != "preferred_node" || plan.Steps[0].Started {
		t.Fatalf("clrunapp --preview --json: %+v", plan)
	}
	r = tb.Exec(t, "serverb", "", "clrunapp", "-A", "apache")
	if r.Code != 0 || !strings.Contains(r.Stdout, "Application apache started after") {
		t.Fatalf("clrunapp: %d\n%s", r.Code, r.Output())
	}
	// Every report as JSON (issue 19), from the node not running it.
	var st clstat.StatusDoc
	jsonOf(t, tb.Exec(t, "serverb", "", "clstat", "--json"), clstat.StatusSchema, &st)
	if len(st.Applications) != 1 || st.Applications[0].Node == nil || *st.Applications[0].Node != "servera" || st.Applications[0].RunningSeconds == nil {
		t.Errorf("clstat --json: %+v", st)
	}
	var app clstat.AppDoc
	jsonOf(t, tb.Exec(t, "serverb", "", "clstat", "-A", "apache", "--json"), clstat.AppSchema, &app)
	if app.State != "STARTED" || len(app.FileSystems) == 0 {
		t.Errorf("clstat -A apache --json: %+v", app)
	}
	var reply daemonapi.ReplyDoc
	jsonOf(t, tb.Exec(t, "serverb", "", "cldaemonctl", "--msg", "APP_LIST", "--json"), daemonapi.ReplySchema, &reply)
	if reply.Error != nil || reply.Daemon != "serverb" {
		t.Errorf("cldaemonctl --json: %+v", reply)
	}
	var vols volctl.StatusDoc
	jsonOf(t, tb.Exec(t, "servera", "", "drbd_tool", "-A", "apache", "--action", "status", "--json"), volctl.StatusSchema, &vols)
	if vols.Replication != "filesync" || len(vols.Volumes) == 0 || *vols.Volumes[0].Syncer != "running" {
		t.Errorf("drbd_tool status --json: %+v", vols)
	}
	var failed jsonout.Error
	jsonOf(t, tb.Exec(t, "serverb", "", "clstat", "-A", "nosuch", "--json"), jsonout.ErrorSchema, &failed)
	if failed.ExitCode == 0 || failed.Command != "clstat" {
		t.Errorf("a failure in JSON mode: %+v", failed)
	}
	if st := appStatus(t, tb, "serverb"); !strings.HasPrefix(st, "STARTED,servera") {
		t.Fatalf("APP_STATUS: %q", st)
	}
	if got, err := curl(tb); err != nil || got != "hello from linuxha\n" {
		t.Fatalf("curl: %q %v", got, err)
	}
	if r := tb.Exec(t, "servera", "", "clrunapp", "-A", "apache"); r.Code != 0 || !strings.Contains(r.Stdout, "Application apache is already STARTED on node servera.") {
		t.Fatalf("second clrunapp: %d\n%s", r.Code, r.Output())
	}
	jsonOf(t, tb.Exec(t, "servera", "", "clrunapp", "-A", "apache", "--json"), appcmd.RunSchema, &plan)
	if len(plan.Steps) != 1 || plan.Steps[0].Action != "none" || plan.Steps[0].Why != "already STARTED" {
		t.Fatalf("clrunapp --json of a running application: %+v", plan)
	}
	if r := tb.Exec(t, "servera", "", "clhaltapp", "-A", "apache"); r.Code != 0 {
		t.Fatalf("clhaltapp: %s", r.Output())
	}
	r = tb.Exec(t, "servera", "", "clrunapp", "-A", "apache", "--node", "serverb")
	if r.Code != 0 || !strings.Contains(r.Stdout, "will be started on node serverb (--node)") {
		t.Fatalf("clrunapp --node serverb: %d\n%s", r.Code, r.Output())
	}
	if st := appStatus(t, tb, "servera"); !strings.HasPrefix(st, "STARTED,serverb") {
		t.Fatalf("APP_STATUS: %q", st)
	}
	if got, err := curl(tb); err != nil || got != "hello from linuxha\n" {
		t.Fatalf("curl after the start on serverb: %q %v", got, err)
	}
	if r := tb.Exec(t, "serverb", "", "clhaltapp", "-A", "apache"); r.Code != 0 {
		t.Fatalf("clhaltapp on serverb: %s", r.Output())
	}
	// A cluster formed again starts its autostart application (L5897).
	if r := tb.Exec(t, "servera", "", "clhalt"); r.Code != 0 {
		t.Fatalf("clhalt: %s", r.Output())
	}
	if r := tb.Exec(t, "servera", "", "clform"); r.Code != 0 || !strings.Contains(r.Output(), "Started autostart application apache.") {
		t.Fatalf("clform: %d\n%s", r.Code, r.Output())
	}
	if st := appStatus(t, tb, "serverb"); !strings.HasPrefix(st, "STARTED,servera") {
		t.Fatalf("APP_STATUS after clform: %q", st)
	}
	if got, err := curl(tb); err != nil || got != "hello from linuxha\n" {
		t.Fatalf("curl after autostart: %q %v", got, err)
	}

	// §13.3: a node with a running application is not removed unless
	// --action says what to do; failover moves it first (L3519-3531).
	r = tb.Exec(t, "serverb", "", "clhalt", "--node", "servera")
	if r.Code == 0 || !strings.Contains(r.Output(), "Unable to remove node servera from cluster - it has") {
		t.Fatalf("clhalt --node servera: %d\n%s", r.Code, r.Output())
	}
	r = tb.Exec(t, "serverb", "", "clhalt", "--node", "servera", "--action", "failover")
	for _, want := range []string{"Halting application apache on servera...", "Application apache starting on node serverb...",
		"Application apache started in", "Aborting cluster daemon on servera...", "Cluster Daemon halted on servera."} {
		if r.Code != 0 || !strings.Contains(r.Stdout, want) {
			t.Fatalf("clhalt --node servera --action failover lacks %q: %d\n%s", want, r.Code, r.Output())
		}
	}
	if got, err := curl(tb); err != nil || got != "hello from linuxha\n" {
		t.Fatalf("curl after clhalt --action failover: %q %v", got, err)
	}
	if st := appStatus(t, tb, "serverb"); !strings.HasPrefix(st, "STARTED,serverb") {
		t.Fatalf("APP_STATUS after clhalt --action failover: %q", st)
	}
	// Issue 19: shutdown's clhalt --local --action move (the ExecStop of
	// linuxha-cldaemon.service) fails apache over while the other node is
	// in the cluster, and halts it when it is not.
	if r := tb.Exec(t, "servera", "", "clform", "--join"); r.Code != 0 {
		t.Fatalf("clform --join: %s", r.Output())
	}
	r = tb.Exec(t, "serverb", "", "clhalt", "--local", "--action", "move")
	for _, want := range []string{"Halting application apache on serverb...", "Application apache starting on node servera...",
		"Application apache started in", "Cluster Daemon halted on serverb."} {
		if r.Code != 0 || !strings.Contains(r.Stdout, want) {
			t.Fatalf("clhalt --local --action move on serverb lacks %q: %d\n%s", want, r.Code, r.Output())
		}
	}
	if st := appStatus(t, tb, "servera"); !strings.HasPrefix(st, "STARTED,servera") {
		t.Fatalf("APP_STATUS after serverb moved apache off: %q", st)
	}
	if got, err := curl(tb); err != nil || got != "hello from linuxha\n" {
		t.Fatalf("curl after the move: %q %v", got, err)
	}
	r = tb.Exec(t, "servera", "", "clhalt", "--local", "--action", "move")
	if r.Code != 0 || !strings.Contains(r.Stdout, "Halting application apache on servera...") ||
		strings.Contains(r.Stdout, "starting on node") || !strings.Contains(r.Stdout, "Cluster Daemon halted on servera.") {
		t.Fatalf("clhalt --local --action move on the last node: %d\n%s", r.Code, r.Output())
	}
	if ps := tb.Sh(t, "servera", "ps -eo args"); strings.Contains(ps, "apache2") || strings.Contains(ps, "cldaemon") {
		t.Fatalf("left running by the last node's move:\n%s", ps)
	}
	if r := tb.Exec(t, "servera", "", "clform"); r.Code != 0 || !strings.Contains(r.Output(), "Started autostart application apache.") {
		t.Fatalf("clform again: %d\n%s", r.Code, r.Output())
	}

	// §13.2: --force halts the applications, then the cluster.
	if r := tb.Exec(t, "serverb", "", "clhalt"); r.Code == 0 || !strings.Contains(r.Output(), "Unable to stop cluster - 1 application is still running") {
		t.Fatalf("clhalt with apache running: %d\n%s", r.Code, r.Output())
	}
	r = tb.Exec(t, "serverb", "", "clhalt", "--force")
	for _, want := range []string{`Attempting to stop application "apache" on servera...`, `Application "apache" has been halted successfully.`,
		"Cluster daemons aborted - cluster cluster1 is DOWN."} {
		if r.Code != 0 || !strings.Contains(r.Stdout, want) {
			t.Fatalf("clhalt --force lacks %q: %d\n%s", want, r.Code, r.Output())
		}
	}
	for _, n := range []string{"servera", "serverb"} {
		if ps := tb.Sh(t, n, "ps -eo args"); strings.Contains(ps, "apache2") || strings.Contains(ps, "cldaemon") {
			t.Fatalf("%s: left running after clhalt --force:\n%s", n, ps)
		}
	}
}
