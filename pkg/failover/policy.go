// Package failover holds every fail-over decision of the cluster daemon
// (Reference §21, L6226-6787) as pure functions of what the daemon knows
// and what just happened: no I/O, no clock, so that the whole policy can
// be read in one place and pinned by golden cases, the way Pacemaker's
// scheduler is. The daemon gathers a View, asks Decide, and carries out
// the Actions in order, one at a time (a wave of starts at once).
package failover

import (
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/linuxha-ng/linuxha/pkg/daemonapi"
)

// App is one application as the deciding daemon sees it.
type App struct {
	Name       string
	State      string // DOWN, STARTING, STARTED, STOPPING
	Node       string // where it runs ("" when DOWN)
	ValidNodes []string
	Takeover   string // "normal" or "force" (L1963, L6546)
	LocalStale bool   // this node's copy of some volume is STALE
	PeerStale  bool   // the other node's copy of some volume is STALE
	Deps       []string
	Networks   []string
	Since      time.Time // when it started (duplicate resolution, L6764)
	Checklist  bool      // it defines a checklist on some network
}

// View is the deciding node's knowledge.
type View struct {
	Me, Peer string
	PeerUp   bool // the other node's daemon is UP in the cluster
	Fence    bool // a fence command is configured
	Apps     []App
}

// Events.
type (
	// PeerDead: no heartbeat on any network and no echo (§21.3).
	PeerDead struct{ Verdict Verdict }
	// PeerDaemonDied: heartbeats stopped but the node answers (§21.5).
	PeerDaemonDied struct{}
	// FailoverRequest: Lems on this node asks to move App (L7636, §17.2).
	FailoverRequest struct{ App string }
	// NetFailed: clnetd has no working card left on Net (L6273-6275).
	NetFailed struct{ Net string }
	// PeerRestarted: the other node's daemon joined anew and reports
	// Apps DOWN, which this node had running there: the node restarted
	// faster than dead, so its death was never seen, and they died with
	// it (L6548).
	PeerRestarted struct{ Apps []string }
	// Duplicate: after a partition healed both nodes run App (L6762-6764).
	Duplicate struct {
		App       string
		PeerSince time.Time
	}
)

// Kind of action.
type Kind string

const (
	Fence    Kind = "fence"     // run the fence command against Node until it succeeds; stop if Node comes back
	MarkDown Kind = "mark-down" // record App as DOWN (it died with its node)
	Start    Kind = "start"     // clstartapp here; Force when the peer is dead; ClearStale with takeover=force
	Halt     Kind = "halt"      // clhaltapp here
	StartOn  Kind = "start-on"  // ask Node's daemon to start App (START_APP)
	SetValid Kind = "set-valid" // App's valid nodes become Nodes, on both daemons
	Reset    Kind = "reset"     // reset this node at once (TOC)
	Note     Kind = "note"      // log Why; nothing else
)

// Action is one step for the daemon to carry out.
type Action struct {
	Kind       Kind     `json:"kind"`
	App        string   `json:"application,omitempty"`
	Node       string   `json:"node,omitempty"`
	Nodes      []string `json:"nodes,omitempty"`
	Force      bool     `json:"force,omitempty"`
	ClearStale bool     `json:"clear_stale,omitempty"`
	// AddrsSilent: the verdict that let this start go ahead found the
	// application's addresses silent moments ago (L6743-6752), so the
	// start need not wait on an echo of them again.
	AddrsSilent bool `json:"addresses_silent,omitempty"`
	// Wave orders the starts of one decision: the starts of a wave run
	// at the same time, after every start of the waves before it. An
	// application's wave is one more than the latest of the applications
	// it depends on that start with it, so dependencies still come first
	// (L5795) while independent applications no longer wait for each
	// other (the Reference starts them one by one, L6538-6540).
	Wave int    `json:"wave,omitempty"`
	Why  string `json:"why"` // the rule, with its Reference line
}

func (a Action) String() string {
	s := string(a.Kind)
	if a.App != "" {
		s += " " + a.App
	}
	if a.Node != "" {
		s += " on " + a.Node
	}
	if len(a.Nodes) > 0 {
		s += fmt.Sprintf(" %v", a.Nodes)
	}
	if a.Force {
		s += " force"
	}
	if a.ClearStale {
		s += " clear-stale"
	}
	if a.AddrsSilent {
		s += " addrs-silent"
	}
	if a.Wave > 0 {
		s += fmt.Sprintf(" wave %d", a.Wave)
	}
	return s
}

