package appctl_test

import (
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/linuxha-ng/linuxha/internal/testbed"
)

// flood has the router host (a stranger on the public network, without
// the key) hold 500 connections to each of the cluster's ports on both
// nodes, opening them again every second, for secs seconds.
func flood(t *testing.T, tb *testbed.Bed, secs int) *exec.Cmd {
	t.Helper()
	script := fmt.Sprintf(`end=$((SECONDS+%d))
while [ $SECONDS -lt $end ]; do
	fds=()
	for target in 172.16.177.1/9900 172.16.177.2/9900 172.16.177.1/8800 172.16.177.2/8800; do
		for i in $(seq 125); do exec {fd}<>/dev/tcp/${target} 2>/dev/null && fds+=($fd); done
	done
	echo "held ${#fds[@]}"
	sleep 1
	for fd in "${fds[@]}"; do exec {fd}>&-; done
done`, secs)
	c := tb.Router("bash", "-c", script)
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Process.Kill(); c.Wait() })
	return c
}

// SECURITY.md, issue 17: while a host without the key holds hundreds of
// connections to every cluster port, the tools, a Lems fail-over and a
// crash takeover all still work in their usual times, and the daemons
// log the stranger once a minute, not once a connection.
func TestStrangerCannotStopFailover(t *testing.T) {
	tb := monitoredApache(t)
	testbed.Eventually(t, 20*time.Second, "Lems on servera", func() bool {
		r := tb.Exec(t, "servera", "", "lemsctl", "-A", "apache", "--msg", "CMD httpd MAXCOUNT 0")
		return strings.TrimSpace(r.Stdout) == "OK"
	})
	flood(t, tb, 120)
	time.Sleep(3 * time.Second) // the flood is on

	for _, from := range []string{"servera", "serverb"} {
		for _, to := range []string{"servera", "serverb"} {
			start := time.Now()
			r := tb.Exec(t, from, "", "cldaemonctl", "--node", to, "--msg", "ECHO")
			t.Logf("ECHO from %s to %s during the flood: %v", from, to, time.Since(start).Round(time.Millisecond))
			if r.Stdout != "UP\n" || time.Since(start) > 3*time.Second {
				t.Fatalf("ECHO from %s to %s during the flood: %q after %v", from, to, r.Output(), time.Since(start))
			}
		}
	}
	// Lems' FAILOVER (procmon past its restarts): apache moves to
	// serverb as in TestFailover.
	start := time.Now()
	tb.Sh(t, "servera", "pkill -KILL apache2; true")
	testbed.Eventually(t, 60*time.Second, "apache failed over to serverb during the flood", func() bool {
		return strings.HasPrefix(appStatus(t, tb, "servera"), "STARTED,serverb")
	})
	pageFrom(t, tb, "serverb")
	t.Logf("Lems fail-over during the flood: page from serverb %v after apache was killed", time.Since(start).Round(time.Millisecond))
	// A crash takeover: both nodes valid again (L4746), serverb dies,
	// servera takes apache over.
	if r := tb.Exec(t, "servera", "", "cldaemonctl", "--msg", "SETVALIDNODES app=apache forward=yes"); strings.TrimSpace(r.Stdout) != "OK" {
		t.Fatalf("SETVALIDNODES during the flood: %s", r.Output())
	}
	start = time.Now()
	tb.Op(t, "crash", "serverb")
	testbed.Eventually(t, 30*time.Second, "apache taken over by servera during the flood", func() bool {
		return strings.HasPrefix(appStatus(t, tb, "servera"), "STARTED,servera")
	})
	pageFrom(t, tb, "servera")
	t.Logf("crash takeover during the flood: page from servera %v after serverb crashed (dead 1 s)", time.Since(start).Round(time.Millisecond))
	log := tb.Sh(t, "servera", "cat /var/log/cluster/cldaemon-cluster1.log")
	n := strings.Count(log, "Rejected 172.16.177.254")
	if n == 0 || n > 6 || !strings.Contains(log, "not a cluster address") {
		t.Fatalf("%d rejection lines for the stranger (want 1..6, once a minute):\n%s", n, log)
	}
}

var reFrame = regexp.MustCompile(`03[0-9a-f]{200,}`)

