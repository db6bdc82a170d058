package appctl_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/linuxha-ng/linuxha/internal/testbed"
)

// resourcesXML are the members the test adds to the apache application:
// each of the DRCM kinds that needs no server (seed 000) and Debian's
// ocf:heartbeat:Dummy, watched every second.
const resourcesXML = `
  <resources>
    <crontab name="jobs" template="/etc/cluster/apache/jobs"/>
    <service name="lsb" service="lhatest" interval="1"/>
    <user name="worker" user="lhaworker:users" start="worker start" stop="worker stop"
          ensure="worker status" interval="1" restarts="1"/>
    <ocf name="dummy" agent="ocf:heartbeat:Dummy" interval="1"/>
  </resources>
</appconf>`

// The user application: a loop under the unprivileged user, started by
// name from ~/bin, which only the user's login environment puts on PATH
// (Debian's /etc/skel/.profile; seed 000: "the user environment will be
// sourced").
const workerScript = `#!/bin/sh
pid=$HOME/worker.pid
case $1 in
start)  setsid sh -c 'exec sleep 100000' </dev/null >/dev/null 2>&1 & echo $! > $pid ;;
stop)   [ -f $pid ] && kill $(cat $pid) 2>/dev/null; rm -f $pid; exit 0 ;;
status) [ -f $pid ] && kill -0 $(cat $pid) 2>/dev/null ;;
esac
`

// An LSB init script, run through service(8) as in a node without
// systemd.
const initScript = `#!/bin/sh
pid=/run/lhatest.pid
case $1 in
start)  [ -f $pid ] && kill -0 $(cat $pid) 2>/dev/null && exit 0
        setsid sleep 100000 </dev/null >/dev/null 2>&1 & echo $! > $pid; exit 0 ;;
stop)   [ -f $pid ] && kill $(cat $pid) 2>/dev/null; rm -f $pid; exit 0 ;;
status) [ -f $pid ] || exit 3; kill -0 $(cat $pid) 2>/dev/null && exit 0; exit 1 ;;
*)      exit 2 ;;
esac
`

func needPackages(t *testing.T, files ...string) {
	t.Helper()
	for _, f := range files {
		if _, err := os.Stat(f); err != nil {
			t.Skipf("%s is not installed (make test installs it)", f)
		}
	}
}