// Decide returns what this node does about ev.
func Decide(v View, ev any) []Action {
	switch e := ev.(type) {
	case PeerDead:
		return peerDead(v, e.Verdict)
	case PeerDaemonDied:
		return []Action{{Kind: Note, Why: "only the other cluster daemon died: applications on both nodes are left alone (L6686-6692)"}}
	case FailoverRequest:
		return failoverRequest(v, e.App)
	case NetFailed:
		return netFailed(v, e.Net)
	case Duplicate:
		return duplicate(v, e)
	case PeerRestarted:
		return peerRestarted(v, e.Apps)
	}
	return nil
}

// peerDead takes over, one at a time and dependencies first, every
// application the dead node ran that may run here on current data
// (L6538-6546, L6754); a fence command, when configured, runs first and
// must succeed.
func peerDead(v View, verdict Verdict) []Action {
	if verdict != Dead {
		return []Action{{Kind: Note, Why: fmt.Sprintf("%s judged %s: no application state changes (L6754)", v.Peer, verdict)}}
	}
	var out []Action
	var theirs []App
	for _, a := range v.Apps {
		if a.Node == v.Peer && a.State != daemonapi.AppDown {
			theirs = append(theirs, a)
			out = append(out, Action{Kind: MarkDown, App: a.Name, Why: "it ran on the dead node (L6548)"})
		}
	}
	if len(theirs) == 0 {
		return append(out, Action{Kind: Note, Why: "the dead node ran no applications: its copies become stale (L6536)"})
	}
	starts := takeOver(v, theirs, true)
	if v.Fence && slices.ContainsFunc(starts, func(a Action) bool { return a.Kind == Start }) {
		out = append(out, Action{Kind: Fence, Node: v.Peer, Why: "fence the dead node before taking its applications (fencing hook)"})
	}
	return append(out, starts...)
}

// takeOver starts here, dependencies first, each of apps that may run
// here on current data (L6538-6546); force when the other node is dead.
// Independent applications share a wave (Action.Wave).
func takeOver(v View, apps []App, force bool) []Action {
	var out []Action
	wave := map[string]int{} // of each application started here
	for _, a := range order(apps) {
		switch {
		case !slices.Contains(a.ValidNodes, v.Me):
			out = append(out, Action{Kind: Note, App: a.Name, Why: v.Me + " is not a valid node for it (no fail-back, L6516-6520)"})
		case a.LocalStale && a.Takeover != "force":
			out = append(out, Action{Kind: Note, App: a.Name, Why: "the local copy is stale and takeover is normal: not started (L6542)"})
		default:
			w := 0
			for _, d := range a.Deps {
				if dw, ok := wave[d]; ok {
					w = max(w, dw+1)
				}
			}
			wave[a.Name] = w
			out = append(out, Action{Kind: Start, App: a.Name, Force: force, ClearStale: a.LocalStale, AddrsSilent: force, Wave: w,
				Why: "take over the application its node lost (L6538-6540)"})
		}
	}
	return out
}

// peerRestarted treats the applications a restarted node lost as a
// node death would (L6538-6548), but the node is up again: no fence is
// needed (its own daemon reports them stopped), and they start here the
// ordinary way, with the other node's part in the start (its replication
// as standby) rather than forced past it. Applications it reports
// running, or that this node does not think ran there, are not touched.
func peerRestarted(v View, names []string) []Action {
	var out []Action
	var lost []App
	for _, a := range v.Apps {
		if slices.Contains(names, a.Name) && a.Node == v.Peer && a.State != daemonapi.AppDown {
			lost = append(lost, a)
			out = append(out, Action{Kind: MarkDown, App: a.Name, Why: v.Peer + " restarted without it: it died with the node (L6548)"})
		}
	}
	if len(lost) == 0 {
		return []Action{{Kind: Note, Why: v.Peer + " restarted; none of its applications were lost"}}
	}
	return append(out, takeOver(v, lost, false)...)
}

