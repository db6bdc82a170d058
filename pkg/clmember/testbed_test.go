package clmember_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/linuxha-ng/linuxha/internal/testbed"
)

// clconfN is an etcd-mode clconf.xml for nodes, with membership's
// attributes.
func clconfN(nodes []string, membership string) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?>
<clconf>
<global>
    <name>cluster3</name><version>0.3</version><data>replicated</data><datadetail>filesync</datadetail>
    <logdir>/var/log/cluster</logdir>` + testbed.Key + `
    <port>9900</port><clport>9849</clport><clnetdport>9850</clnetdport><portpool>9901,9999</portpool><maxblockdevs>50</maxblockdevs><drbd_network>drbd</drbd_network>
</global>
<timings><keepalive>1</keepalive><warn>2</warn><dead>3</dead><clusterform>60</clusterform></timings>
` + membership + "\n")
	for _, n := range nodes {
		fmt.Fprintf(&b, "<node><name>%s</name><network name=\"public\" cards=\"eth0,eth1\"/><network name=\"drbd\" cards=\"eth2\"/></node>\n", n)
	}
	b.WriteString("</clconf>\n")
	return b.String()
}

// span is one holding of the application: from its start script's
// beginning to its stop script's end (or still running).
type span struct {
	node       string
	token      int
	begin, end float64 // seconds since the epoch; end 0 while running
}

// readSpans reads the events the scripts appended: "TIME NODE begin
// TOKEN" when a start begins, "TIME NODE end" when a stop ends.
func readSpans(t *testing.T, path string) []span {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var spans []span
	open := map[string]int{}
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		f := strings.Fields(l)
		if len(f) < 3 {
			continue
		}
		at, _ := strconv.ParseFloat(f[0], 64)
		switch f[2] {
		case "begin":
			tok, _ := strconv.Atoi(f[3])
			open[f[1]] = len(spans)
			spans = append(spans, span{node: f[1], token: tok, begin: at})
		case "end":
			if i, ok := open[f[1]]; ok {
				spans[i].end = at
				delete(open, f[1])
			}
		}
	}
	return spans
}

// overlaps reports two nodes' holdings that overlap in time: the audit
// "never two holders of one application, at any moment".
func overlaps(spans []span) []string {
	var out []string
	for i, a := range spans {
		for _, b := range spans[i+1:] {
			if a.node == b.node {
				continue
			}
			aEnd, bEnd := a.end, b.end
			if aEnd == 0 {
				aEnd = 1e18
			}
			if bEnd == 0 {
				bEnd = 1e18
			}
			if a.begin < bEnd && b.begin < aEnd {
				out = append(out, fmt.Sprintf("%s [%.3f, %.3f] and %s [%.3f, %.3f]", a.node, a.begin, a.end, b.node, b.begin, b.end))
			}
		}
	}
	return out
}

// cluster is a testbed running clmember on every host, with one
// application, web, whose scripts append to events.
type cluster struct {
	*testbed.Bed
	events string
	exited chan string
}

// startCluster writes conf on every host of b and the application on
// every cluster node, and starts clmember everywhere (--witness on the
// witness host).
func startCluster(t *testing.T, b *testbed.Bed, membership string) *cluster {
	t.Helper()
	c := &cluster{Bed: b, events: filepath.Join(b.Shared(), fmt.Sprintf("clmember-events-%d", time.Now().UnixNano())),
		exited: make(chan string, len(b.Nodes))}
	t.Cleanup(func() { os.Remove(c.events) })
	var nodes []string
	for _, n := range b.Nodes {
		if n != "witness" {
			nodes = append(nodes, n)
		}
	}
	conf := clconfN(nodes, membership)
	app := `<?xml version="1.0"?>