// Issue 22 on real components: the apache application with a crontab
// run by the real cron, an LSB service, a user application with an
// ensure script and Debian's Dummy OCF agent. clbuildapp --check refuses
// a user missing on the other node; clstartapp starts the members in
// order after the data and before the start script; Lems restarts a
// killed user application and a stopped OCF resource, and past the
// restarts fails the application over; the cron job then runs on the
// other node only; clhaltapp stops the members in reverse.
func TestResources(t *testing.T) {
	needApache(t)
	needPackages(t, "/usr/sbin/cron", "/usr/lib/ocf/resource.d/heartbeat/Dummy")
	tb := testbed.Up(t)
	tb.BuildCluster(t, testbed.Timings{Keepalive: "0.2", Warn: "0.6", Dead: "1", ClusterForm: "10"})
	if r := tb.Exec(t, "servera", "", "clform"); r.Code != 0 {
		t.Fatalf("clform: %s", r.Output())
	}
	conf := strings.Replace(apacheConf(t), "</appconf>", resourcesXML, 1)
	tb.ApacheFiles(t, "servera", conf, [2]string{"lems.local.xml", lemsConf(t)}, [2]string{"httpd.xml", procmonConf(t)},
		[2]string{"jobs", "* * * * * root hostname >> /var/tmp/cronjob.log\n"})
	for _, n := range []string{"servera", "serverb"} {
		tb.WriteFile(t, n, "/etc/init.d/lhatest", initScript, 0o755)
		tb.WriteFile(t, n, "/etc/cluster/apache/jobs", "* * * * * root hostname >> /var/tmp/cronjob.log\n", 0o644)
		tb.Sh(t, n, "cron")
	}
	tb.Sh(t, "servera", "useradd -m -g users lhaworker && mkdir /home/lhaworker/bin")
	tb.WriteFile(t, "servera", "/home/lhaworker/bin/worker", workerScript, 0o755)

	// An agent's meta-data marks ip required (IPaddr2), and an agent
	// that does not exist: refused, naming file, line, member and field.
	for member, want := range map[string]string{
		`<ocf name="vip" agent="ocf:heartbeat:IPaddr2"/>`: ": resources/ocf vip/param: parameter ip is required by ocf:heartbeat:IPaddr2 on servera",
		`<ocf name="nope" agent="ocf:heartbeat:Nope"/>`:   ": resources/ocf nope/agent: no agent ocf:heartbeat:Nope",
	} {
		tb.WriteFile(t, "servera", "/etc/cluster/apache/appconf.xml", strings.Replace(conf, "</resources>", member+"</resources>", 1), 0o644)
		r := tb.Exec(t, "servera", "", "clbuildapp", "-A", "apache", "--check")
		if r.Code == 0 || !strings.Contains(r.Stderr, "/etc/cluster/apache/appconf.xml:") || !strings.Contains(r.Stderr, want) {
			t.Fatalf("check with %s: %d\n%s", member, r.Code, r.Output())
		}
	}
	tb.WriteFile(t, "servera", "/etc/cluster/apache/appconf.xml", conf, 0o644)

	// The user exists on servera only: refused, naming file, line, field.
	r := tb.Exec(t, "servera", "", "clbuildapp", "-A", "apache", "--check")
	if r.Code == 0 || !strings.Contains(r.Stderr, "/etc/cluster/apache/appconf.xml:") ||
		!strings.Contains(r.Stderr, ": resources/user worker/user: user lhaworker does not exist on serverb") {
		t.Fatalf("check with the user missing on serverb: %d\n%s", r.Code, r.Output())
	}
	tb.Sh(t, "serverb", "useradd -m -g users lhaworker && mkdir /home/lhaworker/bin")
	tb.WriteFile(t, "serverb", "/home/lhaworker/bin/worker", workerScript, 0o755)
	for _, s := range []string{"check", "vgbuild", "build", "sync"} {
		if r := tb.Exec(t, "servera", "", "clbuildapp", "-A", "apache", "--"+s); r.Code != 0 {
			t.Fatalf("clbuildapp --%s: %s", s, r.Output())
		}
	}
	r = tb.Exec(t, "servera", "", "clstartapp", "-A", "apache", "-V")
	if r.Code != 0 {
		t.Fatalf("clstartapp: %s", r.Output())
	}
	order := []string{"Resource jobs (crontab jobs) started", "Resource lsb (service lhatest) started",
		"Resource worker (user worker) started", "Resource dummy (ocf:heartbeat:Dummy) started", "Application start script completed"}
	at := -1
	for _, s := range order {
		i := strings.Index(r.Stdout, s)
		if i < 0 || i < at {
			t.Fatalf("%q out of order in:\n%s", s, r.Stdout)
		}
		at = i
	}
	running := func(node string) string {
		return tb.Sh(t, node, "ls /etc/cron.d/jobs 2>/dev/null; ls /run/resource-agents/Dummy-dummy.state 2>/dev/null; "+
			"service lhatest status >/dev/null && echo lsb; pgrep -u lhaworker sleep >/dev/null && echo worker; true")
	}
	all := "/etc/cron.d/jobs\n/run/resource-agents/Dummy-dummy.state\nlsb\nworker\n"
	if got := running("servera"); got != all {
		t.Fatalf("members on servera: %q", got)
	}
	if got := running("serverb"); got != "" {
		t.Fatalf("members on serverb: %q", got)
	}

	// Lems restarts what stops: the OCF resource (soft, OCF_NOT_RUNNING),
	// the LSB service, and the user application once.
	lemsLog := func(node string) string {
		return tb.Sh(t, node, "cat /var/log/cluster/lems/lems-apache.log 2>/dev/null; true")
	}
	testbed.Eventually(t, 30*time.Second, "Lems watching the resources", func() bool {
		out := tb.Exec(t, "servera", "", "clstat", "-A", "apache").Stdout
		return strings.Contains(out, "dummy\tocf\tocf:heartbeat:Dummy\tStarted\tRunning\t3\t0\n") &&
			strings.Contains(out, "worker\tuser\tuser worker\tStarted\tRunning\t1\t0\n")
	})
	tb.Sh(t, "servera", "rm /run/resource-agents/Dummy-dummy.state; kill $(cat /run/lhatest.pid)")
	testbed.Eventually(t, 15*time.Second, "dummy and lsb restarted", func() bool {
		l := lemsLog("servera")
		return strings.Contains(l, "Resource dummy (ocf:heartbeat:Dummy) restarted.") &&
			strings.Contains(l, "Resource lsb (service lhatest) restarted.") && running("servera") == all
	})
	tb.Sh(t, "servera", "pkill -u lhaworker sleep")
	testbed.Eventually(t, 15*time.Second, "worker restarted", func() bool {
		return strings.Contains(lemsLog("servera"), "Resource worker (user worker) restarted.") && running("servera") == all
	})
	// clstat -A from serverb: the Resources table (DRCM's cm_stat).
	testbed.Eventually(t, 15*time.Second, "clstat -A resources", func() bool {
		out := tb.Exec(t, "serverb", "", "clstat", "-A", "apache").Stdout
		return strings.Contains(out, "\nResources\n\nName\tKind\tWhat\tState\tMonitor\tRestarts\tCurrent\n"+
			"jobs\tcrontab\tcrontab jobs\tStarted\tRunning\t3\t0\n") &&
			strings.Contains(out, "worker\tuser\tuser worker\tStarted\tRunning\t1\t1\n") &&
			strings.Contains(out, "dummy\tocf\tocf:heartbeat:Dummy\tStarted\tRunning\t3\t1\n")
	})
	// The cron job runs on servera (cron reads /etc/cron.d each minute).
	testbed.Eventually(t, 150*time.Second, "the cron job on servera", func() bool {
		return strings.Contains(tb.Sh(t, "servera", "cat /var/tmp/cronjob.log 2>/dev/null; true"), "servera")
	})

	// Past its one restart, the worker's next death fails apache over.
	tb.Sh(t, "servera", "pkill -u lhaworker sleep")
	testbed.Eventually(t, 60*time.Second, "apache on serverb", func() bool {
		return strings.HasPrefix(appStatus(t, tb, "serverb"), "STARTED,serverb")
	})
	if !strings.Contains(lemsLog("servera"), "after 1 restarts within 10m0s: the application moves to the other node") {
		t.Errorf("servera's Lems log:\n%s", lemsLog("servera"))
	}
	if got := running("servera"); got != "" {
		t.Fatalf("members left on servera after the fail-over: %q", got)
	}
	if got := running("serverb"); got != all {
		t.Fatalf("members on serverb: %q", got)
	}
	// The job now runs on serverb, and no more on servera.
	linesA := tb.Sh(t, "servera", "wc -l < /var/tmp/cronjob.log")
	testbed.Eventually(t, 150*time.Second, "the cron job on serverb", func() bool {
		return strings.Contains(tb.Sh(t, "serverb", "cat /var/tmp/cronjob.log 2>/dev/null; true"), "serverb")
	})
	// cron runs a minute's jobs on both nodes in the same second, after
	// rereading /etc/cron.d: in the minute serverb ran it, servera, whose
	// file went before, did not.
	time.Sleep(5 * time.Second)
	if got := tb.Sh(t, "servera", "wc -l < /var/tmp/cronjob.log"); got != linesA {
		t.Fatalf("the job still ran on servera: %s lines, then %s", linesA, got)
	}

	r = tb.Exec(t, "serverb", "", "clhaltapp", "-A", "apache", "-V")
	if r.Code != 0 {
		t.Fatalf("clhaltapp: %s", r.Output())
	}
	at = -1
	for _, s := range []string{"Application stop script completed", "Resource dummy (ocf:heartbeat:Dummy) stopped",
		"Resource worker (user worker) stopped", "Resource lsb (service lhatest) stopped", "Resource jobs (crontab jobs) stopped"} {
		i := strings.Index(r.Stdout, s)
		if i < 0 || i < at {
			t.Fatalf("%q out of order in:\n%s", s, r.Stdout)
		}
		at = i
	}
	if got := running("serverb"); got != "" {
		t.Fatalf("members left after clhaltapp: %q", got)
	}
}

