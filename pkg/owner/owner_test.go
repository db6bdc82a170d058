package owner

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/linuxha-ng/linuxha/internal/testbed"
	"github.com/linuxha-ng/linuxha/pkg/etcdmember"
)

// TestMain runs an etcd member instead of the tests when the test binary
// is started as one by startMembers: members are real processes, so that
// a test can kill one as a crash or an isolated node would lose it.
func TestMain(m *testing.M) {
	if c := os.Getenv("OWNER_TEST_MEMBER"); c != "" {
		var cfg etcdmember.Config
		if err := json.Unmarshal([]byte(c), &cfg); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		mb, err := etcdmember.Start(ctx, cfg)
		cancel()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println("ready")
		fmt.Fprintln(os.Stderr, <-mb.Err())
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// startMembers starts n voting members on loopback, each a process, and
// returns them with their client URLs.
func startMembers(t *testing.T, n int) ([]*exec.Cmd, []string) {
	t.Helper()
	peers := map[string]string{}
	clients := make([]string, n)
	for i := range n {
		peers[fmt.Sprintf("m%d", i+1)] = "http://" + testbed.FreeLoopback(t)
		clients[i] = "http://" + testbed.FreeLoopback(t)
	}
	cmds := make([]*exec.Cmd, n)
	ready := make(chan error, n)
	for i := range n {
		name := fmt.Sprintf("m%d", i+1)
		c, _ := json.Marshal(etcdmember.Config{Name: name, DataDir: t.TempDir(),
			PeerURL: peers[name], ClientURL: clients[i], Peers: peers, Cluster: "test",
			Heartbeat: 50 * time.Millisecond, Election: 500 * time.Millisecond})
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "OWNER_TEST_MEMBER="+string(c))
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds[i] = cmd
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		go func() {
			line, err := bufio.NewReader(out).ReadString('\n')
			if err == nil && line != "ready\n" {
				err = fmt.Errorf("%s said %q", name, line)
			}
			ready <- err
		}()
	}
	for range n {
		select {
		case err := <-ready:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(40 * time.Second):
			t.Fatal("the members did not form a quorum within 40 s")
		}
	}
	return cmds, clients
}

// record is one action of one node, with its monotonic begin and end.
type record struct {
	node       string
	start      bool
	token      int64
	begin, end time.Time
}

// recorder is the test's application: it logs every start and stop.
type recorder struct {
	mu   sync.Mutex // guards log
	log  []record
	node string
	// startFor is how long a start takes unless cancelled (20 ms if 0);
	// started is told when one begins.
	startFor time.Duration
	started  chan struct{}
}

func (r *recorder) add(x record) {
	r.mu.Lock()
	r.log = append(r.log, x)
	r.mu.Unlock()
}

func (r *recorder) Start(ctx context.Context, token int64) error {
	b := time.Now()
	d := r.startFor
	if d == 0 {
		d = 20 * time.Millisecond
	}
	if r.started != nil {
		r.started <- struct{}{}
	}
	var err error
	select {
	case <-time.After(d):
	case <-ctx.Done():
		err = ctx.Err()
	}
	r.add(record{node: r.node, start: true, token: token, begin: b, end: time.Now()})
	return err
}

func (r *recorder) count(start bool) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, x := range r.log {
		if x.start == start {
			n++
		}
	}
	return n
}

func (r *recorder) Stop(ctx context.Context) error {
	b := time.Now()
	time.Sleep(50 * time.Millisecond)
	r.add(record{node: r.node, begin: b, end: time.Now()})
	return nil
}

func (r *recorder) find(start bool) (record, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, x := range r.log {
		if x.start == start {
			return x, true
		}
	}
	return record{}, false
}

func waitFor(t *testing.T, what string, d time.Duration, f func() bool) {
	t.Helper()
	for end := time.Now().Add(d); !f(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("no %s within %v", what, d)
		}
	}
}

