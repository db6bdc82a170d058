package cluster_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/linuxha-ng/linuxha/internal/testbed"
)

// An application with a valid build is registered when cldaemon starts,
// one without is not (L2584-2593); clhalt refuses while an application
// runs (L3453-3460), as clhalt --node does (L3507-3512).
func TestRegistrationAndHaltRefusal(t *testing.T) {
	tb := testbed.Up(t)
	root, _ := testbed.RepoRoot()
	app, err := os.ReadFile(root + "/examples/apache/appconf.xml")
	if err != nil {
		t.Fatal(err)
	}
	samba, _ := os.ReadFile(root + "/examples/samba/appconf.xml")
	for _, n := range []string{"servera", "serverb"} {
		tb.WriteFile(t, n, "/etc/cluster/apache/appconf.xml", string(app), 0o644)
		tb.Sh(t, n, "md5sum < /etc/cluster/apache/appconf.xml | cut -d' ' -f1 > /etc/cluster/apache/.clbuild.md5")
		tb.WriteFile(t, n, "/etc/cluster/samba/appconf.xml", string(samba), 0o644) // never built
	}
	tb.BuildCluster(t, testbed.Timings{Keepalive: "1", Warn: "2", Dead: "4", ClusterForm: "10"})
	if r := tb.Exec(t, "servera", "", "clform"); r.Code != 0 {
		t.Fatalf("clform: %s", r.Output())
	}
	log := tb.Sh(t, "servera", "cat /var/log/cluster/cldaemon-cluster1.log")
	for _, want := range []string{
		"Validated Build for apache is valid - will register with cluster.",
		"Application apache has been registered with the cluster daemons",
		"No validated build for samba - not registering with cluster.",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q", want)
		}
	}
	ctl := func(msg string) string {
		return strings.TrimSpace(tb.Exec(t, "servera", "", "cldaemonctl", "--msg", msg).Stdout)
	}
	for msg, want := range map[string]string{
		"APP_LIST":                 "apache",
		"APP_STATUS app=samba":     "NOT_REGISTERED",
		"APP_STATUS app=apache":    "DOWN,,0,0,0",
		"STOP_APP app=apache":      "NOT_RUNNING",
		"PNODE app=apache":         "OK servera",
		"AUTOSTARTLIST":            "OK apache",
		"GETVALIDNODES app=apache": "OK servera,serverb",
		"ISVALID app=apache":       "YES",
		"CHECKSUM app=samba":       "NO_SUCH_FILE",
		"CHECKSUM app=nothere":     "NO_SUCH_APP",
		"DEPENDS_ON app=apache":    "OK",
		"APP_STATUS app=apache nodeinfo=yes failoverinfo=yes": "DOWN,,0,0,0,Yes,servera+serverb",
	} {
		if got := ctl(msg); got != want {
			t.Errorf("%s: got %q want %q", msg, got, want)
		}
	}
	if got := ctl("SETVALIDNODES app=apache nodes=servera forward=yes"); got != "OK" {
		t.Fatal(got)
	}
	if got := strings.TrimSpace(tb.Exec(t, "serverb", "", "cldaemonctl", "--node", "serverb", "--msg", "ISVALID app=apache").Stdout); got != "NO" {
		t.Fatalf("forwarded SETVALIDNODES: serverb ISVALID=%q", got)
	}
	// The lifecycle tools report a start; now the cluster cannot be halted.
	if got := ctl("STARTED_APP app=apache node=servera forward=yes"); got != "OK" {
		t.Fatal(got)
	}
	r := tb.Exec(t, "serverb", "", "clhalt")
	if r.Code == 0 || !strings.Contains(r.Stderr, "Unable to stop cluster - 1 application is still running") {
		t.Fatalf("clhalt with apache running: %d %s", r.Code, r.Output())
	}
	r = tb.Exec(t, "serverb", "", "clhalt", "--node", "servera")
	if r.Code == 0 || !strings.Contains(r.Stderr, "Unable to remove node servera from cluster - it has") || !strings.Contains(r.Stderr, "1 application still running.") {
		t.Fatalf("clhalt --node with apache running: %d %s", r.Code, r.Output())
	}
	if r := tb.Exec(t, "serverb", "", "clhalt", "--node", "serverb"); r.Code != 0 {
		t.Fatalf("serverb runs nothing, so it may leave: %s", r.Output())
	}
}

