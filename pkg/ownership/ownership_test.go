package ownership

import (
	"strings"
	"testing"
	"time"
)

// Golden cases: each pins what is done and why (issue 23: "when it cannot
// renew the lease before its TTL it stops the application ... before
// another node can win the key").
func TestDecide(t *testing.T) {
	t0 := time.Unix(1000, 0)
	held := State{Holding: true, Token: 7, Sent: t0, TTL: 10 * time.Second, Running: true, StopTime: 3 * time.Second, Margin: time.Second}
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	for _, c := range []struct {
		name   string
		s      State
		e      Event
		do     Do
		why    string
		holds  bool
		sentAt time.Time
	}{
		{"won: start with the revision as token", State{StopTime: 3 * time.Second, Margin: time.Second},
			Event{Kind: Won, Now: t0, Sent: t0, TTL: 10 * time.Second, Rev: 42}, Start, "revision 42", true, t0},
		{"running, renewed in time: nothing", held, Event{Kind: Tick, Now: at(5 * time.Second)}, Nothing, "", true, t0},
		// 10 s TTL - 3 s stop - 1 s margin: the stop begins 6 s after
		// the last answered request was sent, not 10.
		{"not renewed for TTL - stop - margin: stop", held, Event{Kind: Tick, Now: at(6 * time.Second)}, Stop, "less than the stop's 3s", true, t0},
		{"renewed: the deadline moves", held, Event{Kind: Renewed, Now: at(5 * time.Second), Sent: at(4 * time.Second), TTL: 10 * time.Second}, Nothing, "", true, at(4 * time.Second)},
		// An answer to an older request (sent before the last counted)
		// does not move the deadline back or forth.
		{"a late answer to an old request", State{Holding: true, Sent: at(4 * time.Second), TTL: 10 * time.Second, Running: true, StopTime: 3 * time.Second, Margin: time.Second},
			Event{Kind: Renewed, Now: at(5 * time.Second), Sent: at(2 * time.Second), TTL: 10 * time.Second}, Nothing, "", true, at(4 * time.Second)},
		{"key lost while running: stop", held, Event{Kind: Lost, Now: at(time.Second)}, Stop, "key is lost", false, t0},
		{"key lost while stopped: nothing", State{Holding: true}, Event{Kind: Lost}, Nothing, "", false, time.Time{}},
		// Won, but the request that granted the lease is already too old
		// to leave time for a stop: do not start.
		{"won too late to start", State{StopTime: 3 * time.Second, Margin: time.Second},
			Event{Kind: Won, Now: t0, Sent: at(-7 * time.Second), TTL: 10 * time.Second, Rev: 5}, Nothing, "", true, at(-7 * time.Second)},
		// Won with 1.5 s left before the stop, but renewals come every
		// 2 s: wait for one rather than start and stop again.
		{"won with less than a renewal left", State{StopTime: 3 * time.Second, Margin: time.Second, Renew: 2 * time.Second},
			Event{Kind: Won, Now: t0, Sent: at(-4500 * time.Millisecond), TTL: 10 * time.Second, Rev: 5}, Nothing, "", true, at(-4500 * time.Millisecond)},
		{"won with more than a renewal left", State{StopTime: 3 * time.Second, Margin: time.Second, Renew: 2 * time.Second},
			Event{Kind: Won, Now: t0, Sent: at(-3500 * time.Millisecond), TTL: 10 * time.Second, Rev: 5}, Start, "revision 5", true, at(-3500 * time.Millisecond)},
		{"running without the key: stop", State{Running: true}, Event{Kind: Tick, Now: t0}, Stop, "does not hold", false, time.Time{}},
	} {
		s, do, why := Decide(c.s, c.e)
		if do != c.do || !strings.Contains(why, c.why) || s.Holding != c.holds || !s.Sent.Equal(c.sentAt) {
			t.Errorf("%s: %v %q (holding %v, sent %v); want %v %q (holding %v, sent %v)", c.name, do, why, s.Holding, s.Sent, c.do, c.why, c.holds, c.sentAt)
		}
	}
}