// failoverRequest stops the application here and starts it on the other
// node, which it leaves as the only valid node so that it never bounces
// back (L6516-6520); with no usable other node it halts (L7615).
func failoverRequest(v View, name string) []Action {
	a, ok := find(v, name)
	if !ok {
		return []Action{{Kind: Note, App: name, Why: "not a registered application"}}
	}
	if a.Node != v.Me || a.State != daemonapi.AppStarted {
		return []Action{{Kind: Note, App: name, Why: "not running on " + v.Me + ": nothing to fail over"}}
	}
	if why := cannotMove(v, a); why != "" {
		out := []Action{{Kind: Halt, App: name, Why: why + ": halted instead of failed over (L6516-6520)"}}
		// It failed here: not valid here until reset, unless that would
		// leave no valid node at all (it has failed on both: it stays
		// halted, and clrunapp --reset brings it back).
		if rest := without(a.ValidNodes, v.Me); len(rest) > 0 {
			out = append(out, Action{Kind: SetValid, App: name, Nodes: rest, Why: "no fail-back to the node that failed it (L6516)"})
		}
		return out
	}
	return []Action{
		{Kind: SetValid, App: name, Nodes: without(a.ValidNodes, v.Me), Why: "no fail-back to the node that failed it (L6516-6520)"},
		{Kind: Halt, App: name, Why: "software fail-over: stop here first (L4749)"},
		{Kind: StartOn, App: name, Node: v.Peer, Why: "and start on the other node (L4749)"},
	}
}

// netFailed moves the applications that have addresses on the failed
// network to the other node when it can take them; the others stay
// (L6275).
func netFailed(v View, net string) []Action {
	var out []Action
	for _, a := range order(v.Apps) {
		if a.Node != v.Me || a.State != daemonapi.AppStarted || !slices.Contains(a.Networks, net) {
			continue
		}
		if why := cannotMove(v, a); why != "" {
			out = append(out, Action{Kind: Note, App: a.Name, Why: why + ": stays, without network " + net})
			continue
		}
		out = append(out,
			Action{Kind: Halt, App: a.Name, Why: "network " + net + " failed here (L6275)"},
			Action{Kind: StartOn, App: a.Name, Node: v.Peer, Why: "on the node where " + net + " works (L6275)"})
	}
	if len(out) == 0 {
		out = append(out, Action{Kind: Note, Why: "no application here uses network " + net + " (L6275)"})
	}
	return out
}

// duplicate resolves two nodes running one application after a
// partition: the node that started it first resets at once, with no
// sync (L6762-6764). Equal start times fall to the node whose name sorts
// first, so exactly one node resets.
func duplicate(v View, d Duplicate) []Action {
	a, ok := find(v, d.App)
	if !ok || a.Node != v.Me || a.State != daemonapi.AppStarted {
		return []Action{{Kind: Note, App: d.App, Why: "not running here: nothing to resolve"}}
	}
	// APP_STATUS carries start times in whole seconds: compare at that
	// resolution on both nodes, or each may find the other one first.
	mine, theirs := a.Since.Unix(), d.PeerSince.Unix()
	mineFirst := mine < theirs || mine == theirs && v.Me < v.Peer
	if mineFirst {
		return []Action{{Kind: Reset, App: d.App, Why: "both nodes run it; this node started it first and resets (L6764)"}}
	}
	return []Action{{Kind: Note, App: d.App, Why: "both nodes run it; " + v.Peer + " started it first and resets (L6764)"}}
}

// cannotMove says why an application cannot go to the other node now.
func cannotMove(v View, a App) string {
	switch {
	case !v.PeerUp:
		return v.Peer + " is not up"
	case !slices.Contains(a.ValidNodes, v.Peer):
		return v.Peer + " is not a valid node for it"
	case a.PeerStale:
		return v.Peer + "'s copy of its data is stale"
	}
	return ""
}

// order sorts applications so that each comes after those it depends
// on, and otherwise by name.
func order(apps []App) []App {
	byName := map[string]App{}
	var names []string
	for _, a := range apps {
		byName[a.Name] = a
		names = append(names, a.Name)
	}
	sort.Strings(names)
	var out []App
	done := map[string]bool{}
	var visit func(n string, depth int)
	visit = func(n string, depth int) {
		a, ok := byName[n]
		if !ok || done[n] || depth > len(apps) {
			return
		}
		done[n] = true
		deps := append([]string(nil), a.Deps...)
		sort.Strings(deps)
		for _, d := range deps {
			visit(d, depth+1)
		}
		out = append(out, a)
	}
	for _, n := range names {
		visit(n, 0)
	}
	return out
}

func find(v View, name string) (App, bool) {
	for _, a := range v.Apps {
		if a.Name == name {
			return a, true
		}
	}
	return App{}, false
}

func without(l []string, s string) []string {
	var out []string
	for _, x := range l {
		if x != s {
			out = append(out, x)
		}
	}
	return out
}
