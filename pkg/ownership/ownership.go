// Package ownership decides, in the etcd membership mode (issue 23),
// whether this node may run an application it owns through an election
// key on a lease: a pure function of what the node knows of its lease and
// of one event, apart from the etcd client that feeds it, as etcd's raft
// keeps its state machine apart from the network.
//
// The rule that keeps a minority from running what the majority starts:
// the lease expires on the etcd server TTL after the server last renewed
// it, and the server renewed it no earlier than the moment this node sent
// the keep-alive request that was answered. So the lease is known to hold
// until Sent + TTL on this node's own monotonic clock, whatever the
// clocks of the machines say; the application must be stopped before
// that, by how long its stop may take plus a margin. Another node can win
// the key only after the server-side expiry, so it starts after this
// node has stopped. Patroni demotes on the same reasoning when it cannot
// update its leader key within its ttl.
package ownership

import (
	"fmt"
	"time"
)

// State is what this node knows of one application's ownership.
type State struct {
	Holding bool  // this node holds the application's election key
	Token   int64 // the election key's creation revision: the fencing token
	// Sent is when the keep-alive request last answered by etcd was sent
	// (zero before the first): the lease holds until Sent + TTL.
	Sent    time.Time
	TTL     time.Duration // the lease's TTL as granted
	Running bool          // the application runs (or is starting) here
	// StopTime is how long the application's stop may take (appconf's
	// maxstoptime) and Margin what is kept besides (scheduling, the
	// address's removal): the stop begins StopTime + Margin before the
	// lease could lapse.
	StopTime, Margin time.Duration
	// Renew is the keep-alive period: the application is started only
	// with more than one period left before it must stop, so that a
	// renewal can come first; a start with less would be stopped again
	// at once when the next renewal is late.
	Renew time.Duration
}

// Deadline is when the application must begin to stop if the lease has
// not been renewed since: Sent + TTL - StopTime - Margin.
func (s State) Deadline() time.Time { return s.Sent.Add(s.TTL - s.StopTime - s.Margin) }

// Kind is an event's kind.
type Kind int

const (
	Tick    Kind = iota // time passes
	Renewed             // a keep-alive request sent at Sent was answered with TTL
	Won                 // the election was won at revision Rev; the request sent at Sent granted the lease
	Lost                // the key is gone (revoked, expired, or another holds it)
)

// Event is one thing that happened, at Now.
type Event struct {
	Kind Kind
	Now  time.Time
	Sent time.Time // Renewed, Won: when the answered request was sent
	TTL  time.Duration
	Rev  int64
}

// Do is what the node must do.
type Do int

const (
	Nothing Do = iota
	Start      // start the application, with State.Token as its fencing token
	Stop       // stop it now: the lease may lapse before the stop ends
)

func (d Do) String() string { return [...]string{"nothing", "start", "stop"}[d] }

// Decide returns the new state, what to do and why.
func Decide(s State, e Event) (State, Do, string) {
	switch e.Kind {
	case Won:
		s.Holding, s.Token, s.Sent, s.TTL = true, e.Rev, e.Sent, e.TTL
	case Renewed:
		// An answer to an older request than the last one counted says
		// nothing new; keep the later Sent.
		if s.Holding && e.Sent.After(s.Sent) {
			s.Sent, s.TTL = e.Sent, e.TTL
		}
	case Lost:
		s.Holding = false
		if s.Running {
			return s, Stop, "the application's key is lost: another node may win it"
		}
		return s, Nothing, ""
	}
	now := e.Now
	if e.Kind == Tick && !s.Holding {
		if s.Running {
			return s, Stop, "this node does not hold the application's key"
		}
		return s, Nothing, ""
	}
	if !s.Holding {
		return s, Nothing, ""
	}
	left := s.Deadline().Sub(now)
	switch {
	case s.Running && left <= 0:
		return s, Stop, fmt.Sprintf("the lease was last renewed by a request sent %v ago and lapses in %v: less than the stop's %v and margin %v",
			now.Sub(s.Sent).Round(time.Millisecond), (s.TTL - now.Sub(s.Sent)).Round(time.Millisecond), s.StopTime, s.Margin)
	case !s.Running && left > s.Renew:
		return s, Start, fmt.Sprintf("this node holds the key (revision %d) with %v before it must stop", s.Token, left.Round(time.Millisecond))
	}
	return s, Nothing, ""
}
