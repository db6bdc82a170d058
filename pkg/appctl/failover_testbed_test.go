package appctl_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/linuxha-ng/linuxha/internal/testbed"
)

// §17.2 and §21.2.4-21.2.6: procmon past its restarts asks for a
// fail-over; cldaemon halts apache here, starts it on the other node and
// leaves that node as the only valid one (no fail-back). SETVALIDNODES
// restores both; then §21.3: the node running it crashes and the
// survivor takes it over on its own copy of the data.
func TestFailover(t *testing.T) {
	needApache(t)
	tb := testbed.Up(t)
	buildApache(t, tb, apacheConf(t), [2]string{"lems.local.xml", lemsConf(t)}, [2]string{"httpd.xml", procmonConf(t)})
	if r := tb.Exec(t, "serverb", "", "clrunapp", "-A", "apache"); r.Code != 0 {
		t.Fatalf("clrunapp: %s", r.Output())
	}
	if st := appStatus(t, tb, "serverb"); !strings.HasPrefix(st, "STARTED,servera") {
		t.Fatalf("APP_STATUS: %q", st)
	}
	// The Lems starts after clrunapp returns: wait for it, so that
	// APP_STATUS (its monitor field) holds still while clsimulate runs.
	testbed.Eventually(t, 20*time.Second, "Lems on servera", func() bool {
		return strings.HasPrefix(appStatus(t, tb, "servera"), "STARTED,servera,1")
	})
	simulate(t, tb)
	// §21.5: both cluster daemons and the Lems die; apache keeps
	// serving. clform --force finds it from its address and restarts
	// its Lems (L6686-6700).
	before := strings.Split(appStatus(t, tb, "servera"), ",")
	for _, n := range []string{"servera", "serverb"} {
		tb.Sh(t, n, "pkill -9 -f '^cldaemon-cluster1$'; pkill -9 -f '^lems-apache'; true")
	}
	time.Sleep(2 * time.Second)
	if got, err := curl(tb); err != nil || got != "hello from linuxha\n" {
		t.Fatalf("curl with both daemons dead: %q %v", got, err)
	}
	if r := tb.Exec(t, "serverb", "", "clform", "--force"); r.Code != 0 {
		t.Fatalf("clform --force: %s", r.Output())
	}
	// servera finds it before forming; serverb learns it when the
	// registries are first compared, just after.
	for _, n := range []string{"servera", "serverb"} {
		testbed.Eventually(t, 10*time.Second, "apache STARTED on servera according to "+n, func() bool {
			return strings.HasPrefix(appStatus(t, tb, n), "STARTED,servera")
		})
	}
	if l := tb.Sh(t, "servera", "cat /var/log/cluster/cldaemon-cluster1.log"); !strings.Contains(l, "Application apache found running on servera (it holds the application's address).") {
		t.Errorf("servera's log after clform --force:\n%s", l)
	}
	// Its start time is the one before the daemons died (its TIME file,
	// L786-792): clstat's Running goes on instead of restarting at zero.
	// (TIME is written just before the daemon hears STARTED_APP: the two
	// may fall in neighbouring seconds.)
	after := strings.Split(appStatus(t, tb, "servera"), ",")
	var was, is int64
	if len(before) >= 4 && len(after) >= 4 {
		was, _ = strconv.ParseInt(before[3], 10, 64)
		is, _ = strconv.ParseInt(after[3], 10, 64)
	}
	if was == 0 || is < was-2 || is > was+2 {
		t.Errorf("start time before the daemons died %v, after re-discovery %v", before, after)
	}
	testbed.Eventually(t, 20*time.Second, "Lems on servera", func() bool {
		r := tb.Exec(t, "servera", "", "lemsctl", "-A", "apache", "--msg", "CMD httpd MAXCOUNT 0")
		return strings.TrimSpace(r.Stdout) == "OK"
	})
	tb.Sh(t, "servera", "pkill -KILL apache2; true")
	testbed.Eventually(t, 60*time.Second, "apache started on serverb", func() bool {
		return strings.HasPrefix(appStatus(t, tb, "servera"), "STARTED,serverb")
	})
	if got, err := curl(tb); err != nil || got != "hello from linuxha\n" {
		t.Fatalf("curl after the software fail-over: %q %v", got, err)
	}
	log := tb.Sh(t, "servera", "cat /var/log/cluster/cldaemon-cluster1.log")
	for _, want := range []string{
		"Fail-over of application apache requested by Lems on servera.",
		"Fail-over action: halt apache",
		"Fail-over action: start-on apache on serverb",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("cldaemon log lacks %q:\n%s", want, log)
		}
	}
	for _, n := range []string{"servera", "serverb"} {
		r := tb.Exec(t, n, "", "cldaemonctl", "--msg", "GETVALIDNODES app=apache")
		if got := strings.TrimSpace(r.Stdout); got != "OK serverb" {
			t.Errorf("valid nodes on %s after fail-over = %q; want \"OK serverb\" (L6516)", n, got)
		}
		// L4732-4740: no fail-back, whichever node is asked.
		if out := tb.Exec(t, n, "", "clstat", "-A", "apache").Stdout; !strings.Contains(out, "apache\tserverb\tSTARTED\t") || !strings.Contains(out, "\tNo\n") {
			t.Errorf("clstat -A on %s after the software fail-over (want Fail-over? No):\n%s", n, out)
		}
	}
	if ps := tb.Sh(t, "servera", "ps -eo args"); strings.Contains(ps, "apache2") || strings.Contains(ps, "lems-apache") {
		t.Errorf("left running on servera after fail-over:\n%s", ps)
	}

	// Both nodes valid again (L4746), then serverb dies: servera takes
	// over with --force, on its own copy.
	if r := tb.Exec(t, "servera", "", "cldaemonctl", "--msg", "SETVALIDNODES app=apache forward=yes"); strings.TrimSpace(r.Stdout) != "OK" {
		t.Fatalf("SETVALIDNODES: %s", r.Output())
	}
	tb.Op(t, "crash", "serverb")
	start := time.Now()
	for {
		if got, err := curl(tb); err == nil && got == "hello from linuxha\n" {
			break
		}
		if time.Since(start) > 30*time.Second {
			t.Fatalf("apache not taken over by servera after 30s; cldaemon log:\n%s\nclstartapp log:\n%s",
				tb.Sh(t, "servera", "cat /var/log/cluster/cldaemon-cluster1.log"),
				tb.Sh(t, "servera", "cat /var/log/cluster/clstart.apache.log || true"))
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("takeover after a crash answered in %v (keepalive 0.2, dead 1)", time.Since(start).Round(10*time.Millisecond))
	if st := appStatus(t, tb, "servera"); !strings.HasPrefix(st, "STARTED,servera") {
		t.Errorf("APP_STATUS after takeover: %q", st)
	}
	// The page answers before clstartapp returns and the daemon logs the
	// takeover.
	testbed.Eventually(t, 10*time.Second, "the takeover logged", func() bool {
		return strings.Contains(tb.Sh(t, "servera", "cat /var/log/cluster/cldaemon-cluster1.log"), "Application apache taken over by servera.")
	})
	log = tb.Sh(t, "servera", "cat /var/log/cluster/cldaemon-cluster1.log")
	for _, want := range []string{"Node serverb judged DEAD", "Application apache taken over by servera."} {
		if !strings.Contains(log, want) {
			t.Errorf("cldaemon log lacks %q:\n%s", want, log)
		}
	}

	// The dead node's copies are now invalid (the Valid column says
	// local), and are brought up to date when it rejoins (L6536, §21.7).
	clstatFS := func() string {
		return tb.Exec(t, "servera", "", "clstat", "-A", "apache").Stdout
	}
	testbed.Eventually(t, 20*time.Second, "serverb's copies marked stale", func() bool {
		return strings.Contains(clstatFS(), "/apache/docs\tlocal\t")
	})

	// serverb comes back and joins: its daemon learns where apache runs.
	tb.Op(t, "start", "serverb")
	if r := tb.Exec(t, "serverb", "", "clform", "--join"); r.Code != 0 {
		t.Fatalf("clform --join: %s", r.Output())
	}
	testbed.Eventually(t, 60*time.Second, "serverb's copies resynchronised", func() bool {
		out := clstatFS()
		return strings.Contains(out, "/apache/docs\tboth\t") && !strings.Contains(out, "\tlocal\t")
	})
	testbed.Eventually(t, 15*time.Second, "serverb's registry shows apache on servera", func() bool {
		return strings.HasPrefix(appStatus(t, tb, "serverb"), "STARTED,servera")
	})

	// §21.6: a full partition, with the checklist (the router) reachable
	// from both sides: serverb takes apache over (L6748), servera has
	// nothing to take (L6536): both run it. Once the partition heals,
	// the node that started apache first (servera) resets at once.
	tb.Op(t, "partition")
	testbed.Eventually(t, 30*time.Second, "serverb takes apache over in the partition", func() bool {
		return tb.Exec(t, "serverb", "", "grep", "-q", "Application apache taken over by serverb.",
			"/var/log/cluster/cldaemon-cluster1.log").Code == 0
	})
	if l := tb.Sh(t, "servera", "cat /var/log/cluster/cldaemon-cluster1.log"); strings.Count(l, "Fail-over action: start apache") > 1 {
		t.Errorf("servera started something in the partition:\n%s", l)
	}
	tb.Op(t, "heal")
	testbed.Eventually(t, 25*time.Second, "servera resets after the heal", func() bool { return !tb.Alive("servera") })
	testbed.Eventually(t, 10*time.Second, "apache answers from serverb", func() bool {
		got, err := curl(tb)
		return err == nil && got == "hello from linuxha\n"
	})
	tb.Op(t, "start", "servera")
	if l := tb.Sh(t, "servera", "cat /var/log/cluster/cldaemon-cluster1.log"); !strings.Contains(l, "Application apache is running on both servera and serverb!") ||
		!strings.Contains(l, "Resetting servera now: both nodes run it; this node started it first") {
		t.Errorf("servera's log before its reset:\n%s", l)
	}
	if r := tb.Exec(t, "servera", "", "clform", "--join"); r.Code != 0 {
		t.Fatalf("clform --join on servera: %s", r.Output())
	}
	testbed.Eventually(t, 15*time.Second, "servera's registry shows apache on serverb", func() bool {
		return strings.HasPrefix(appStatus(t, tb, "servera"), "STARTED,serverb")
	})
	if r := tb.Exec(t, "serverb", "", "clhaltapp", "-A", "apache"); r.Code != 0 {
		t.Fatalf("clhaltapp: %s", r.Output())
	}
}

// simulate asks clsimulate (issue 18) about the live cluster, apache on
// servera: what serverb would do if servera died, and what a Lems
// FAILOVER would do from views saved on servera and read on serverb;
// nothing may change.
func simulate(t *testing.T, tb *testbed.Bed) {
	t.Helper()
	before := appStatus(t, tb, "servera")
	r := tb.Exec(t, "serverb", "", "clsimulate", "dies", "servera")
	for _, want := range []string{"Simulation: node servera dies (views of servera and serverb from the cluster daemons)",
		"serverb: servera is dead", "1. mark-down apache - it ran on the dead node (L6548)",
		"2. start apache force addrs-silent - take over the application its node lost (L6538-6540)", "Nothing was changed."} {
		if r.Code != 0 || !strings.Contains(r.Stdout, want) {
			t.Fatalf("clsimulate dies servera: want %q in\n%s", want, r.Output())
		}
	}
	if r := tb.Exec(t, "servera", "", "clsimulate", "--save", "/tmp/views.json"); r.Code != 0 {
		t.Fatalf("clsimulate --save: %s", r.Output())
	}
	if r := tb.Exec(t, "serverb", tb.Sh(t, "servera", "cat /tmp/views.json"), "sh", "-c", "cat > /tmp/views.json"); r.Code != 0 {
		t.Fatalf("copying the views: %s", r.Output())
	}
	r = tb.Exec(t, "serverb", "", "clsimulate", "--view", "/tmp/views.json", "failover", "apache")
	if r.Code != 0 || !strings.Contains(r.Stdout, "servera: Lems asks to fail apache over") ||
		!strings.Contains(r.Stdout, "3. start-on apache on serverb") {
		t.Fatalf("clsimulate --view failover apache:\n%s", r.Output())
	}
	if r := tb.Exec(t, "serverb", "", "clsimulate", "dies", "serverc"); r.Code == 0 || !strings.Contains(r.Output(), "serverc is not a node") {
		t.Fatalf("clsimulate dies serverc: %d %s", r.Code, r.Output())
	}
	if after := appStatus(t, tb, "servera"); after != before {
		t.Fatalf("clsimulate changed APP_STATUS: %q, then %q", before, after)
	}
}
