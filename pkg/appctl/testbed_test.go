package appctl_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/linuxha-ng/linuxha/internal/testbed"
)

// buildApache forms the cluster and builds the sample apache application
// (filesync) on servera, with its admin files from examples/apache/admin
// and a page on the replicated docs volume.
func buildApache(t *testing.T, tb *testbed.Bed, conf string, appFiles ...[2]string) {
	t.Helper()
	buildApacheWith(t, tb, "", conf, appFiles...)
}

// buildApacheWith is buildApache with more elements for clconf.xml's
// <global> (such as <metrics>).
func buildApacheWith(t *testing.T, tb *testbed.Bed, global, conf string, appFiles ...[2]string) {
	t.Helper()
	buildApacheTimed(t, tb, testbed.Timings{Keepalive: "0.2", Warn: "0.6", Dead: "1", ClusterForm: "10", Global: global}, conf, appFiles...)
}

// buildApacheTimed is buildApache with the whole of clconf.xml's extras.
func buildApacheTimed(t *testing.T, tb *testbed.Bed, tm testbed.Timings, conf string, appFiles ...[2]string) {
	t.Helper()
	tb.BuildCluster(t, tm)
	if r := tb.Exec(t, "servera", "", "clform"); r.Code != 0 {
		t.Fatalf("clform: %s", r.Output())
	}
	tb.ApacheFiles(t, "servera", conf, appFiles...)
	for _, s := range []string{"check", "vgbuild", "build", "sync"} {
		if r := tb.Exec(t, "servera", "", "clbuildapp", "-A", "apache", "--"+s); r.Code != 0 {
			t.Fatalf("clbuildapp --%s: %s", s, r.Output())
		}
	}
}

// needApache skips a test of the real apache2 where it is not installed.
func needApache(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("apache2"); err != nil {
		if _, err := os.Stat("/usr/sbin/apache2"); err != nil {
			t.Skip("apache2 is not installed (.ci/run installs it)")
		}
	}
}

