package clmember_test

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
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

func TestPartitionedOwnerStopsFirst(t *testing.T) {
	// Issue 23: three nodes, each with an embedded etcd member; the node
	// running the application is partitioned from the other two. It must
	// stop within its lease TTL, and the majority start the application
	// only after: never two holders, no TOC window.
	b := testbed.UpNodes(t, 3, false)
	events := filepath.Join(b.Shared(), fmt.Sprintf("clmember-events-%d", time.Now().UnixNano()))
	t.Cleanup(func() { os.Remove(events) })
	conf := clconfN(b.Nodes, `<membership mode="etcd" ttl="3s" heartbeat="50ms" election="500ms"/>`)
	app := `<?xml version="1.0"?>
<appconf><global><version>0.2</version><name>web</name><takeover>normal</takeover></global>
<application><startscript>/etc/cluster/web/start</startscript><stopscript>/etc/cluster/web/stop</stopscript>
<maxstarttime>5</maxstarttime><maxstoptime>1</maxstoptime></application></appconf>
`
	for _, n := range b.Nodes {
		b.WriteFile(t, n, "/etc/cluster/clconf.xml", conf, 0o600)
		b.WriteFile(t, n, "/etc/cluster/web/appconf.xml", app, 0o644)
		b.WriteFile(t, n, "/etc/cluster/web/start", "#!/bin/sh\necho \"$(date +%s.%N) $(hostname) begin $LINUXHA_TOKEN\" >> "+events+"\n", 0o755)
		b.WriteFile(t, n, "/etc/cluster/web/stop", "#!/bin/sh\nsleep 0.2\necho \"$(date +%s.%N) $(hostname) end\" >> "+events+"\n", 0o755)
	}
	exited := make(chan string, len(b.Nodes))
	for _, n := range b.Nodes {
		c, out := b.Background(t, n, "clmember", "run", "--nochecksums", "--file", "-")
		done := make(chan struct{})
		go func() { c.Wait(); exited <- n; close(done) }()
		t.Cleanup(func() {
			// The testbed's exec is only nsenter's parent: the daemon
			// inside holds the output pipe until it is killed itself.
			b.Exec(t, n, "", "pkill", "-KILL", "clmember")
			c.Process.Kill()
			<-done
			if t.Failed() {
				t.Logf("clmember on %s:\n%s", n, out)
			}
		})
	}
	alive := func() {
		select {
		case n := <-exited:
			t.Fatalf("clmember on %s exited", n)
		default:
		}
	}
	var owner string
	testbed.Eventually(t, 60*time.Second, "the application started on one node", func() bool {
		alive()
		s := readSpans(t, events)
		if len(s) > 0 {
			owner = s[0].node
		}
		return len(s) > 0
	})
	st := b.Exec(t, owner, "", "clmember", "status", "--nochecksums")
	t.Logf("clmember status on %s:\n%s", owner, st.Output())
	if st.Code != 0 || !strings.Contains(st.Stdout, "web") || !strings.Contains(st.Stdout, owner) {
		t.Fatalf("clmember status: exit %d\n%s", st.Code, st.Output())
	}
	var rest []string
	for _, n := range b.Nodes {
		if n != owner {
			rest = append(rest, n)
		}
	}
	time.Sleep(2 * time.Second) // some renewals
	cut := float64(time.Now().UnixNano()) / 1e9
	b.Op(t, "split", owner, strings.Join(rest, ","))
	var next span
	testbed.Eventually(t, 30*time.Second, "the application started on the majority", func() bool {
		for _, s := range readSpans(t, events) {
			if s.node != owner {
				next = s
				return true
			}
		}
		return false
	})
	spans := readSpans(t, events)
	if o := overlaps(spans); len(o) > 0 {
		t.Fatalf("two holders: %v", o)
	}
	first := spans[0]
	t.Logf("split at 0: %s stopped at +%.3f s; %s started at +%.3f s (token %d after %d)",
		owner, first.end-cut, next.node, next.begin-cut, next.token, first.token)
	if first.end == 0 || next.token <= first.token {
		t.Fatalf("spans %+v", spans)
	}
	// Healed, the old owner rejoins and does not start it again.
	b.Op(t, "heal")
	time.Sleep(5 * time.Second)
	spans = readSpans(t, events)
	if o := overlaps(spans); len(o) > 0 {
		t.Fatalf("two holders after the heal: %v", o)
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].begin < spans[j].begin })
	if len(spans) != 2 {
		t.Fatalf("after the heal: %+v", spans)
	}
	st = b.Exec(t, owner, "", "clmember", "status", "--nochecksums")
	if st.Code != 0 || !strings.Contains(st.Stdout, "quorum") || strings.Contains(st.Stdout, "unreachable") {
		t.Fatalf("clmember status after the heal: exit %d\n%s", st.Code, st.Output())
	}
}
