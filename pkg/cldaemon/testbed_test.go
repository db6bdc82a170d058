package cldaemon_test

import (
	"crypto/rand"
	"encoding/hex"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/linuxha-ng/linuxha/internal/testbed"
)

// notifySocket listens where a daemon started with NOTIFY_SOCKET=path
// reports to systemd, and records what it says and when.
type notifySocket struct {
	path string
	conn *net.UnixConn
	mu   sync.Mutex // guards msgs
	msgs []note
}

type note struct {
	at  time.Time
	msg string
}

func listenNotify(t *testing.T, dir string) *notifySocket {
	t.Helper()
	var id [4]byte
	rand.Read(id[:])
	return listenNotifyAt(t, filepath.Join(dir, "notify-"+hex.EncodeToString(id[:])+".sock"))
}

// listenNotifyAt listens on a datagram socket at path (sd_notify's, or
// the journal's native protocol: both send one datagram per message).
func listenNotifyAt(t *testing.T, path string) *notifySocket {
	t.Helper()
	s := &notifySocket{path: path}
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: s.path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	s.conn = c
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 4096)
		for {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			s.mu.Lock()
			s.msgs = append(s.msgs, note{time.Now(), string(buf[:n])})
			s.mu.Unlock()
		}
	}()
	t.Cleanup(func() { c.Close(); <-done; os.Remove(s.path) })
	return s
}

// since lists the messages received after at.
func (s *notifySocket) since(at time.Time) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, m := range s.msgs {
		if m.at.After(at) {
			out = append(out, m.msg)
		}
	}
	return out
}

func count(msgs []string, what string) int {
	n := 0
	for _, m := range msgs {
		if m == what {
			n++
		}
	}
	return n
}

// Issue 19: cldaemon under a Type=notify unit, against a real
// NOTIFY_SOCKET (systemd does not run in the testbed), started as
// linuxha-cldaemon.service restarts it after a crash (cldaemon --startup):
// it decides to join, READY=1 comes only once the join is done, with the
// summary in STATUS=; WATCHDOG=1 at half of WATCHDOG_USEC from the
// heartbeat loop; none from a stopped daemon. Then both daemons started
// so at once form the cluster.
func TestSystemdNotify(t *testing.T) {
	tb := testbed.Up(t)
	tb.FormCluster(t, testbed.Timings{Keepalive: "0.2", Warn: "0.6", Dead: "1", ClusterForm: "10"})
	tb.Sh(t, "serverb", "pkill -9 -f '^cldaemon-cluster1$'")
	testbed.Eventually(t, 10*time.Second, "serverb DIED", func() bool { return tb.NodeState(t, "servera", "serverb") == "DIED" })

	ns := listenNotify(t, tb.Shared())
	start := time.Now()
	// The testbed's teardown ends it (and its output's other holders).
	_, out := tb.Background(t, "serverb", "env", "NOTIFY_SOCKET="+ns.path, "WATCHDOG_USEC=1000000", "cldaemon", "--startup", "--verbose")
	var ready time.Time
	testbed.Eventually(t, 15*time.Second, "READY=1", func() bool {
		ns.mu.Lock()
		defer ns.mu.Unlock()
		for _, m := range ns.msgs {
			if strings.HasPrefix(m.msg, "READY=1") {
				ready = m.at
				return true
			}
		}
		return false
	})
	if got := ns.since(start); got[0] != "READY=1\nSTATUS=serverb UP, servera UP" {
		t.Fatalf("first notification %q, want READY=1 with the summary (all: %q)\n%s", got[0], got, out)
	}
	l := tb.Sh(t, "serverb", "cat /var/log/cluster/cldaemon-cluster1.log")
	if !strings.Contains(l, "Start-up: the other node runs the cluster: join it (join_existing_cluster yes).") {
		t.Fatalf("cldaemon --startup did not decide to join:\n%s", l)
	}
	if !strings.Contains(l, "Node serverb has now joined the cluster") {
		t.Fatalf("READY=1 before the join:\n%s", l)
	}
	// WATCHDOG_USEC 1 s: a WATCHDOG=1 every half second.
	time.Sleep(3 * time.Second)
	if n := count(ns.since(ready), "WATCHDOG=1"); n < 4 || n > 8 {
		t.Errorf("%d WATCHDOG=1 in the 3 s after READY, want about 6", n)
	}
	// A stopped daemon says nothing: systemd would kill and restart it.
	tb.Sh(t, "serverb", "pkill -STOP -f '^cldaemon-cluster1$'")
	stopped := time.Now()
	time.Sleep(2 * time.Second)
	if n := count(ns.since(stopped.Add(100*time.Millisecond)), "WATCHDOG=1"); n != 0 {
		t.Errorf("%d WATCHDOG=1 from a stopped daemon", n)
	}
	tb.Sh(t, "serverb", "pkill -CONT -f '^cldaemon-cluster1$'")
	cont := time.Now()
	testbed.Eventually(t, 3*time.Second, "WATCHDOG=1 again", func() bool { return count(ns.since(cont), "WATCHDOG=1") > 0 })

	// Both nodes booting (no clstartup.xml): neither finds the other's
	// daemon, both decide to form, and they form together.
	for _, n := range []string{"servera", "serverb"} {
		tb.Sh(t, n, "pkill -9 -f '^cldaemon-cluster1$'; true")
	}
	testbed.Eventually(t, 5*time.Second, "both daemons gone", func() bool {
		return tb.Exec(t, "servera", "", "pgrep", "-f", "^cldaemon-cluster1$").Code != 0 && tb.Exec(t, "serverb", "", "pgrep", "-f", "^cldaemon-cluster1$").Code != 0
	})
	for _, n := range []string{"servera", "serverb"} {
		tb.Background(t, n, "cldaemon", "--startup", "--verbose", "--file", "/var/log/cluster/startup-form.log")
	}
	testbed.Eventually(t, 20*time.Second, "the cluster formed by two cldaemon --startup", func() bool {
		return tb.NodeState(t, "servera", "serverb") == "UP" && tb.NodeState(t, "serverb", "servera") == "UP"
	})
	if l := tb.Sh(t, "servera", "cat /var/log/cluster/startup-form.log"); !strings.Contains(l, "Start-up: the other node does not run the cluster: form with it") {
		t.Errorf("servera's cldaemon --startup did not decide to form:\n%s", l)
	}
}

