package cluster_test

import (
	"bytes"
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/linuxha-ng/linuxha/internal/mocknet"
	"github.com/linuxha-ng/linuxha/internal/testbed"
	"github.com/linuxha-ng/linuxha/pkg/cluster"
	"github.com/linuxha-ng/linuxha/pkg/config"
	"github.com/linuxha-ng/linuxha/pkg/layout"
	"github.com/linuxha-ng/linuxha/pkg/logx"
	"github.com/linuxha-ng/linuxha/pkg/state"
	"github.com/linuxha-ng/linuxha/pkg/wire"
)

// The in-process cluster (issue 18): two cldaemons in this test process,
// each with its own /etc/cluster under a temporary root, on a mocknet
// network with the testbed's addresses (public 172.16.177.0/24, drbd
// 192.100.100.0/24), inside a testing/synctest bubble, so that warn and
// dead run on a fake clock: no root, no sleeps, no timing flakes.

var nodeAddrs = map[string][2]string{"servera": {"172.16.177.1", "192.100.100.1"}, "serverb": {"172.16.177.2", "192.100.100.2"}}

// logBuf is a daemon's log, read while the daemon writes it.
type logBuf struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) { l.mu.Lock(); defer l.mu.Unlock(); return l.b.Write(p) }
func (l *logBuf) String() string              { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// node is one node of the in-process cluster.
type node struct {
	name string
	host *mocknet.Host
	l    layout.Layout
	log  *logBuf
	stop context.CancelFunc
	done chan error
}

// clconf is examples/clconf.xml with the testbed's key, filesync and
// the given timings (keepalive, warn, dead).
func clconf(t *testing.T, keepalive, warn, dead string) []byte {
	t.Helper()
	root, err := testbed.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, "examples", "clconf.xml"))
	if err != nil {
		t.Fatal(err)
	}
	return []byte(strings.NewReplacer(
		testbed.ExampleKey, testbed.Key,
		"<datadetail>drbd</datadetail>", "<datadetail>filesync</datadetail>",
		"<keepalive>3</keepalive>", "<keepalive>"+keepalive+"</keepalive>",
		"<warn>7</warn>", "<warn>"+warn+"</warn>",
		"<dead>12</dead>", "<dead>"+dead+"</dead>",
		"<clusterform>300</clusterform>", "<clusterform>10</clusterform>",
	).Replace(string(data)))
}

// newNode writes a node's configuration and topology under a temporary
// root and puts its host on the network.
func newNode(t *testing.T, n *mocknet.Network, name string, conf []byte) *node {
	t.Helper()
	l := layout.Layout{Root: t.TempDir()}
	if err := os.MkdirAll(filepath.Dir(l.Clconf()), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(l.Clconf(), conf, 0o600); err != nil {
		t.Fatal(err)
	}
	var top state.Topology
	for _, nd := range []string{"servera", "serverb"} {
		a := nodeAddrs[nd]
		top = append(top,
			state.CardAddr{Node: nd, Network: "public", Card: "eth0", Prefix: netip.MustParsePrefix(a[0] + "/24")},
			state.CardAddr{Node: nd, Network: "drbd", Card: "eth2", Prefix: netip.MustParsePrefix(a[1] + "/24")})
	}
	if err := os.MkdirAll(filepath.Dir(l.Topology()), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := state.WriteTopology(l.Topology(), top); err != nil {
		t.Fatal(err)
	}
	a := nodeAddrs[name]
	return &node{name: name, host: n.AddHost(name, a[0], a[1]), l: l, log: &logBuf{}}
}

// notes records what a daemon tells its service manager.
type notes struct {
	mu  sync.Mutex // guards got
	got []string   // "READY servera UP, ...", "STATUS ...", "WATCHDOG", "STOPPING"
}

func (n *notes) add(s string)    { n.mu.Lock(); defer n.mu.Unlock(); n.got = append(n.got, s) }
func (n *notes) Ready(s string)  { n.add("READY " + s) }
func (n *notes) Status(s string) { n.add("STATUS " + s) }
func (n *notes) Watchdog()       { n.add("WATCHDOG") }

func (n *notes) WatchdogEvery() time.Duration { return 0 }
func (n *notes) Stopping()                    { n.add("STOPPING") }

func (n *notes) all() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.got...)
}

