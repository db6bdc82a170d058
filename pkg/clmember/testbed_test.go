package clmember_test

import (
	"strings"
	"testing"
	"time"

	"github.com/linuxha-ng/linuxha/internal/testbed"
)

// takenOver splits owner from rest and waits for another node's start;
// it logs the times and checks the new token is later.
func takenOver(t *testing.T, c *testbed.EtcdCluster, owner string, rest ...string) {
	t.Helper()
	cut := float64(time.Now().UnixNano()) / 1e9
	c.Op(t, "split", owner, strings.Join(rest, ","))
	var next testbed.Span
	testbed.Eventually(t, 30*time.Second, "the application started on the majority", func() bool {
		for _, s := range c.Spans(t) {
			if s.Node != owner {
				next = s
				return true
			}
		}
		return false
	})
	first := c.Spans(t)[0]
	t.Logf("split at 0: %s stopped at +%.3f s; %s started at +%.3f s (token %d after %d)",
		owner, first.End-cut, next.Node, next.Begin-cut, next.Token, first.Token)
	if first.End == 0 || next.Token <= first.Token {
		t.Fatalf("spans %+v", c.Spans(t))
	}
}

func TestPartitionedOwnerStopsFirst(t *testing.T) {
	// Issue 23: three nodes, each with an embedded etcd member; the node
	// running the application is partitioned from the other two. It must
	// stop within its lease TTL, and the majority start the application
	// only after: never two holders, no TOC window.
	b := testbed.UpNodes(t, 3, false)
	c := b.StartEtcd(t, `<membership mode="etcd" ttl="3s" heartbeat="50ms" election="500ms"/>`)
	owner := c.WaitHolder(t, 60*time.Second).Node
	st := b.Exec(t, owner, "", "clmember", "--status")
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
	takenOver(t, c, owner, rest...)
	// Healed, the old owner rejoins and does not start it again.
	b.Op(t, "heal")
	time.Sleep(5 * time.Second)
	if s := c.Spans(t); len(s) != 2 {
		t.Fatalf("after the heal: %+v", s)
	}
	st = b.Exec(t, owner, "", "clmember", "--status")
	if st.Code != 0 || !strings.Contains(st.Stdout, "quorum") || strings.Contains(st.Stdout, "unreachable") {
		t.Fatalf("clmember --status after the heal: exit %d\n%s", st.Code, st.Output())
	}
	// clmember killed on the holder and started again at once (as a
	// service manager does): the new one stops what the old one ran
	// before anything else, so the application moves without overlap.
	h, _ := c.Holder(t)
	c.Kill(t, h.Node)
	c.Run(t, h.Node)
	testbed.Eventually(t, 30*time.Second, "the application running again", func() bool {
		s := c.Spans(t)
		return len(s) > 3 || (len(s) == 3 && s[2].End == 0)
	})
}

func TestWitnessBreaksTheTie(t *testing.T) {
	// Issue 23: two nodes and a witness. A partition between the two
	// nodes ends with exactly one running, without a TOC: the owner and
	// the witness are a majority and it keeps its lease. Split from both,
	// the owner stops and the other node starts after.
	b := testbed.UpNodes(t, 2, true)
	c := b.StartEtcd(t, `<membership mode="etcd" variant="witness" ttl="3s" heartbeat="50ms" election="500ms">`+
		`<witness name="witness" address="172.16.177.9"/></membership>`)
	owner := c.WaitHolder(t, 60*time.Second).Node
	// The witness leads etcd (placement.LeaderFor): led by the other
	// node, the owner would be the side cut off from the leader and the
	// application would move (CI22).
	testbed.Eventually(t, 20*time.Second, "the witness leading etcd", func() bool { return c.Leader(t, owner) == "witness" })
	other := "servera"
	if owner == other {
		other = "serverb"
	}
	c.Op(t, "split", owner, other)
	time.Sleep(8 * time.Second) // more than two TTLs and an election
	if s := c.Spans(t); len(s) != 1 || s[0].End != 0 {
		t.Fatalf("the pair split, the witness reaching both: %+v; want %s still running alone", s, owner)
	}
	c.Op(t, "heal")
	takenOver(t, c, owner, other, "witness")
}