// The apache application run by Debian's ocf:heartbeat:apache instead of
// scripts (examples/apache/appconf.ocf.xml): started on its replicated
// directories, watched by Lems through the agent's monitor, restarted
// after apache2 is killed, stopped by clhaltapp.
func TestOCFApache(t *testing.T) {
	needApache(t)
	needPackages(t, "/usr/lib/ocf/resource.d/heartbeat/apache")
	tb := testbed.Up(t)
	root, _ := testbed.RepoRoot()
	conf, err := os.ReadFile(root + "/examples/apache/appconf.ocf.xml")
	if err != nil {
		t.Fatal(err)
	}
	lems := `<lems_config><globals modules="/usr/lib/linuxha/lems/modules" programs="/usr/lib/linuxha/lems/programs" logs="/var/log/cluster/lems" port="8800"/></lems_config>`
	buildApache(t, tb, string(conf), [2]string{"lems.local.xml", lems})
	r := tb.Exec(t, "servera", "", "clstartapp", "-A", "apache", "-V")
	if r.Code != 0 || !strings.Contains(r.Stdout, "Resource www (ocf:heartbeat:apache) started") {
		t.Fatalf("clstartapp: %s", r.Output())
	}
	if got, err := curl(tb); err != nil || got != "hello from linuxha\n" {
		t.Fatalf("curl: %q %v", got, err)
	}
	testbed.Eventually(t, 30*time.Second, "Lems runs the agent's monitor", func() bool {
		return strings.Contains(tb.Exec(t, "serverb", "", "clstat", "-A", "apache").Stdout, "www\tocf\tocf:heartbeat:apache\tStarted\tRunning\t3\t0\n")
	})
	tb.Sh(t, "servera", "pkill -KILL apache2")
	testbed.Eventually(t, 30*time.Second, "apache2 restarted by the agent", func() bool {
		got, err := curl(tb)
		return err == nil && got == "hello from linuxha\n" &&
			strings.Contains(tb.Sh(t, "servera", "cat /var/log/cluster/lems/lems-apache.log"), "Resource www (ocf:heartbeat:apache) restarted.")
	})
	r = tb.Exec(t, "servera", "", "clhaltapp", "-A", "apache", "-V")
	if r.Code != 0 || !strings.Contains(r.Stdout, "Resource www (ocf:heartbeat:apache) stopped") {
		t.Fatalf("clhaltapp: %s", r.Output())
	}
	if ps := tb.Sh(t, "servera", "ps -eo comm"); strings.Contains(ps, "apache2") {
		t.Fatalf("apache2 left after clhaltapp:\n%s", ps)
	}
}