// start runs the node's daemon (form, or join) until stop.
func (nd *node) start(t *testing.T, join bool) {
	t.Helper()
	nd.run(t, cluster.Options{Form: !join, Join: join})
}

// run runs the node's daemon with o (on the node's host unless o.Net
// says otherwise, without lock or network daemons) until stop; nd.done has what Run returned.
func (nd *node) run(t *testing.T, o cluster.Options) {
	t.Helper()
	cfg, _, err := config.LoadCluster(nd.l.Clconf())
	if err != nil {
		t.Fatal(err)
	}
	cfg.ClPort, cfg.ClnetdPort = 0, 0 // no lock or network daemon to start
	log := logx.New(nd.log)
	o.NoLocking, o.NoChecksums = true, true
	if o.Net == nil {
		o.Net = nd.host
	}
	d, err := cluster.New(nd.l, cfg, log, o, nd.name)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	nd.stop, nd.done = cancel, make(chan error, 1)
	ready := make(chan error, 1)
	go func() { nd.done <- d.Run(ctx, func(err error) { ready <- err }) }()
	if err := <-ready; err != nil {
		t.Fatalf("%s: %v", nd.name, err)
	}
}

// kill stops the daemon as kill -9 does: it says nothing to the other.
func (nd *node) kill() {
	nd.stop()
	<-nd.done
}

// ask sends a request to the node's daemon from its own loopback, as the
// tools do; "" when it does not answer.
func (nd *node) ask(t *testing.T, req string) string {
	t.Helper()
	codec, err := wire.NewCodec(wire.Authenticated, "cluster1", strings.TrimSuffix(strings.TrimPrefix(testbed.Key, "<key>"), "</key>"),
		wire.WithFrom(wire.Svc(nd.name, "test")), wire.WithDialer(nd.host.Dial))
	if err != nil {
		t.Fatal(err)
	}
	reply, _, err := wire.Call(t.Context(), codec, wire.Svc(nd.name, "cldaemon"), []string{"127.0.0.1:9900"}, req, time.Second)
	if err != nil {
		return ""
	}
	return reply
}

// within polls cond on the bubble's fake clock.
func within(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("not within %v: %s", d, what)
}

func (nd *node) logged(s string) bool { return strings.Contains(nd.log.String(), s) }

