// Package placement orders the nodes that may run an application in the
// etcd membership mode (issue 23): a pure function of the application's
// placement settings and what etcd knows of the nodes, as the Reference's
// preferred_node (L5795) and DRCM's ordered backup lists say. The node
// first in the order campaigns for a free key at once, the next after a
// stagger, and so on (pkg/owner), so that the best node alive wins.
package placement

import (
	"cmp"
	"slices"

	"github.com/linuxha-ng/linuxha/pkg/config"
)

// Candidate is a node of the cluster as etcd knows it.
type Candidate struct {
	Name  string
	Alive bool    // its clmember's registration holds
	Apps  int     // applications it owns (LEAST_APP_LOAD)
	Load  float64 // its 1-minute load average (LEAST_CPU_LOAD)
}

// Valid lists the nodes that may run an application: the preferred node
// and the backups when backups are given (DRCM's node_backup list; with
// storage, the pair holding its data), else every node.
func Valid(preferred string, backups []string, nodes []string) []string {
	if len(backups) == 0 {
		return nodes
	}
	var out []string
	if slices.Contains(nodes, preferred) {
		out = append(out, preferred)
	}
	for _, b := range backups {
		if slices.Contains(nodes, b) && !slices.Contains(out, b) {
			out = append(out, b)
		}
	}
	return out
}

// Order returns the valid nodes that are alive, best first: the preferred
// node, then the backups in their order, then the others in the
// configuration's order; with LEAST_APP_LOAD or LEAST_CPU_LOAD the fewest
// applications or the lowest load first, ties in that same order.
func Order(preferred string, backups []string, cands []Candidate) []string {
	var names []string
	for _, c := range cands {
		names = append(names, c.Name)
	}
	valid := Valid(preferred, backups, names)
	// The static order: preferred, backups, then the configuration's.
	pos := func(n string) int {
		switch i := slices.Index(backups, n); {
		case n == preferred:
			return -1
		case i >= 0:
			return i
		}
		return len(backups) + slices.Index(names, n)
	}
	var alive []Candidate
	for _, c := range cands {
		if c.Alive && slices.Contains(valid, c.Name) {
			alive = append(alive, c)
		}
	}
	slices.SortStableFunc(alive, func(a, b Candidate) int {
		switch preferred {
		case config.LeastAppLoad:
			if c := cmp.Compare(a.Apps, b.Apps); c != 0 {
				return c
			}
		case config.LeastCPULoad:
			if c := cmp.Compare(a.Load, b.Load); c != 0 {
				return c
			}
		}
		return cmp.Compare(pos(a.Name), pos(b.Name))
	})
	out := make([]string, len(alive))
	for i, c := range alive {
		out[i] = c.Name
	}
	return out
}

// Rank is me's place in Order (0 = best); ok is false when me may not
// run the application or is not alive. Without a preference (no
// preferred node, no backups) every valid node ranks first: none waits a
// stagger for a better one, since none is (a crashed owner still looks
// alive until its registration's lease lapses, and would make the others
// wait behind it).
func Rank(me, preferred string, backups []string, cands []Candidate) (int, bool) {
	i := slices.Index(Order(preferred, backups, cands), me)
	if i > 0 && preferred == "" && len(backups) == 0 {
		i = 0
	}
	return i, i >= 0
}

// LeaderFor says where etcd's raft leadership should move when this
// member, me, leads: to the member owning fewest applications, when it
// owns fewer than me. A crashed owner that also led costs an election
// and a full lease TTL from the new leader's promotion (etcd extends
// every lease then) before its applications move; an owner that does
// not lead costs only the rest of its lease. members are every voting
// member; ties go to the first in members' order.
//
// A witness (witness, "" without one) is always the leader to have: it
// owns nothing and reaches both nodes of its pair, so a split between
// the two leaves the owner renewing its lease through it and the
// application where it runs. Led by the other node instead, the owner
// is the side cut off from the leader (etcd's CheckQuorum keeps a
// leader that reaches a majority) and the application moves for nothing
// (CI22's TestWitnessBreaksTheTie).
func LeaderFor(me string, members []string, owned map[string]int, witness string) (string, bool) {
	if witness != "" {
		if me == witness || !slices.Contains(members, witness) {
			return "", false
		}
		return witness, true
	}
	best := ""
	for _, m := range members {
		if m != me && (best == "" || owned[m] < owned[best]) {
			best = m
		}
	}
	if best == "" || owned[best] >= owned[me] {
		return "", false
	}
	return best, true
}