// Issue 19, logs: logrotate with the installed configuration
// (examples/logrotate/linuxha, copytruncate) rotates a live daemon's log
// and the daemon goes on writing to it; a daemon moved aside and sent
// SIGHUP reopens its log at the old path instead of dying of the signal.
func TestLogRotation(t *testing.T) {
	if _, err := os.Stat("/usr/sbin/logrotate"); err != nil {
		t.Skip("logrotate is not installed (scripts/deps test installs it)")
	}
	tb := testbed.Up(t)
	root, _ := testbed.RepoRoot()
	conf, err := os.ReadFile(filepath.Join(root, "examples", "logrotate", "linuxha"))
	if err != nil {
		t.Fatal(err)
	}
	tb.FormCluster(t, testbed.Timings{Keepalive: "0.2", Warn: "0.6", Dead: "1", ClusterForm: "10"})
	tb.WriteFile(t, "servera", "/etc/logrotate.d/linuxha", string(conf), 0o644)
	const log = "/var/log/cluster/cldaemon-cluster1.log"
	// RECONFIGURE logs a line on demand.
	reconfigure := func() {
		if r := tb.Exec(t, "servera", "", "cldaemonctl", "--msg", "RECONFIGURE"); strings.TrimSpace(r.Stdout) != "OK" {
			t.Fatalf("RECONFIGURE: %s", r.Output())
		}
	}

	tb.Sh(t, "servera", "logrotate -f -s /tmp/logrotate.state /etc/logrotate.d/linuxha")
	reconfigure()
	if rotated := tb.Sh(t, "servera", "cat "+log+".1"); !strings.Contains(rotated, "Both nodes agree UP") {
		t.Fatalf("the rotated log lacks the forming:\n%s", rotated)
	}
	testbed.Eventually(t, 5*time.Second, "the daemon writing to the truncated log", func() bool {
		l := tb.Sh(t, "servera", "cat "+log)
		return strings.Contains(l, "Cluster configuration re-read.") && !strings.Contains(l, "Both nodes agree UP")
	})

	tb.Sh(t, "servera", "mv "+log+" "+log+".moved && pkill -HUP -f '^cldaemon-cluster1$'")
	testbed.Eventually(t, 5*time.Second, "the log reopened at its path", func() bool {
		return strings.Contains(tb.Exec(t, "servera", "", "cat", log).Stdout, "Log file "+log+" reopened (SIGHUP).")
	})
	if s := tb.NodeState(t, "servera", "serverb"); s != "UP" {
		t.Fatalf("after SIGHUP servera's daemon says serverb is %q", s)
	}
}

// Issue 19, logs: under systemd (INVOCATION_ID set, a journal socket)
// every line also reaches the journal with PRIORITY, NODE and
// SYSLOG_IDENTIFIER, and the cluster's events with EVENT. The journal is
// the test's own socket, bind-mounted on servera's
// /run/systemd/journal (journald does not run in the testbed).
func TestJournal(t *testing.T) {
	tb := testbed.Up(t)
	tb.FormCluster(t, testbed.Timings{Keepalive: "0.2", Warn: "0.6", Dead: "1", ClusterForm: "10"})
	var id [4]byte
	rand.Read(id[:])
	dir := filepath.Join(tb.Shared(), "journal-"+hex.EncodeToString(id[:]))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	js := listenNotifyAt(t, filepath.Join(dir, "socket"))
	tb.Sh(t, "servera", "mkdir -p /run/systemd/journal && mount --bind "+dir+" /run/systemd/journal")
	tb.Sh(t, "servera", "pkill -9 -f '^cldaemon-cluster1$'")
	testbed.Eventually(t, 10*time.Second, "servera DIED", func() bool { return tb.NodeState(t, "serverb", "servera") == "DIED" })
	tb.Background(t, "servera", "env", "INVOCATION_ID=linuxha-test", "cldaemon", "--join", "--verbose")

	entry := func(want map[string]string) func() bool {
		return func() bool {
			for _, m := range js.since(time.Time{}) {
				f := map[string]string{}
				for _, kv := range strings.Split(strings.TrimSuffix(m, "\n"), "\n") {
					k, v, _ := strings.Cut(kv, "=")
					f[k] = v
				}
				match := true
				for k, v := range want {
					if f[k] != v {
						match = false
					}
				}
				if match {
					return true
				}
			}
			return false
		}
	}
	testbed.Eventually(t, 15*time.Second, "the UP line in the journal", entry(map[string]string{
		"MESSAGE": "Cluster cluster1 is UP on servera.", "PRIORITY": "6", "NODE": "servera", "SYSLOG_IDENTIFIER": "cldaemon-cluster1"}))
	tb.Op(t, "crash", "serverb")
	testbed.Eventually(t, 10*time.Second, "the death in the journal as an event", entry(map[string]string{
		"PRIORITY": "3", "NODE": "servera", "EVENT": "node-dead"}))
	if !strings.Contains(tb.Sh(t, "servera", "cat /var/log/cluster/cldaemon-cluster1.log"), "ERROR ") {
		t.Error("the log file lost its lines to the journal")
	}
}