// TestInProcessCluster: forming (L2562-2565), a cut path that warns and
// is restored, a killed daemon that is DIED while its node answers, a
// join (L7579-7582), RECONFIGURE's new dead time deciding the next death
// (issue 18: it used to keep the old one), and a crashed node that is
// DOWN (L6682-6700) - all on the fake clock.
func TestInProcessCluster(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := mocknet.New()
		conf := clconf(t, "0.1", "0.3", "0.5")
		a, b := newNode(t, n, "servera", conf), newNode(t, n, "serverb", conf)
		a.start(t, false)
		b.start(t, false)
		within(t, 10*time.Second, "both UP", func() bool {
			return a.ask(t, "GET_NODE_STATE node=serverb") == "UP" && b.ask(t, "GET_NODE_STATE node=servera") == "UP"
		})
		for _, nd := range []*node{a, b} {
			within(t, time.Second, nd.name+" logging the cluster UP", func() bool {
				return nd.logged("Both nodes agree UP") && nd.logged("Cluster cluster1 is UP on "+nd.name+".")
			})
		}

		// One of two paths cut for three dead times: warnings, no death.
		n.Cut("192.100.100.1", "192.100.100.2")
		time.Sleep(1500 * time.Millisecond)
		if s := a.ask(t, "GET_NODE_STATE node=serverb"); s != "UP" || !a.logged("No heartbeat from serverb on network drbd") {
			t.Fatalf("drbd path cut: serverb is %q\n%s", s, a.log)
		}
		n.Restore("192.100.100.1", "192.100.100.2")
		within(t, 2*time.Second, "drbd path restored", func() bool { return a.logged("Heartbeat from serverb on network drbd restored") })

		// serverb's daemon dies; its host still answers echoes.
		b.kill()
		within(t, 2*time.Second, "serverb DIED", func() bool { return a.ask(t, "GET_NODE_STATE node=serverb") == "DIED" })
		within(t, time.Second, "servera logging the dead daemon", func() bool {
			return a.logged("Cluster daemon on serverb has died but the node still responds")
		})
		// Joining again, it tells its service manager (issue 19): READY
		// once joined, with the summary, then the heartbeat loop's
		// watchdog; STOPPING when it leaves.
		var told notes
		b.run(t, cluster.Options{Join: true, Notify: &told})
		within(t, 5*time.Second, "serverb joined", func() bool {
			return a.ask(t, "GET_NODE_STATE node=serverb") == "UP" && b.logged("Node serverb has now joined the cluster")
		})
		within(t, time.Second, "READY and the watchdog", func() bool {
			got := told.all()
			return len(got) > 2 && got[len(got)-1] == "WATCHDOG"
		})
		if got := told.all(); got[0] != "READY serverb UP, servera UP" || !b.logged("Node serverb has now joined the cluster") {
			t.Fatalf("serverb told its service manager %q", got)
		}

		// RECONFIGURE with dead 3 s: the crash is judged by it.
		if err := os.WriteFile(a.l.Clconf(), clconf(t, "0.1", "0.3", "3"), 0o600); err != nil {
			t.Fatal(err)
		}
		if r := a.ask(t, "RECONFIGURE"); r != "OK" {
			t.Fatalf("RECONFIGURE: %q", r)
		}
		b.host.Crash()
		b.kill()
		crashed := time.Now()
		if got := told.all(); got[len(got)-1] != "STOPPING" {
			t.Errorf("serverb's last word to its service manager: %q", got[len(got)-1])
		}
		within(t, 10*time.Second, "serverb DOWN", func() bool { return a.ask(t, "GET_NODE_STATE node=serverb") == "DOWN" })
		// Dead counts from the last heartbeat heard, up to a keepalive
		// (0.1 s) before the crash.
		if took := time.Since(crashed); took < 2900*time.Millisecond || took > 4*time.Second {
			t.Errorf("serverb judged DOWN %v after its crash; RECONFIGURE set dead to 3s", took)
		}
		within(t, time.Second, "servera logging the death", func() bool { return a.logged("Node serverb is DEAD") })
		a.kill()
	})
}

