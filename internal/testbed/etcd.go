package testbed

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// EtcdClconf is a clconf.xml of the etcd membership mode for nodes, with
// the given <membership> element.
func EtcdClconf(nodes []string, membership string) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?>
<clconf>
<global>
    <name>cluster3</name><version>0.3</version><data>replicated</data><datadetail>filesync</datadetail>
    <logdir>/var/log/cluster</logdir>` + Key + `
    <port>9900</port><clport>9849</clport><clnetdport>9850</clnetdport><portpool>9901,9999</portpool>
    <maxblockdevs>50</maxblockdevs><drbd_network>drbd</drbd_network>
</global>
<timings><keepalive>1</keepalive><warn>2</warn><dead>3</dead><clusterform>60</clusterform></timings>
` + membership + "\n")
	for _, n := range nodes {
		fmt.Fprintf(&b, "<node><name>%s</name><network name=\"public\" cards=\"eth0,eth1\"/><network name=\"drbd\" cards=\"eth2\"/></node>\n", n)
	}
	b.WriteString("</clconf>\n")
	return b.String()
}

// Span is one holding of an application: from its start script's
// beginning to its stop script's end (End 0 while it runs).
type Span struct {
	Node       string
	Token      int
	Begin, End float64 // seconds since the epoch, the host's one clock
}

// ReadSpans reads the events an EtcdCluster's scripts append: "TIME NODE
// begin TOKEN" when a start begins, "TIME NODE end" when a stop ends (or
// the node crashed).
func ReadSpans(path string) ([]Span, error) {
	data, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	var spans []Span
	open := map[string]int{}
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		f := strings.Fields(l)
		if len(f) < 3 {
			continue
		}
		at, _ := strconv.ParseFloat(f[0], 64)
		switch f[2] {
		case "begin":
			if _, ok := open[f[1]]; ok {
				continue // started again while running: one holding
			}
			tok := 0
			if len(f) > 3 {
				tok, _ = strconv.Atoi(f[3])
			}
			open[f[1]] = len(spans)
			spans = append(spans, Span{Node: f[1], Token: tok, Begin: at})
		case "end":
			if i, ok := open[f[1]]; ok {
				spans[i].End = at
				delete(open, f[1])
			}
		}
	}
	return spans, nil
}

// Overlaps lists two nodes' holdings that overlap in time: the audit
// "never two holders of one application, at any moment".
func Overlaps(spans []Span) []string {
	var out []string
	end := func(s Span) float64 {
		if s.End == 0 {
			return 1e18
		}
		return s.End
	}
	for i, a := range spans {
		for _, b := range spans[i+1:] {
			if a.Node != b.Node && a.Begin < end(b) && b.Begin < end(a) {
				out = append(out, fmt.Sprintf("%s [%.3f, %.3f] and %s [%.3f, %.3f]", a.Node, a.Begin, a.End, b.Node, b.Begin, b.End))
			}
		}
	}
	return out
}

// EtcdCluster is a testbed running clmember on every host, with one
// application, web, whose start and stop scripts append to Events.
type EtcdCluster struct {
	*Bed
	Events string
	mu     sync.Mutex // guards procs
	procs  map[string]*member
}

// member is one host's clmember process.
type member struct {
	cmd      *exec.Cmd
	out      *bytes.Buffer
	done     chan struct{}
	expected bool // its end was caused by the test
}

// StartEtcd writes the etcd-mode clconf.xml with membership on every
// host of b, the application web (maxstoptime 1 s) on every cluster
// node, and starts clmember everywhere (--witness on the witness host).
func (b *Bed) StartEtcd(t testing.TB, membership string) *EtcdCluster {
	t.Helper()
	return b.StartEtcdStop(t, membership, "1")
}

// StartEtcdStop is StartEtcd with the application's maxstoptime, in
// seconds (it must fit the lease's TTL: clmember(8)).
func (b *Bed) StartEtcdStop(t testing.TB, membership, maxStop string) *EtcdCluster {
	t.Helper()
	c := &EtcdCluster{Bed: b, Events: filepath.Join(b.Shared(), fmt.Sprintf("clmember-events-%d", time.Now().UnixNano())),
		procs: map[string]*member{}}
	t.Cleanup(func() { os.Remove(c.Events) })
	conf := EtcdClconf(c.ClusterNodes(), membership)
	app := `<?xml version="1.0"?>