<appconf><global><version>0.2</version><name>web</name><takeover>normal</takeover></global>
<application><startscript>/etc/cluster/web/start</startscript><stopscript>/etc/cluster/web/stop</stopscript>
<maxstarttime>5</maxstarttime><maxstoptime>1</maxstoptime></application></appconf>
`
	for _, n := range b.Nodes {
		b.WriteFile(t, n, "/etc/cluster/clconf.xml", conf, 0o600)
		if n == "witness" {
			continue
		}
		b.WriteFile(t, n, "/etc/cluster/web/appconf.xml", app, 0o644)
		b.WriteFile(t, n, "/etc/cluster/web/start", "#!/bin/sh\necho \"$(date +%s.%N) $(hostname) begin $LINUXHA_TOKEN\" >> "+c.events+"\n", 0o755)
		b.WriteFile(t, n, "/etc/cluster/web/stop", "#!/bin/sh\nsleep 0.2\necho \"$(date +%s.%N) $(hostname) end\" >> "+c.events+"\n", 0o755)
	}
	for _, n := range b.Nodes {
		argv := []string{"clmember", "--nochecksums", "--file", "-"}
		if n == "witness" {
			argv = append(argv, "--witness")
		}
		cmd, out := b.Background(t, n, argv...)
		done := make(chan struct{})
		go func() { cmd.Wait(); c.exited <- n; close(done) }()
		t.Cleanup(func() {
			// The testbed's exec is only nsenter's parent: the daemon
			// inside holds the output pipe until it is killed itself.
			b.Exec(t, n, "", "pkill", "-KILL", "clmember")
			cmd.Process.Kill()
			<-done
			if t.Failed() {
				t.Logf("clmember on %s:\n%s", n, out)
			}
		})
	}
	return c
}

// spans reads the holdings so far, failing the test when a clmember
// has exited or two nodes' holdings overlap.
func (c *cluster) spans(t *testing.T) []span {
	t.Helper()
	select {
	case n := <-c.exited:
		t.Fatalf("clmember on %s exited", n)
	default:
	}
	s := readSpans(t, c.events)
	if o := overlaps(s); len(o) > 0 {
		t.Fatalf("two holders: %v", o)
	}
	return s
}

// firstOwner waits for the application's first start.
func (c *cluster) firstOwner(t *testing.T) span {
	t.Helper()
	var first span
	testbed.Eventually(t, 60*time.Second, "the application started on one node", func() bool {
		s := c.spans(t)
		if len(s) > 0 {
			first = s[0]
		}
		return len(s) > 0
	})
	return first
}

// takenOver splits owner from rest and waits for another node's start;
// it returns the old holding and the new one, and logs the times.
func (c *cluster) takenOver(t *testing.T, owner string, rest ...string) (span, span) {
	t.Helper()
	cut := float64(time.Now().UnixNano()) / 1e9
	c.Op(t, "split", owner, strings.Join(rest, ","))
	var next span
	testbed.Eventually(t, 30*time.Second, "the application started on the majority", func() bool {
		for _, s := range c.spans(t) {
			if s.node != owner {
				next = s
				return true
			}
		}
		return false
	})
	first := c.spans(t)[0]
	t.Logf("split at 0: %s stopped at +%.3f s; %s started at +%.3f s (token %d after %d)",
		owner, first.end-cut, next.node, next.begin-cut, next.token, first.token)
	if first.end == 0 || next.token <= first.token {
		t.Fatalf("spans %+v", c.spans(t))
	}
	return first, next
}

func TestPartitionedOwnerStopsFirst(t *testing.T) {
	// Issue 23: three nodes, each with an embedded etcd member; the node
	// running the application is partitioned from the other two. It must
	// stop within its lease TTL, and the majority start the application
	// only after: never two holders, no TOC window.
	b := testbed.UpNodes(t, 3, false)
	c := startCluster(t, b, `<membership mode="etcd" ttl="3s" heartbeat="50ms" election="500ms"/>`)
	owner := c.firstOwner(t).node
	st := b.Exec(t, owner, "", "clmember", "--status", "--nochecksums")
	t.Logf("clmember --status on %s:\n%s", owner, st.Output())
	if st.Code != 0 || !strings.Contains(st.Stdout, "web") || !strings.Contains(st.Stdout, owner) {
		t.Fatalf("clmember --status: exit %d\n%s", st.Code, st.Output())
	}
	var rest []string
	for _, n := range b.Nodes {
		if n != owner {
			rest = append(rest, n)
		}
	}
	time.Sleep(2 * time.Second) // some renewals
	c.takenOver(t, owner, rest...)
	// Healed, the old owner rejoins and does not start it again.
	b.Op(t, "heal")
	time.Sleep(5 * time.Second)
	if s := c.spans(t); len(s) != 2 {
		t.Fatalf("after the heal: %+v", s)
	}
	st = b.Exec(t, owner, "", "clmember", "--status", "--nochecksums")
	if st.Code != 0 || !strings.Contains(st.Stdout, "quorum") || strings.Contains(st.Stdout, "unreachable") {
		t.Fatalf("clmember --status after the heal: exit %d\n%s", st.Code, st.Output())
	}
}

func TestWitnessBreaksTheTie(t *testing.T) {
	// Issue 23: two nodes and a witness. A partition between the two
	// nodes ends with exactly one running, without a TOC: the owner and
	// the witness are a majority and it keeps its lease. Split from both,
	// the owner stops and the other node starts after.
	b := testbed.UpNodes(t, 2, true)
	c := startCluster(t, b, `<membership mode="etcd" variant="witness" ttl="3s" heartbeat="50ms" election="500ms">`+
		`<witness name="witness" address="172.16.177.9"/></membership>`)
	owner := c.firstOwner(t).node
	other := "servera"
	if owner == other {
		other = "serverb"
	}
	c.Op(t, "split", owner, other)
	time.Sleep(8 * time.Second) // more than two TTLs and an election
	if s := c.spans(t); len(s) != 1 || s[0].end != 0 {
		t.Fatalf("the pair split, the witness reaching both: %+v; want %s still running alone", s, owner)
	}
	c.Op(t, "heal")
	c.takenOver(t, owner, other, "witness")
}
