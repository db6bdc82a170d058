package appctl_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/linuxha-ng/linuxha/internal/testbed"
)

// TestDottedNodeNames: clconf.xml may name a node with its domain
// (servera.example.com) and the hosts' names carry it; every tool finds
// its own node (issue 18). Start, clstat, halt, a crash that fails the
// application over, the STALE flag naming the dead node (L7630-7633)
// and the rejoin that clears it.
func TestDottedNodeNames(t *testing.T) {
	needApache(t)
	tb := testbed.UpWithDomain(t, "example.com")
	a, b := tb.NodeName("servera"), tb.NodeName("serverb")
	if got := tb.Sh(t, "servera", "hostname"); got != a+"\n" {
		t.Fatalf("hostname on servera = %q, want %s", got, a)
	}
	conf := strings.ReplaceAll(apacheConf(t), "<preferred_node>servera</preferred_node>", "<preferred_node>"+a+"</preferred_node>")
	buildApache(t, tb, conf)
	testbed.Eventually(t, 10*time.Second, "both nodes UP", func() bool {
		return tb.NodeState(t, "servera", b) == "UP" && tb.NodeState(t, "serverb", a) == "UP"
	})

	r := tb.Exec(t, "servera", "", "clstartapp", "-A", "apache", "-V")
	if r.Code != 0 || !strings.Contains(r.Stdout, "Application apache started successfully on "+a+".") {
		t.Fatalf("clstartapp: %d\n%s", r.Code, r.Output())
	}
	for _, n := range []string{"servera", "serverb"} {
		if st := appStatus(t, tb, n); !strings.HasPrefix(st, "STARTED,"+a+",") {
			t.Fatalf("APP_STATUS on %s: %q", n, st)
		}
		testbed.Eventually(t, 10*time.Second, "clstat -A on "+n, func() bool {
			out := tb.Exec(t, n, "", "clstat", "-A", "apache").Stdout
			return strings.Contains(out, "\napache\t"+a+"\tSTARTED\t") && strings.Contains(out, "/apache/docs\tboth\t")
		})
	}
	if out := tb.Exec(t, "serverb", "", "clstat").Stdout; !strings.Contains(out, a+"\tUP") || !strings.Contains(out, b+"\tUP") {
		t.Errorf("clstat on serverb does not show both nodes UP by their names:\n%s", out)
	}
	if r := tb.Exec(t, "servera", "", "clhaltapp", "-A", "apache"); r.Code != 0 {
		t.Fatalf("clhaltapp: %s", r.Output())
	}
	if st := appStatus(t, tb, "serverb"); !strings.HasPrefix(st, "DOWN") {
		t.Fatalf("APP_STATUS on serverb after halt: %q", st)
	}

	// clrunapp starts it on the preferred node; servera crashes and
	// serverb takes it over, marking servera's copies stale.
	if r := tb.Exec(t, "serverb", "", "clrunapp", "-A", "apache"); r.Code != 0 {
		t.Fatalf("clrunapp: %s", r.Output())
	}
	if st := appStatus(t, tb, "serverb"); !strings.HasPrefix(st, "STARTED,"+a+",") {
		t.Fatalf("APP_STATUS after clrunapp: %q", st)
	}
	tb.Op(t, "crash", "servera")
	testbed.Eventually(t, 30*time.Second, "apache taken over by serverb", func() bool {
		got, err := curl(tb)
		return err == nil && got == "hello from linuxha\n" && strings.HasPrefix(appStatus(t, tb, "serverb"), "STARTED,"+b+",")
	})
	// The application answers before clstartapp returns and the daemon
	// logs the takeover.
	testbed.Eventually(t, 10*time.Second, "serverb's log of the takeover", func() bool {
		l := tb.Sh(t, "serverb", "cat /var/log/cluster/cldaemon-cluster1.log")
		return strings.Contains(l, "Node "+a+" judged DEAD") && strings.Contains(l, "Application apache taken over by "+b+".")
	})
	testbed.Eventually(t, 20*time.Second, "servera's copies marked stale on serverb", func() bool {
		return tb.Exec(t, "serverb", "", "sh", "-c", "ls /etc/cluster/.status/apache/*."+a+".STALE").Code == 0 &&
			strings.Contains(tb.Exec(t, "serverb", "", "clstat", "-A", "apache").Stdout, "/apache/docs\tlocal\t")
	})

	// servera comes back and joins; its copies are brought up to date.
	tb.Op(t, "start", "servera")
	if r := tb.Exec(t, "servera", "", "clform", "--join"); r.Code != 0 {
		t.Fatalf("clform --join: %s", r.Output())
	}
	// The rejoined node holds no STALE flags of its own: its clstat's
	// Stale column still counts the copies out of step (L2996), as the
	// running node's volumes report them.
	if out := tb.Exec(t, "servera", "", "clstat", "-A", "apache").Stdout; staleColumn(t, out) != notInStep(out) {
		t.Errorf("clstat -A on servera just after the join: Stale %d, %d file systems out of step:\n%s", staleColumn(t, out), notInStep(out), out)
	}
	testbed.Eventually(t, 60*time.Second, "servera's copies resynchronised", func() bool {
		out := tb.Exec(t, "serverb", "", "clstat", "-A", "apache").Stdout
		return strings.Contains(out, "/apache/docs\tboth\t") && !strings.Contains(out, "\tlocal\t") && staleColumn(t, out) == 0
	})
	// serverb did not wait for its syncer's next period (L2664, L6370).
	if l := tb.Sh(t, "serverb", "cat /var/log/cluster/cldaemon-cluster1.log"); !strings.Contains(l, "Node "+a+" is back: resynchronising apache now") {
		t.Errorf("serverb's log after the join:\n%s", l)
	}
	if out := tb.Exec(t, "servera", "", "sh", "-c", "ls /etc/cluster/.status/apache/ | grep STALE; true").Stdout; out != "" {
		t.Errorf("STALE flags on servera after the resync: %s", out)
	}
	if out := tb.Exec(t, "serverb", "", "sh", "-c", "ls /etc/cluster/.status/apache/ | grep STALE; true").Stdout; out != "" {
		t.Errorf("STALE flags on serverb after the resync: %s", out)
	}
	testbed.Eventually(t, 15*time.Second, "servera's registry shows apache on serverb", func() bool {
		return strings.HasPrefix(appStatus(t, tb, "servera"), "STARTED,"+b+",")
	})
	if r := tb.Exec(t, "serverb", "", "clhaltapp", "-A", "apache"); r.Code != 0 {
		t.Fatalf("clhaltapp on serverb: %s", r.Output())
	}
}

// staleColumn is the Stale field of clstat -A's application line.
func staleColumn(t *testing.T, out string) int {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Split(l, "\t"); len(f) == 7 && f[0] == "apache" {
			n, err := strconv.Atoi(f[5])
			if err != nil {
				t.Fatalf("Stale field %q:\n%s", f[5], out)
			}
			return n
		}
	}
	t.Fatalf("no application line in clstat -A:\n%s", out)
	return 0
}

// notInStep counts clstat -A's file systems whose copies are not both
// valid and in step.
func notInStep(out string) int {
	n := 0
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Split(l, "\t"); len(f) == 6 && strings.HasPrefix(f[0], "/") && (f[1] != "both" || f[3] == "Unsync") {
			n++
		}
	}
	return n
}