func apacheConf(t *testing.T) string {
	root, _ := testbed.RepoRoot()
	b, err := os.ReadFile(root + "/examples/apache/appconf.filesync.xml")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func curl(tb *testbed.Bed) (string, error) {
	out, err := tb.Router("curl", "-s", "--max-time", "3", "http://172.16.177.200/").Output()
	return string(out), err
}

func appStatus(t *testing.T, tb *testbed.Bed, node string) string {
	return strings.TrimSpace(tb.Exec(t, node, "", "cldaemonctl", "--msg", "APP_STATUS app=apache").Stdout)
}

// L2783-2827 and L3075-3139: clstartapp brings up the real Debian apache2
// on its replicated volumes and address; the page answers on the router
// host; a second start does nothing, the other node refuses; clhaltapp
// leaves no address, process or syncer behind.
func TestStartHaltApache(t *testing.T) {
	needApache(t)
	tb := testbed.Up(t)
	buildApache(t, tb, apacheConf(t))

	// The address is announced with appnet.GARPCount gratuitous ARPs,
	// seen on the router's side of the bridge.
	capture := tb.Capture(t, 3, "arp and arp[6:2] = 1 and arp[14:4] = arp[24:4] and arp[24:4] = 0xac10b1c8")
	r := tb.Exec(t, "servera", "", "clstartapp", "-A", "apache", "-V")
	if r.Code != 0 || !strings.Contains(r.Stdout, "Application apache started successfully on servera.") {
		t.Fatalf("clstartapp: %d\n%s", r.Code, r.Output())
	}
	if arp := capture(); strings.Count(arp, "who-has 172.16.177.200 tell 172.16.177.200") != 3 {
		t.Errorf("not 3 gratuitous ARPs for 172.16.177.200 captured:\n%s", arp)
	}
	if got, err := curl(tb); err != nil || got != "hello from linuxha\n" {
		t.Fatalf("curl from the router: %q %v", got, err)
	}
	for _, n := range []string{"servera", "serverb"} {
		if st := appStatus(t, tb, n); !strings.HasPrefix(st, "STARTED,servera") {
			t.Fatalf("APP_STATUS on %s: %q", n, st)
		}
	}
	tb.Sh(t, "servera", "grep -q 'Application apache started successfully' /var/log/cluster/clstart.apache.log")
	// Where the start spent its time, phase by phase.
	tb.Sh(t, "servera", "grep -q 'Start of apache up to its addresses: checks [0-9]* ms, replication [0-9]* ms, file systems [0-9]* ms, addresses [0-9]* ms.' /var/log/cluster/clstart.apache.log")
	// clstat -A from either node (L3013-3035): the application line and
	// each file system, marked asynchronous.
	for _, n := range []string{"serverb", "servera"} {
		testbed.Eventually(t, 10*time.Second, "clstat -A on "+n, func() bool {
			out := tb.Exec(t, n, "", "clstat", "-A", "apache").Stdout
			return strings.Contains(out, "Cluster: cluster1 - UP\n\nApplication\tNode\tState\tRunning\tMonitor\tStale\tFail-over?\napache\tservera\tSTARTED\t0:00:") &&
				strings.Contains(out, "\t0\tYes\n") &&
				strings.Contains(out, "/apache/docs\tboth\tfilesync (async)\tSync\t")
		})
		// L4737: "clstat | egrep App|apache" finds the application.
		if out := tb.Exec(t, n, "", "clstat").Stdout; !strings.Contains(out, "\nApplication\tNode\tState\tStarted\tMonitor\tStale\tFail-over?\napache\tservera\tSTARTED\t") {
			t.Errorf("plain clstat on %s has no application table (L2985-2991):\n%s", n, out)
		}
	}
	if r := tb.Exec(t, "servera", "", "clstartapp", "-A", "apache", "-V"); r.Code != 0 || !strings.Contains(r.Stdout, "no action taken") {
		t.Fatalf("second clstartapp: %d %s", r.Code, r.Output())
	}
	if r := tb.Exec(t, "serverb", "", "clstartapp", "-A", "apache"); r.Code == 0 || !strings.Contains(r.Stderr, "Application apache is STARTED on servera") {
		t.Fatalf("clstartapp on serverb: %d %s", r.Code, r.Output())
	}
	// Rebuilding the running application needs --force (§8.3 K12,
	// L4943): refused with one line, nothing rewritten on either node.
	sums := tb.Sh(t, "servera", "md5sum /etc/cluster/apache/.*.md5 /etc/cluster/.resources/fsmap/apache")
	for stage, want := range map[string]string{
		"check":   "Application apache is STARTED in the cluster; use --force to rebuild a running application",
		"vgbuild": "Application apache is STARTED in the cluster; use --force to rebuild a running application",
		"build":   "Application apache is already built (/etc/cluster/.resources/fsmap/apache exists); use --force to rebuild it",
	} {
		r := tb.Exec(t, "servera", "", "clbuildapp", "-A", "apache", "--"+stage)
		if r.Code == 0 || !strings.Contains(r.Stderr, want) {
			t.Fatalf("clbuildapp --%s while apache runs: %d %s", stage, r.Code, r.Output())
		}
	}
	if got := tb.Sh(t, "servera", "md5sum /etc/cluster/apache/.*.md5 /etc/cluster/.resources/fsmap/apache"); got != sums {
		t.Fatalf("refused rebuilds changed the build files:\n%s\nwas\n%s", got, sums)
	}
	// The running application's changes reach serverb by themselves.
	tb.Sh(t, "servera", "echo v2 > /apache/docs/v2.html")
	testbed.Eventually(t, 10*time.Second, "docs change on serverb", func() bool {
		return tb.Exec(t, "serverb", "", "cat", "/apache/docs/v2.html").Stdout == "v2\n"
	})

	r = tb.Exec(t, "servera", "", "clhaltapp", "-A", "apache", "-V")
	if r.Code != 0 || !strings.Contains(r.Stdout, "Application apache shutdown successfully.") {
		t.Fatalf("clhaltapp: %d\n%s", r.Code, r.Output())
	}
	left := tb.Sh(t, "servera", "ip -o addr; ps -eo comm")
	for _, s := range []string{"172.16.177.200", "apache2", "filesync-apache"} {
		if strings.Contains(left, s) {
			t.Errorf("%s left behind after clhaltapp:\n%s", s, left)
		}
	}
	if st := appStatus(t, tb, "serverb"); !strings.HasPrefix(st, "DOWN") {
		t.Fatalf("APP_STATUS on serverb after halt: %q", st)
	}
	if _, err := curl(tb); err == nil {
		t.Fatal("page still answers after clhaltapp")
	}

	// An address already in use (L2910-2916): the start fails with the
	// Reference's message and leaves nothing behind.
	tb.Sh(t, "serverb", "ip addr add 172.16.177.200/24 dev eth0")
	r = tb.Exec(t, "servera", "", "clstartapp", "-A", "apache")
	if r.Code == 0 || !strings.Contains(r.Stderr, "It appears that the IP address for this application is in") {
		t.Fatalf("start with the address in use: %d %s", r.Code, r.Output())
	}
	left = tb.Sh(t, "servera", "ip -o addr; ps -eo comm")
	if strings.Contains(left, "172.16.177.200") || strings.Contains(left, "apache2") || strings.Contains(left, "filesync") {
		t.Fatalf("failed start left something behind:\n%s", left)
	}
	if st := appStatus(t, tb, "servera"); !strings.HasPrefix(st, "DOWN") {
		t.Fatalf("APP_STATUS after the refused start: %q", st)
	}
	tb.Sh(t, "serverb", "ip addr del 172.16.177.200/24 dev eth0")

	// Started on serverb, it serves the data servera last wrote. A pid
	// file left on the replicated logs volume that names another live
	// process (here PID 1) must not stop apache2 from starting: the
	// example's start script removes it.
	for _, n := range []string{"servera", "serverb"} {
		tb.Sh(t, n, "echo 1 > /apache/logs/httpd.pid")
	}
	if r := tb.Exec(t, "serverb", "", "clstartapp", "-A", "apache"); r.Code != 0 {
		t.Fatalf("clstartapp on serverb: %s", r.Output())
	}
	if got, err := curl(tb); err != nil || got != "hello from linuxha\n" {
		t.Fatalf("curl after start on serverb: %q %v", got, err)
	}
	if r := tb.Exec(t, "serverb", "", "clhaltapp", "-A", "apache"); r.Code != 0 {
		t.Fatalf("clhaltapp on serverb: %s", r.Output())
	}
}

// L2376-2384: a stop script that hangs gets HUP at maxstoptime and KILL
// 5 s later; a process still holding a volume is killed and the stop
// completes. Without a cluster daemon only --force starts (L6804).
func TestHangingStopAndBusyVolume(t *testing.T) {
	tb := testbed.Up(t)
	conf := strings.NewReplacer(
		"<maxstoptime>10</maxstoptime>", "<maxstoptime>2</maxstoptime>",
	).Replace(apacheConf(t))
	buildApache(t, tb, conf)
	tb.WriteFile(t, "servera", "/apache/admin/scripts/startapp", "#!/bin/sh\nsetsid sh -c 'cd /apache/logs && exec sleep 1000' </dev/null >/dev/null 2>&1 &\nexit 0\n", 0o755)
	tb.WriteFile(t, "servera", "/apache/admin/scripts/shutdown", "#!/bin/sh\ntrap '' HUP\nsleep 60\n", 0o755)
	if r := tb.Exec(t, "servera", "", "clstartapp", "-A", "apache", "--nochecksums"); r.Code != 0 {
		t.Fatalf("clstartapp: %s", r.Output())
	}
	start := time.Now()
	r := tb.Exec(t, "servera", "", "clhaltapp", "-A", "apache", "-V", "--nochecksums")
	took := time.Since(start)
	if r.Code != 0 {
		t.Fatalf("clhaltapp: %s", r.Output())
	}
	for _, want := range []string{"half of its 2s limit", "sending HUP", "still running 5 seconds after HUP - sending KILL",
		"processes using /apache/logs", "Application apache shutdown successfully."} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("clhaltapp output lacks %q:\n%s", want, r.Stdout)
		}
	}
	if took > 40*time.Second {
		t.Errorf("halt took %v", took)
	}
	if ps := tb.Sh(t, "servera", "ps -eo args"); strings.Contains(ps, "sleep 1000") || strings.Contains(ps, "sleep 60") {
		t.Fatalf("processes left:\n%s", ps)
	}

	// No cluster daemon: refused without --force, started with it.
	tb.Exec(t, "servera", "", "clhalt")
	r = tb.Exec(t, "servera", "", "clstartapp", "-A", "apache", "--nochecksums")
	if r.Code == 0 || !strings.Contains(r.Stderr, "Cluster daemon is not running on servera.") {
		t.Fatalf("start without cluster: %d %s", r.Code, r.Output())
	}
	if r := tb.Exec(t, "servera", "", "clstartapp", "-A", "apache", "--nochecksums", "--force"); r.Code != 0 {
		t.Fatalf("forced start without cluster: %s", r.Output())
	}
	tb.Sh(t, "servera", "ip -o addr | grep -q 172.16.177.200")
	if r := tb.Exec(t, "servera", "", "clhaltapp", "-A", "apache", "--nochecksums", "--force", "--maxdelay", "1"); r.Code != 0 {
		t.Fatalf("forced halt: %s", r.Output())
	}
}