// TestInProcessClocks: the clocks at formation (L1874-1890, L7577), each
// daemon with its own clock (Options.Clock). More than ten minutes apart
// both refuse with the Reference's message, not a time-out; --force
// forms and warns; more than a minute warns.
func TestInProcessClocks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := mocknet.New()
		conf := clconf(t, "0.5", "1", "2")
		a, b := newNode(t, n, "servera", conf), newNode(t, n, "serverb", conf)
		ahead := func(d time.Duration) func() time.Time { return func() time.Time { return time.Now().Add(d) } }
		const refused = "Time difference between nodes is >10 minutes - require --force to start!"

		a.run(t, cluster.Options{Form: true})
		b.run(t, cluster.Options{Form: true, Clock: ahead(11 * time.Minute)})
		for _, nd := range []*node{a, b} {
			if err := <-nd.done; err == nil || err.Error() != refused {
				t.Errorf("%s with the clocks 11 minutes apart: %v\n%s", nd.name, err, nd.log)
			}
		}

		a.run(t, cluster.Options{Form: true, Force: true})
		b.run(t, cluster.Options{Form: true, Force: true, Clock: ahead(11 * time.Minute)})
		within(t, 10*time.Second, "formed with --force", func() bool { return a.ask(t, "GET_NODE_STATE node=serverb") == "UP" })
		// TIME is in whole seconds: 11 minutes read as 10m59s to 11m1s.
		if !regexp.MustCompile(`Time difference between nodes is (10m59s|11m0s|11m1s) \(>10 minutes\) - continuing \(--force\)\.`).MatchString(a.log.String()) {
			t.Errorf("servera's log with --force:\n%s", a.log)
		}
		a.kill()
		b.kill()

		a.run(t, cluster.Options{Form: true})
		b.run(t, cluster.Options{Form: true, Clock: ahead(3 * time.Minute)})
		within(t, 10*time.Second, "formed 3 minutes apart", func() bool { return a.ask(t, "GET_NODE_STATE node=serverb") == "UP" })
		if !regexp.MustCompile(`Time difference between nodes is (2m59s|3m0s|3m1s) \(>1 minute\)\.`).MatchString(a.log.String()) {
			t.Errorf("servera's log 3 minutes apart:\n%s", a.log)
		}
		a.kill()
		b.kill()
	})
}

// gatedEcho is a node's network whose echoes, once armed, hang until
// released and then report that nothing answered, as an echo sent while
// the other node was frozen does.
type gatedEcho struct {
	*mocknet.Host
	armed   *atomic.Bool
	release chan struct{}
}

func (g gatedEcho) Answering(ctx context.Context, kind string, addrs []string, timeout time.Duration) []string {
	if !g.armed.Load() {
		return g.Host.Answering(ctx, kind, addrs, timeout)
	}
	select {
	case <-g.release:
	case <-ctx.Done():
	}
	return nil
}

// TestHeardWhileJudged: the other node falls silent past dead and is
// heard again while the echo that decides DIED or DOWN is still out (a
// frozen node resuming: issue 21's freeze, seed 7, step 10). The silence
// is over, so no verdict: the node stays UP and nothing is taken over.
// The daemon used to declare it DEAD when the echo came back empty and
// stay so while it heard the node.
func TestHeardWhileJudged(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := mocknet.New()
		conf := clconf(t, "0.1", "0.3", "0.5")
		a, b := newNode(t, n, "servera", conf), newNode(t, n, "serverb", conf)
		echo := gatedEcho{Host: a.host, armed: new(atomic.Bool), release: make(chan struct{})}
		a.run(t, cluster.Options{Form: true, Net: echo})
		b.start(t, false)
		within(t, 10*time.Second, "both UP", func() bool {
			return a.ask(t, "GET_NODE_STATE node=serverb") == "UP" && b.ask(t, "GET_NODE_STATE node=servera") == "UP"
		})
		echo.armed.Store(true)
		n.Cut("172.16.177.1", "172.16.177.2")
		n.Cut("192.100.100.1", "192.100.100.2")
		time.Sleep(time.Second) // past dead: the verdict waits for the echo
		n.Restore("172.16.177.1", "172.16.177.2")
		n.Restore("192.100.100.1", "192.100.100.2")
		within(t, 2*time.Second, "servera hearing serverb again", func() bool {
			return a.logged("Heartbeats from serverb received") || a.logged("Heartbeat from serverb on network")
		})
		time.Sleep(200 * time.Millisecond)
		close(echo.release)
		time.Sleep(time.Second)
		if s := a.ask(t, "GET_NODE_STATE node=serverb"); s != "UP" || a.logged("Node serverb is DEAD") {
			t.Fatalf("serverb heard again while its silence was judged: %q\n%s", s, a.log)
		}
		if !a.logged("serverb was heard again while its silence was being judged - no verdict") {
			t.Errorf("servera did not say why it gave no verdict:\n%s", a.log)
		}
		a.kill()
		b.kill()
	})
}
