// Package membership decides, from heartbeats alone, whether the peer is
// alive. It is pure: callers pass the time and get events back; the
// cluster daemon sends and receives the heartbeats.
//
// Heartbeats travel on every network of the topology at once (DESIGN §5;
// the Reference used one path at a time and re-scanned after warn,
// L1575-1577). Each silent path gets one warning after warn (L1548); the
// peer counts as silent only when every path has been silent for dead
// (L1549), so losing one of two networks never looks like a dead node.
package membership

import (
	"fmt"
	"time"
)

// Kind of event.
type Kind int

const (
	PathSilent   Kind = 1 + iota // a path heard nothing for warn
	PathRestored                 // a silent path is heard again
	PeerSilent                   // every path silent for dead: the peer may be dead
	PeerHeard                    // first heartbeat, or the first after PeerSilent
	AllSilent                    // every path silent for warn: time to ask whether the host answers (L6682)
	Stalled                      // this daemon itself did not run for longer than warn: silences restart
)

func (k Kind) String() string {
	switch k {
	case PathSilent:
		return "PathSilent"
	case PathRestored:
		return "PathRestored"
	case PeerSilent:
		return "PeerSilent"
	case PeerHeard:
		return "PeerHeard"
	case AllSilent:
		return "AllSilent"
	case Stalled:
		return "Stalled"
	}
	return "Unknown"
}

// Event is something the daemon must log or act on.
type Event struct {
	Kind   Kind
	Path   string        // the network, for path events
	Silent time.Duration // how long it has been silent
}

func (e Event) String() string {
	if e.Path == "" {
		return fmt.Sprintf("%v after %v", e.Kind, e.Silent)
	}
	return fmt.Sprintf("%v %s after %v", e.Kind, e.Path, e.Silent)
}

type path struct {
	name   string
	last   time.Time
	silent bool
}

// Core tracks the paths to one peer. The zero value is not usable.
type Core struct {
	warn, dead time.Duration
	paths      []*path
	peerSilent bool // declared silent and not heard since
	allSilent  bool // AllSilent reported and no path heard since
	heard      bool // heard at all since start
}

// New starts tracking the named paths at now, counting each as just heard
// so that a peer gets dead seconds to speak before it is declared silent.
func New(paths []string, warn, dead time.Duration, now time.Time) *Core {
	c := &Core{warn: warn, dead: dead}
	for _, p := range paths {
		c.paths = append(c.paths, &path{name: p, last: now})
	}
	return c
}

// Heard records a heartbeat on the named path.
func (c *Core) Heard(name string, now time.Time) []Event {
	var evs []Event
	for _, p := range c.paths {
		if p.name != name {
			continue
		}
		if p.silent {
			evs = append(evs, Event{Kind: PathRestored, Path: name, Silent: now.Sub(p.last)})
			p.silent = false
		}
		p.last = now
		c.allSilent = false
	}
	if c.peerSilent || !c.heard {
		evs = append(evs, Event{Kind: PeerHeard, Path: name})
		c.peerSilent = false
		// The other paths start a fresh count: they may come back too.
		for _, p := range c.paths {
			if p.silent && p.name != name {
				p.last = now
				p.silent = false
			}
		}
	}
	c.heard = true
	return evs
}

// Stalled is asked by a judging loop that meant to run at planned and
// runs at now. Late by more than warn, the daemon itself was stopped
// (SIGSTOP, a paused or frozen machine, swapping): the silence it would
// measure is its own, and the heartbeats that came meanwhile still wait
// in its socket. Every path's silence then starts again at now, so the
// peer is judged only after it has had warn and dead to be heard, and a
// Stalled event says for how long this daemon was away (Corosync does
// the same: "process pause detected"). Otherwise nothing happens.
func (c *Core) Stalled(planned, now time.Time) []Event {
	late := now.Sub(planned)
	if late <= c.warn || c.peerSilent {
		return nil
	}
	for _, p := range c.paths {
		p.last = now
	}
	return []Event{{Kind: Stalled, Silent: late}}
}

// Next is the earliest time at which Tick can report something if no
// heartbeat comes first: a speaking path's warn, or every path's dead. ok
// is false when nothing is pending (the peer is declared silent, and only
// a heartbeat can change that). A daemon that ticks at Next instead of on
// a fixed period judges at the exact deadline and sleeps in between.
func (c *Core) Next() (at time.Time, ok bool) {
	if c.peerSilent || len(c.paths) == 0 {
		return time.Time{}, false
	}
	var newest time.Time
	for _, p := range c.paths {
		if p.last.After(newest) {
			newest = p.last
		}
		if w := p.last.Add(c.warn); !p.silent && (!ok || w.Before(at)) {
			at, ok = w, true
		}
	}
	if d := newest.Add(c.dead); !ok || d.Before(at) {
		at = d
	}
	return at, true
}

// Tick reports paths that fell silent and, once, a peer silent on all.
func (c *Core) Tick(now time.Time) []Event {
	var evs []Event
	newest := time.Time{}
	for _, p := range c.paths {
		if p.last.After(newest) {
			newest = p.last
		}
		if !p.silent && now.Sub(p.last) >= c.warn && !c.peerSilent {
			p.silent = true
			evs = append(evs, Event{Kind: PathSilent, Path: p.name, Silent: now.Sub(p.last)})
		}
	}
	if !c.allSilent && !c.peerSilent && len(c.paths) > 0 && c.everySilent() {
		c.allSilent = true
		evs = append(evs, Event{Kind: AllSilent, Silent: now.Sub(newest)})
	}
	if !c.peerSilent && len(c.paths) > 0 && now.Sub(newest) >= c.dead {
		c.peerSilent = true
		evs = append(evs, Event{Kind: PeerSilent, Silent: now.Sub(newest)})
	}
	return evs
}

func (c *Core) everySilent() bool {
	for _, p := range c.paths {
		if !p.silent {
			return false
		}
	}
	return true
}

// SetTimings changes warn and dead from the next Tick on (RECONFIGURE).
func (c *Core) SetTimings(warn, dead time.Duration) { c.warn, c.dead = warn, dead }

// Alive reports whether the peer has been heard and not declared silent.
func (c *Core) Alive() bool { return c.heard && !c.peerSilent }

// Reset forgets the peer (it left the cluster on purpose): it is no longer
// expected until heard again.
func (c *Core) Reset(now time.Time) {
	c.heard, c.peerSilent, c.allSilent = false, false, false
	for _, p := range c.paths {
		p.last, p.silent = now, false
	}
}

// Since is how long ago the named path last carried a heartbeat, and
// whether there was one to measure from (a path of an unknown name, or a
// core still waiting for its first heartbeat, has none): the interval
// between heartbeats, when asked just before Heard.
func (c *Core) Since(name string, now time.Time) (time.Duration, bool) {
	if !c.heard {
		return 0, false
	}
	for _, p := range c.paths {
		if p.name == name {
			return now.Sub(p.last), true
		}
	}
	return 0, false
}

// Waiting reports whether the core waits for a first heartbeat.
func (c *Core) Waiting() bool { return !c.heard }

// PathState is one path as the core sees it, for metrics.
type PathState struct {
	Name   string
	Silent bool          // warn passed without a heartbeat
	Age    time.Duration // since its last heartbeat (or since tracking began)
}

// Paths reports every path at now, in configuration order.
func (c *Core) Paths(now time.Time) []PathState {
	out := make([]PathState, 0, len(c.paths))
	for _, p := range c.paths {
		out = append(out, PathState{Name: p.name, Silent: p.silent, Age: now.Sub(p.last)})
	}
	return out
}