func procStat(t testing.TB, tb *testbed.Bed, node, title string) (rssKiB int, ticks int) {
	out := tb.Sh(t, node, fmt.Sprintf(`p=$(pgrep -x %s) && grep VmRSS /proc/$p/status | tr -s ' ' | cut -d' ' -f2 && cut -d' ' -f14,15 /proc/$p/stat`, title[:min(15, len(title))]))
	f := strings.Fields(out)
	if len(f) != 3 {
		t.Fatalf("%s on %s: %q", title, node, out)
	}
	rssKiB, _ = strconv.Atoi(f[0])
	u, _ := strconv.Atoi(f[1])
	s, _ := strconv.Atoi(f[2])
	return rssKiB, u + s
}

// BenchmarkIdleFootprint forms the cluster with default timings, leaves it
// idle for IDLE_SECONDS (default 60) and reports each daemon's resident
// memory and CPU (targets: <= 15 MiB, <= 0.2 % of a core). Run:
// LINUXHA_TESTBED=ns go test ./pkg/cluster -run '^$' -bench IdleFootprint -benchtime 1x
func BenchmarkIdleFootprint(b *testing.B) {
	tb := testbed.Up(b)
	tb.BuildCluster(b, testbed.Timings{Keepalive: "3", Warn: "7", Dead: "12", ClusterForm: "20"})
	if r := tb.Exec(b, "servera", "", "clform"); r.Code != 0 {
		b.Fatalf("clform: %s", r.Output())
	}
	idle := 60 * time.Second
	if s := os.Getenv("IDLE_SECONDS"); s != "" {
		n, _ := strconv.Atoi(s)
		idle = time.Duration(n) * time.Second
	}
	const hz = 100 // USER_HZ
	for range b.N {
		titles := []string{"cldaemon-cluster1", "cllockd-cluster1", "clnetd-cluster1"}
		before := map[string]int{}
		for _, ti := range titles {
			_, before[ti] = procStat(b, tb, "servera", ti)
		}
		time.Sleep(idle)
		for _, ti := range titles {
			rss, ticks := procStat(b, tb, "servera", ti)
			cpu := float64(ticks-before[ti]) / hz / idle.Seconds() * 100
			b.Logf("%-18s RSS %5.1f MiB  CPU %.3f %% of a core over %v idle", ti, float64(rss)/1024, cpu, idle)
			name := strings.TrimSuffix(ti, "-cluster1")
			b.ReportMetric(float64(rss)/1024, name+"-MiB")
			b.ReportMetric(cpu, name+"-cpu%")
		}
	}
}