// SECURITY.md, issue 17: a STOP_APP captured on the wire on its way to
// serverb (tcpdump on the testbed's bridges) is refused by servera, by a
// Lems, and by serverb itself after its daemon restarted, and changes
// nothing.
func TestCapturedFramesReplayNowhere(t *testing.T) {
	if _, err := exec.LookPath("tcpdump"); err != nil {
		t.Skip("tcpdump is not installed (scripts/deps test installs it)")
	}
	tb := monitoredApache(t)
	testbed.Eventually(t, 20*time.Second, "Lems on servera", func() bool {
		return strings.HasPrefix(appStatus(t, tb, "servera"), "STARTED,servera,1")
	})
	capture := exec.Command("ip", "netns", "exec", tb.Name+"-sw", "tcpdump", "-i", "any", "-l", "-A", "-s0", "-nn", "tcp dst port 9900")
	var out strings.Builder
	capture.Stdout = &out
	if err := capture.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	// serverb runs no apache, so STOP_APP there stops nothing; the frame
	// is what an administrator's tool really sends.
	tb.Exec(t, "servera", "", "cldaemonctl", "--node", "serverb", "--msg", "STOP_APP app=apache")
	time.Sleep(time.Second)
	capture.Process.Kill()
	capture.Wait()
	var frame string
	for _, m := range reFrame.FindAllString(out.String(), -1) {
		frame = m // the request is the only long frame sent to port 9900
	}
	if frame == "" {
		t.Fatalf("no frame captured:\n%s", out.String())
	}
	replay := func(node string, port int) string {
		script := fmt.Sprintf(`exec 3<>/dev/tcp/127.0.0.1/%d; read -t 2 ch <&3; printf '%%s\n' '%s' >&3; read -t 2 line <&3; echo "$line"`, port, frame)
		return strings.TrimSpace(tb.Exec(t, node, "", "bash", "-c", script).Stdout)
	}
	if got := replay("servera", 9900); got != "" {
		t.Fatalf("servera's daemon answered a frame meant for serverb: %q", got)
	}
	if got := replay("servera", 8800); got != "" {
		t.Fatalf("a Lems answered a frame meant for serverb's daemon: %q", got)
	}
	tb.Sh(t, "serverb", "pkill -9 -f '^cldaemon-cluster1$'; true")
	if r := tb.Exec(t, "serverb", "", "clform", "--join"); r.Code != 0 {
		t.Fatalf("clform --join: %s", r.Output())
	}
	if got := replay("serverb", 9900); got != "" {
		t.Fatalf("serverb's restarted daemon answered a frame recorded before: %q", got)
	}
	if st := appStatus(t, tb, "servera"); !strings.HasPrefix(st, "STARTED,servera") {
		t.Fatalf("apache after the replays: %q", st)
	}
	if got, err := curl(tb); err != nil || got != "hello from linuxha\n" {
		t.Fatalf("page after the replays: %q %v", got, err)
	}
	for node, want := range map[string]string{"servera": "addressed to another recipient", "serverb": "not bound to this exchange"} {
		if log := tb.Sh(t, node, "cat /var/log/cluster/cldaemon-cluster1.log"); !strings.Contains(log, want) {
			t.Errorf("%s's log does not show the replay refused (%q):\n%s", node, want, log)
		}
	}
}

// monitoredApache builds apache with its Lems and procmon and runs it on
// servera.
func monitoredApache(t *testing.T) *testbed.Bed {
	t.Helper()
	needApache(t)
	tb := testbed.Up(t)
	buildApache(t, tb, apacheConf(t), [2]string{"lems.local.xml", lemsConf(t)}, [2]string{"httpd.xml", procmonConf(t)})
	if r := tb.Exec(t, "servera", "", "clrunapp", "-A", "apache"); r.Code != 0 {
		t.Fatalf("clrunapp: %s", r.Output())
	}
	return tb
}

// pageFrom waits for the page to answer on the application's address.
func pageFrom(t *testing.T, tb *testbed.Bed, node string) {
	t.Helper()
	testbed.Eventually(t, 10*time.Second, "page from "+node, func() bool {
		got, err := curl(tb)
		return err == nil && got == "hello from linuxha\n"
	})
}