<appconf><global><version>0.2</version><name>web</name><takeover>normal</takeover></global>
<application><startscript>/etc/cluster/web/start</startscript><stopscript>/etc/cluster/web/stop</stopscript>
<maxstarttime>5</maxstarttime><maxstoptime>` + maxStop + `</maxstoptime></application></appconf>
`
	for _, n := range c.ClusterNodes() {
		b.WriteFile(t, n, "/etc/cluster/web/appconf.xml", app, 0o644)
		b.WriteFile(t, n, "/etc/cluster/web/start", "#!/bin/sh\necho \"$(date +%s.%N) $(hostname) begin $LINUXHA_TOKEN\" >> "+c.Events+"\n", 0o755)
		b.WriteFile(t, n, "/etc/cluster/web/stop", "#!/bin/sh\nsleep 0.1\necho \"$(date +%s.%N) $(hostname) end\" >> "+c.Events+"\n", 0o755)
	}
	// clbuild on the first node copies clconf.xml, the cluster's CA it
	// makes and the build checksum to every host: the members talk TLS
	// and clmember verifies the checksum.
	first := b.Nodes[0]
	b.WriteFile(t, first, "/etc/cluster/clconf.xml", conf, 0o600)
	if r := b.Exec(t, first, "", "clbuild"); r.Code != 0 {
		t.Fatalf("clbuild: %s", r.Output())
	}
	for _, n := range b.Nodes {
		c.Run(t, n)
	}
	t.Cleanup(func() {
		for _, n := range b.Nodes {
			c.Kill(t, n)
			if t.Failed() {
				c.mu.Lock()
				out := c.procs[n].out.String()
				c.mu.Unlock()
				t.Logf("clmember on %s:\n%s", n, out)
			}
		}
	})
	return c
}

// ClusterNodes are the testbed's hosts but the witness.
func (b *Bed) ClusterNodes() []string {
	var nodes []string
	for _, n := range b.Nodes {
		if n != "witness" {
			nodes = append(nodes, n)
		}
	}
	return nodes
}

// Run starts clmember on node (again).
func (c *EtcdCluster) Run(t testing.TB, node string) {
	t.Helper()
	argv := []string{"clmember", "--file", "-"}
	if node == "witness" {
		argv = append(argv, "--witness")
	}
	cmd, out := c.Background(t, node, argv...)
	m := &member{cmd: cmd, out: out, done: make(chan struct{})}
	go func() { cmd.Wait(); close(m.done) }()
	c.mu.Lock()
	if old := c.procs[node]; old != nil {
		out.WriteString(old.out.String())
	}
	c.procs[node] = m
	c.mu.Unlock()
}

// Kill kills clmember on node (kill -9) and waits for it to end.
func (c *EtcdCluster) Kill(t testing.TB, node string) {
	t.Helper()
	c.mu.Lock()
	m := c.procs[node]
	m.expected = true
	c.mu.Unlock()
	// The testbed's exec is only nsenter's parent: the daemon inside
	// holds the output pipe until it is killed itself.
	c.Exec(t, node, "", "pkill", "-KILL", "-x", "clmember-cluster3")
	c.Exec(t, node, "", "pkill", "-KILL", "clmember")
	m.cmd.Process.Kill()
	select {
	case <-m.done:
	case <-time.After(10 * time.Second):
		t.Logf("clmember on %s did not end within 10 s of its kill", node)
	}
}

// Crashed records that node's application ended when the node crashed
// (its processes are gone with it; no stop script ran): call it right
// after the crash, so that the recorded end is no earlier than the real.
func (c *EtcdCluster) Crashed(t testing.TB, node string) {
	t.Helper()
	c.mu.Lock()
	c.procs[node].expected = true
	c.mu.Unlock()
	f, err := os.OpenFile(c.Events, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "%.9f %s end crash\n", float64(time.Now().UnixNano())/1e9, node)
	f.Close()
}

// Spans reads the holdings so far, failing the test when a clmember has
// ended by itself or two nodes' holdings overlap.
func (c *EtcdCluster) Spans(t testing.TB) []Span {
	t.Helper()
	c.mu.Lock()
	for n, m := range c.procs {
		select {
		case <-m.done:
			if !m.expected {
				c.mu.Unlock()
				t.Fatalf("clmember on %s exited:\n%s", n, m.out)
			}
		default:
		}
	}
	c.mu.Unlock()
	s, err := ReadSpans(c.Events)
	if err != nil {
		t.Fatal(err)
	}
	if o := Overlaps(s); len(o) > 0 {
		t.Fatalf("two holders: %v", o)
	}
	return s
}

// Holder is the node whose holding is open, "" when none is.
func (c *EtcdCluster) Holder(t testing.TB) (Span, bool) {
	t.Helper()
	for _, s := range c.Spans(t) {
		if s.End == 0 {
			return s, true
		}
	}
	return Span{}, false
}

// WaitHolder waits until some node holds the application.
func (c *EtcdCluster) WaitHolder(t testing.TB, d time.Duration) Span {
	t.Helper()
	var h Span
	Eventually(t, d, "a node running the application", func() bool {
		var ok bool
		h, ok = c.Holder(t)
		return ok
	})
	return h
}

// Leader is the etcd member that leads, as clmember --status --json on
// node sees it ("" when none does or the status cannot be read).
func (c *EtcdCluster) Leader(t testing.TB, node string) string {
	t.Helper()
	r := c.Exec(t, node, "", "clmember", "--status", "--json")
	var st struct {
		Members []struct {
			Name   string `json:"name"`
			Leader bool   `json:"leader"`
		} `json:"members"`
	}
	if json.Unmarshal([]byte(r.Stdout), &st) != nil {
		return ""
	}
	for _, m := range st.Members {
		if m.Leader {
			return m.Name
		}
	}
	return ""
}
