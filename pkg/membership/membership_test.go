package membership

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

var t0 = time.Unix(1_800_000_000, 0)

// Each script line is "+ms heard NET" or "+ms tick"; the output lists the
// events each step produced.
func run(c *Core, script string) string {
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(script), "\n") {
		f := strings.Fields(line)
		var ms int
		fmt.Sscanf(f[0], "+%d", &ms)
		now := t0.Add(time.Duration(ms) * time.Millisecond)
		var evs []Event
		if f[1] == "heard" {
			evs = c.Heard(f[2], now)
		} else {
			evs = c.Tick(now)
		}
		for _, e := range evs {
			out = append(out, strings.TrimSpace(f[0]+" "+e.Kind.String()+" "+e.Path))
		}
	}
	return strings.Join(out, "\n")
}

func TestCore(t *testing.T) {
	tests := []struct {
		name, script, want string
	}{
		{"first heartbeat (L2562)", `
+0 heard public
+100 heard drbd`, "+0 PeerHeard public"},
		{"one path silent warns once, never kills (L1548)", `
+0 heard public
+0 heard drbd
+300 heard drbd
+350 tick
+400 heard drbd
+500 tick
+600 heard drbd
+700 tick`, "+0 PeerHeard public\n+350 PathSilent public"},
		{"path comes back", `
+0 heard public
+0 heard drbd
+350 tick
+360 heard public`, "+0 PeerHeard public\n+350 PathSilent public\n+350 PathSilent drbd\n+350 AllSilent\n+360 PathRestored public"},
		{"all paths silent for dead (L1549)", `
+0 heard public
+0 heard drbd
+299 tick
+300 tick
+499 tick
+500 tick
+600 tick`, "+0 PeerHeard public\n+300 PathSilent public\n+300 PathSilent drbd\n+300 AllSilent\n+500 PeerSilent"},
		{"peer heard again after silent", `
+0 heard public
+500 tick
+900 heard drbd
+1000 tick
+1300 tick`, "+0 PeerHeard public\n+500 PathSilent public\n+500 PathSilent drbd\n+500 AllSilent\n+500 PeerSilent\n+900 PathRestored drbd\n+900 PeerHeard drbd\n+1300 PathSilent public\n+1300 PathSilent drbd\n+1300 AllSilent"},
		{"all silent once per episode: one path back and silent again reports it again (L6682)", `
+0 heard public
+0 heard drbd
+300 tick
+350 heard drbd
+400 tick
+650 tick
+700 tick`, "+0 PeerHeard public\n+300 PathSilent public\n+300 PathSilent drbd\n+300 AllSilent\n+350 PathRestored drbd\n+650 PathSilent drbd\n+650 AllSilent"},
		{"not all silent while one path speaks", `
+0 heard public
+0 heard drbd
+200 heard drbd
+300 tick
+450 heard drbd
+600 tick`, "+0 PeerHeard public\n+300 PathSilent public"},
		{"a peer that never speaks is silent after dead", `
+499 tick
+500 tick`, "+499 PathSilent public\n+499 PathSilent drbd\n+499 AllSilent\n+500 PeerSilent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New([]string{"public", "drbd"}, 300*time.Millisecond, 500*time.Millisecond, t0)
			got := run(c, tt.script)
			if got != strings.TrimSpace(tt.want) {
				t.Fatalf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestAliveAndReset(t *testing.T) {
	c := New([]string{"public"}, time.Second, 2*time.Second, t0)
	if c.Alive() || !c.Waiting() {
		t.Fatal("alive before any heartbeat")
	}
	c.Heard("public", t0)
	if !c.Alive() {
		t.Fatal("not alive after a heartbeat")
	}
	c.Tick(t0.Add(3 * time.Second))
	if c.Alive() {
		t.Fatal("alive after dead")
	}
	c.Reset(t0.Add(3 * time.Second))
	if evs := c.Tick(t0.Add(4 * time.Second)); len(evs) != 2 || evs[0].Kind != PathSilent || evs[1].Kind != AllSilent {
		t.Fatalf("%v", evs)
	}
}

func BenchmarkTick(b *testing.B) {
	c := New([]string{"public", "drbd", "backup"}, time.Second, 2*time.Second, t0)
	now := t0
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(10 * time.Millisecond)
		c.Heard("public", now)
		c.Tick(now)
	}
}

// RECONFIGURE's new dead time is the one the next Tick decides by.
func TestSetTimings(t *testing.T) {
	t0 := time.Unix(0, 0)
	c := New([]string{"public"}, 2*time.Second, 4*time.Second, t0)
	c.Heard("public", t0)
	c.SetTimings(500*time.Millisecond, time.Second)
	evs := c.Tick(t0.Add(1100 * time.Millisecond))
	if len(evs) != 3 || evs[2].Kind != PeerSilent {
		t.Fatalf("after SetTimings(0.5 s, 1 s), 1.1 s of silence gave %v", evs)
	}
}

// Since measures the interval between heartbeats on a path for
// cldaemon's linuxha_heartbeat_interval_seconds: nothing before the first
// heartbeat (the wait for it is no interval), then from the last one.
func TestSince(t *testing.T) {
	c := New([]string{"public", "drbd"}, 300*time.Millisecond, 500*time.Millisecond, t0)
	if _, ok := c.Since("public", t0.Add(time.Second)); ok {
		t.Fatal("an interval before the first heartbeat")
	}
	c.Heard("public", t0.Add(time.Second))
	if got, ok := c.Since("public", t0.Add(1100*time.Millisecond)); !ok || got != 100*time.Millisecond {
		t.Fatalf("public: %v %v, want 100ms", got, ok)
	}
	if _, ok := c.Since("nosuch", t0.Add(time.Second)); ok {
		t.Fatal("an interval on an unknown path")
	}
}

// Ticking only at Next gives the same events at the same instants as
// ticking every millisecond: Next never sleeps past a deadline.
func TestNextMatchesFineTicks(t *testing.T) {
	for seed := range 200 {
		rng := rand.New(rand.NewPCG(uint64(seed), 0))
		warn := time.Duration(50+rng.IntN(300)) * time.Millisecond
		dead := warn + time.Duration(rng.IntN(500))*time.Millisecond
		// heartbeats on two paths, with gaps that sometimes pass warn
		// or dead
		var heard []struct {
			at   time.Duration
			path string
		}
		for _, p := range []string{"public", "drbd"} {
			at := time.Duration(0)
			for at < 5*time.Second {
				at += time.Duration(1+rng.IntN(int(dead.Milliseconds())*3/2)) * time.Millisecond
				heard = append(heard, struct {
					at   time.Duration
					path string
				}{at, p})
			}
		}
		slices.SortStableFunc(heard, func(a, b struct {
			at   time.Duration
			path string
		}) int {
			return int(a.at - b.at)
		})
		sim := func(fine bool) []string {
			c := New([]string{"public", "drbd"}, warn, dead, t0)
			var out []string
			note := func(now time.Time, evs []Event) {
				for _, e := range evs {
					out = append(out, fmt.Sprintf("%v %v", now.Sub(t0), e))
				}
			}
			cur := t0 // the fine ticker's next instant
			tickUntil := func(until time.Time) {
				if fine {
					for ; !cur.After(until); cur = cur.Add(time.Millisecond) {
						note(cur, c.Tick(cur))
					}
					return
				}
				for {
					at, ok := c.Next()
					if !ok || at.After(until) {
						return
					}
					note(at, c.Tick(at))
				}
			}
			for _, h := range heard {
				now := t0.Add(h.at)
				tickUntil(now.Add(-time.Nanosecond))
				note(now, c.Heard(h.path, now))
			}
			return out
		}
		if fine, next := sim(true), sim(false); !slices.Equal(fine, next) {
			t.Fatalf("seed %d (warn %v, dead %v): ticking at Next gave\n%s\nticking every ms gave\n%s",
				seed, warn, dead, strings.Join(next, "\n"), strings.Join(fine, "\n"))
		}
	}
}

// A judging loop that wakes long after it planned was itself stopped: the
// silence it would measure is its own, so it is not judged; a loop that
// is only a little late judges as usual.
func TestStalled(t *testing.T) {
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	c := New([]string{"public", "drbd"}, 300*time.Millisecond, 500*time.Millisecond, t0)
	c.Heard("public", at(0))
	c.Heard("drbd", at(0))
	// Planned for 300 (warn), woken at 350: late by less than warn.
	if evs := c.Stalled(at(300), at(350)); evs != nil {
		t.Fatalf("50 ms late: %v", evs)
	}
	if evs := run(c, "+350 tick"); evs != "+350 PathSilent public\n+350 PathSilent drbd\n+350 AllSilent" {
		t.Fatalf("after a short delay: %q", evs)
	}
	c.Heard("public", at(400))
	c.Heard("drbd", at(400))
	// Planned for 700, stopped, woken at 2700: no death, silences restart.
	evs := c.Stalled(at(700), at(2700))
	if len(evs) != 1 || evs[0].Kind != Stalled || evs[0].Silent != 2*time.Second {
		t.Fatalf("2 s late: %v, want one Stalled after 2s", evs)
	}
	if got := run(c, "+2700 tick\n+2999 tick"); got != "" {
		t.Fatalf("judged the peer on this daemon's own stall: %q", got)
	}
	// The peer had a full window and said nothing: judged as ever.
	if got := run(c, "+3000 tick\n+3200 tick"); got != "+3000 PathSilent public\n+3000 PathSilent drbd\n+3000 AllSilent\n+3200 PeerSilent" {
		t.Fatalf("after the window: %q", got)
	}
	// Once the peer is declared silent there is nothing left to restart.
	if evs := c.Stalled(at(3200), at(9000)); evs != nil {
		t.Fatalf("stall after the verdict: %v", evs)
	}
}