// TestSoakNoFalseDeath keeps both cores busy for LINUXHA_SOAK (e.g. 10m)
// with dead 2 s and checks that neither node ever declares the other dead
// or its daemon died. Skipped unless LINUXHA_SOAK is set.
func TestSoakNoFalseDeath(t *testing.T) {
	d, err := time.ParseDuration(os.Getenv("LINUXHA_SOAK"))
	if err != nil {
		t.Skip("set LINUXHA_SOAK=10m to run the soak test")
	}
	tb := testbed.Up(t)
	tb.BuildCluster(t, testbed.Timings{Keepalive: "0.5", Warn: "1", Dead: "2", ClusterForm: "20"})
	if r := tb.Exec(t, "servera", "", "clform"); r.Code != 0 {
		t.Fatalf("clform: %s", r.Output())
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	for i := 0; i < 2*runtime.NumCPU(); i++ { // saturate every core
		go func() {
			x := 0
			for ctx.Err() == nil {
				for j := 0; j < 1e6; j++ {
					x += j
				}
			}
			_ = x
		}()
	}
	<-ctx.Done()
	for _, n := range []string{"servera", "serverb"} {
		log := tb.Sh(t, n, "cat /var/log/cluster/cldaemon-cluster1.log")
		for _, bad := range []string{"is DEAD", "has died"} {
			if strings.Contains(log, bad) {
				t.Errorf("%s declared a false failure (%q) under load", n, bad)
			}
		}
		t.Logf("%s: %d path warnings in %v", n, strings.Count(log, "No heartbeat from"), d)
	}
	for _, n := range []string{"servera", "serverb"} {
		if s := tb.NodeState(t, n, map[string]string{"servera": "serverb", "serverb": "servera"}[n]); s != "UP" {
			t.Errorf("%s sees its peer %s", n, s)
		}
	}
}

// clbuild --force on a running cluster tells the daemons to RECONFIGURE:
// they take the new timings without a restart (L1692, FAQ 4.2-4.3), and the new dead
// time is the one a crash is detected by (issue 18: it stayed the old one).
func TestReconfigureRunningCluster(t *testing.T) {
	tb := testbed.Up(t)
	tb.BuildCluster(t, testbed.Timings{Keepalive: "1", Warn: "2", Dead: "8", ClusterForm: "10"})
	if r := tb.Exec(t, "servera", "", "clform"); r.Code != 0 {
		t.Fatalf("clform: %s", r.Output())
	}
	tb.Sh(t, "servera", "sed -i 's|<warn>2</warn>|<warn>1</warn>|; s|<dead>8</dead>|<dead>2</dead>|' /etc/cluster/clconf.xml")
	// Every tool, cldaemonctl too, refuses the changed, unbuilt file (L1827-1840).
	if r := tb.Exec(t, "servera", "", "cldaemonctl", "--msg", "RECONFIGURE"); r.Code == 0 || !strings.Contains(r.Stderr, "appears to have been changed") {
		t.Fatalf("RECONFIGURE before clbuild: %q", r.Output())
	}
	if r := tb.Exec(t, "servera", "", "clbuild"); r.Code == 0 || !strings.Contains(r.Stderr, "running a cldaemon process; use --force") {
		t.Fatalf("clbuild on a running cluster without --force: %s", r.Output())
	}
	// FAQ 4.2: the rebuild informs the running daemons itself.
	r := tb.Exec(t, "servera", "", "clbuild", "--force", "--verbose")
	if r.Code != 0 || !strings.Contains(r.Stdout, "Cluster daemon on servera reconfigured.") || !strings.Contains(r.Stdout, "Cluster daemon on serverb reconfigured.") {
		t.Fatalf("clbuild --force: %s", r.Output())
	}
	for _, n := range []string{"servera", "serverb"} {
		tb.Sh(t, n, "grep -q 'Cluster configuration re-read.' /var/log/cluster/cldaemon-cluster1.log")
		if r := tb.Exec(t, n, "", "cldaemonctl", "--node", n, "--msg", "RECONFIGURE"); r.Stdout != "OK\n" {
			t.Fatalf("RECONFIGURE on %s: %q", n, r.Output())
		}
	}
	if s := tb.NodeState(t, "servera", "serverb"); s != "UP" {
		t.Fatalf("serverb after reconfiguration: %q", s)
	}
	start := time.Now()
	tb.Op(t, "crash", "serverb")
	testbed.Eventually(t, 15*time.Second, "serverb DOWN", func() bool { return tb.NodeState(t, "servera", "serverb") == "DOWN" })
	if d := time.Since(start); d > 4500*time.Millisecond {
		t.Fatalf("crash detected after %v: the old dead time (8 s), not the new one (2 s)", d.Round(time.Millisecond))
	}
}
