package failover

import (
	"fmt"
	"sort"

	"github.com/linuxha-ng/linuxha/pkg/daemonapi"
)

// What-if events of the simulator (clsimulate): what an administrator
// asks about, each turned into the event that the deciding node's daemon
// would see.
type (
	// NodeDies: Node crashes; the other node judges the silence Dead.
	NodeDies struct{ Node string }
	// NetworkFails: every card of Net fails on Node (clnetd's NET_FAILED).
	NetworkFails struct{ Net, Node string }
	// LemsFailover: App's Lems asks FAILOVER on the node that runs it.
	LemsFailover struct{ App string }
	// PartitionHeals: the two nodes talk again after each ran on alone;
	// each compares its registry with the other's (L6762-6764).
	PartitionHeals struct{}
)

// Step is one node's decision in a simulation.
type Step struct {
	Node    string   `json:"node"`    // the deciding node
	Event   string   `json:"event"`   // what it saw
	Actions []Action `json:"actions"` // in order, each with its reason
}

// Perspective returns v as node sees it: Me and Peer swapped when node is
// v's peer, and with them each application's stale flags.
func (v View) Perspective(node string) (View, error) {
	switch node {
	case v.Me:
		return v, nil
	case v.Peer:
	default:
		return View{}, fmt.Errorf("%s is not a node of this cluster (%s, %s)", node, v.Me, v.Peer)
	}
	w := v
	w.Me, w.Peer = v.Peer, v.Me
	w.Apps = make([]App, len(v.Apps))
	for i, a := range v.Apps {
		a.LocalStale, a.PeerStale = a.PeerStale, a.LocalStale
		w.Apps[i] = a
	}
	return w, nil
}

// Simulate says what the cluster's daemons would do about ev, from the
// views they hold (one per node; a node missing from views is seen
// through the other's view). Nothing is carried out: it is Decide and
// Reconcile, as the daemons call them.
func Simulate(views map[string]View, ev any) ([]Step, error) {
	if len(views) == 0 {
		return nil, fmt.Errorf("no view of the cluster")
	}
	var base View
	for _, n := range sortedKeys(views) {
		base = views[n]
		break
	}
	viewOf := func(node string) (View, error) {
		if v, ok := views[node]; ok {
			return v, nil
		}
		return base.Perspective(node)
	}
	other := func(node string) (string, error) {
		switch node {
		case base.Me:
			return base.Peer, nil
		case base.Peer:
			return base.Me, nil
		}
		return "", fmt.Errorf("%s is not a node of this cluster (%s, %s)", node, base.Me, base.Peer)
	}
	switch e := ev.(type) {
	case NodeDies:
		survivor, err := other(e.Node)
		if err != nil {
			return nil, err
		}
		v, _ := viewOf(survivor)
		v.PeerUp = false
		return []Step{{Node: survivor, Event: e.Node + " is dead (no heartbeat, no echo)", Actions: Decide(v, PeerDead{Verdict: Dead})}}, nil
	case NetworkFails:
		v, err := viewOf(e.Node)
		if err != nil {
			return nil, err
		}
		return []Step{{Node: e.Node, Event: "network " + e.Net + " has no working card", Actions: Decide(v, NetFailed{Net: e.Net})}}, nil
	case LemsFailover:
		node := ""
		for _, a := range base.Apps {
			if a.Name == e.App {
				node = a.Node
			}
		}
		if node == "" {
			return []Step{{Node: base.Me, Event: "Lems asks to fail " + e.App + " over",
				Actions: []Action{{Kind: Note, App: e.App, Why: "it runs nowhere, so no Lems watches it"}}}}, nil
		}
		v, err := viewOf(node)
		if err != nil {
			return nil, err
		}
		return []Step{{Node: node, Event: "Lems asks to fail " + e.App + " over", Actions: Decide(v, FailoverRequest{App: e.App})}}, nil
	case PartitionHeals:
		var steps []Step
		for _, me := range []string{base.Me, base.Peer} {
			v, _ := viewOf(me)
			peer, _ := other(me)
			pv, _ := viewOf(peer)
			theirs := map[string]Record{}
			for _, a := range pv.Apps {
				theirs[a.Name] = Record{State: a.State, Node: a.Node, Since: a.Since}
			}
			v.PeerUp = true
			steps = append(steps, Step{Node: me, Event: "the partition heals: registries compared", Actions: reconciled(v, Reconcile(v, daemonapi.NodeUp, theirs, false))})
		}
		return steps, nil
	}
	return nil, fmt.Errorf("unknown event %T", ev)
}

// reconciled turns a Reconciliation into the actions the daemon takes.
func reconciled(v View, r Reconciliation) []Action {
	var out []Action
	for _, ad := range r.Adopt {
		out = append(out, Action{Kind: Note, App: ad.App, Why: fmt.Sprintf("registry takes %s on %s: %s", ad.Record.State, ad.Record.Node, ad.Why)})
	}
	if r.Duplicate != nil {
		return append(out, Decide(v, *r.Duplicate)...)
	}
	if len(r.Lost) > 0 {
		out = append(out, Decide(v, PeerRestarted{Apps: r.Lost})...)
	}
	if len(out) == 0 {
		out = append(out, Action{Kind: Note, Why: "the registries agree: nothing to do"})
	}
	return out
}

func sortedKeys(m map[string]View) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