func TestIsolatedOwnerStopsBeforeAnotherStarts(t *testing.T) {
	// Issue 23: a node cut from the quorum stops its application within
	// its lease TTL, and the majority starts it only after: never two
	// holders, not even for the two-node mode's TOC window.
	if testing.Short() {
		t.Skip("starts three etcd members")
	}
	ms, urls := startMembers(t, 3)
	client := func(eps ...string) *clientv3.Client {
		c, err := clientv3.New(clientv3.Config{Endpoints: eps, DialTimeout: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	t0 := time.Now()
	logf := func(f string, a ...any) {
		t.Logf("%v "+f, append([]any{time.Since(t0).Round(time.Millisecond)}, a...)...)
	}
	ra, rb := &recorder{node: "a"}, &recorder{node: "b"}
	owner := func(c *clientv3.Client, r *recorder) *Owner {
		return &Owner{Client: c, Key: "/linuxha/test/apps/apache/owner", Node: r.node, TTL: 2 * time.Second,
			StopTime: 300 * time.Millisecond, Margin: 100 * time.Millisecond, Retry: time.Second,
			Actions: r, Logf: logf}
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	// Node a talks to m1 only; node b to m2 and m3, the majority. m1
	// killed, a is cut from the quorum.
	wg.Go(func() { owner(client(urls[0]), ra).Run(ctx) })
	waitFor(t, "start on a", 10*time.Second, func() bool { _, ok := ra.find(true); return ok })
	wg.Go(func() { owner(client(urls[1], urls[2]), rb).Run(ctx) })
	time.Sleep(time.Second)
	if _, ok := rb.find(true); ok {
		t.Fatal("b started while a held the key")
	}
	cut := time.Now()
	ms[0].Process.Kill()
	waitFor(t, "start on b", 15*time.Second, func() bool { _, ok := rb.find(true); return ok })
	sa, _ := ra.find(true)
	stopA, ok := ra.find(false)
	startB, _ := rb.find(true)
	if !ok {
		t.Fatalf("b started at +%v but a never stopped", startB.begin.Sub(cut))
	}
	if !stopA.end.Before(startB.begin) {
		t.Fatalf("a stopped at +%v..+%v, b started at +%v: two holders", stopA.begin.Sub(cut), stopA.end.Sub(cut), startB.begin.Sub(cut))
	}
	if startB.token <= sa.token {
		t.Fatalf("b's token %d is not past a's %d", startB.token, sa.token)
	}
	t.Logf("cut at 0: a stopped +%v..+%v; b started +%v (gap %v); tokens %d then %d",
		stopA.begin.Sub(cut).Round(time.Millisecond), stopA.end.Sub(cut).Round(time.Millisecond),
		startB.begin.Sub(cut).Round(time.Millisecond), startB.begin.Sub(stopA.end).Round(time.Millisecond), sa.token, startB.token)
}

func TestStopDuringStart(t *testing.T) {
	// A lease that may lapse while the start script still runs: the start
	// is cancelled and the stop runs once, before the lapse (a cancelled
	// start is not then taken for a failed one and stopped again).
	if testing.Short() {
		t.Skip("starts three etcd members")
	}
	ms, urls := startMembers(t, 3)
	c, err := clientv3.New(clientv3.Config{Endpoints: urls[:1], DialTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := &recorder{node: "a", startFor: time.Minute, started: make(chan struct{}, 1)}
	o := &Owner{Client: c, Key: "/linuxha/test/apps/db/owner", Node: "a", TTL: 2 * time.Second,
		StopTime: 300 * time.Millisecond, Margin: 100 * time.Millisecond, Retry: time.Second, Actions: r, Logf: t.Logf}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { o.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	select {
	case <-r.started:
	case <-time.After(10 * time.Second):
		t.Fatal("no start within 10 s")
	}
	ms[0].Process.Kill()
	waitFor(t, "the stop", 5*time.Second, func() bool { return r.count(false) > 0 })
	time.Sleep(time.Second)
	if n := r.count(false); n != 1 {
		t.Fatalf("%d stops; want 1", n)
	}
	if x, _ := r.find(true); x.end.After(time.Now()) || x.end.Sub(x.begin) > 5*time.Second {
		t.Fatalf("the start was not cancelled: %+v", x)
	}
}

func TestRankedCampaign(t *testing.T) {
	// Placement: of two nodes that may run a free application, the one
	// ranked first wins the key although it asks later; the other waits
	// its stagger, finds the key taken, and waits for it to fall free.
	if testing.Short() {
		t.Skip("starts three etcd members")
	}
	_, urls := startMembers(t, 3)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	run := func(r *recorder, rank int) {
		c, err := clientv3.New(clientv3.Config{Endpoints: urls, DialTimeout: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		o := &Owner{Client: c, Key: "/linuxha/test/apps/web/owner", Node: r.node, TTL: 2 * time.Second,
			StopTime: 300 * time.Millisecond, Margin: 100 * time.Millisecond, Retry: time.Second, Actions: r, Logf: t.Logf,
			Rank: func(context.Context) (int, bool) { return rank, true }, Stagger: 1500 * time.Millisecond}
		wg.Go(func() { o.Run(ctx) })
	}
	second, first := &recorder{node: "backup"}, &recorder{node: "preferred"}
	run(second, 1)
	time.Sleep(300 * time.Millisecond)
	run(first, 0)
	waitFor(t, "a start", 10*time.Second, func() bool { return first.count(true)+second.count(true) > 0 })
	time.Sleep(2 * time.Second)
	if first.count(true) != 1 || second.count(true) != 0 {
		t.Fatalf("starts: preferred %d, backup %d; want the preferred node alone", first.count(true), second.count(true))
	}
}
