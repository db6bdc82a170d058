package resource

import (
	"testing"
	"time"
)

// TestNext pins what a monitor's answer leads to. The classes are
// Pacemaker's (OCF return codes: soft 1 and 7, hard 2-5, fatal 6); the
// restart count and its window are procmon's (L7336-7353).
func TestNext(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	w := 10 * time.Minute
	for _, tt := range []struct {
		name  string
		code  Code
		tally Tally
		now   time.Time
		want  Recovery
		count int
	}{
		{"running", Success, Tally{}, t0, None, 0},
		{"not running: first restart", NotRunning, Tally{}, t0, Restart, 1},
		{"generic error is soft too", ErrGeneric, Tally{Count: 1, ResetAt: t0.Add(w)}, t0, Restart, 2},
		{"a timed-out monitor is a failure (soft)", TimedOut, Tally{}, t0, Restart, 1},
		{"unknown codes are soft", Code(42), Tally{}, t0, Restart, 1},
		{"restarts used up: move", NotRunning, Tally{Count: 3, ResetAt: t0.Add(w)}, t0, Failover, 3},
		{"window passed: count starts again", NotRunning, Tally{Count: 3, ResetAt: t0.Add(w)}, t0.Add(w + time.Second), Restart, 1},
		{"OCF_ERR_ARGS is hard: move", ErrArgs, Tally{}, t0, Failover, 0},
		{"OCF_ERR_PERM is hard", ErrPerm, Tally{}, t0, Failover, 0},
		{"OCF_ERR_INSTALLED is hard", ErrInstalled, Tally{}, t0, Failover, 0},
		{"OCF_ERR_UNIMPLEMENTED is hard", ErrUnimpl, Tally{}, t0, Failover, 0},
		{"OCF_ERR_CONFIGURED is fatal: stop everywhere", ErrConfigured, Tally{}, t0, HaltApp, 0},
	} {
		got, tally, why := Next(tt.code, tt.tally, 3, w, tt.now)
		if got != tt.want || tally.Count != tt.count {
			t.Errorf("%s: got %v (count %d), want %v (count %d); %s", tt.name, got, tally.Count, tt.want, tt.count, why)
		}
		if got != None && why == "" {
			t.Errorf("%s: no reason given", tt.name)
		}
	}
	// Zero restarts allowed: the first failure moves the application.
	if got, _, _ := Next(NotRunning, Tally{}, 0, w, t0); got != Failover {
		t.Errorf("restarts=0: got %v", got)
	}
}

// TestAfterStart: a failed start moves the application (Pacemaker's
// start-failure-is-fatal default); a fatal code halts it.
func TestAfterStart(t *testing.T) {
	for c, want := range map[Code]Recovery{Success: None, ErrGeneric: Failover, TimedOut: Failover, NotRunning: Failover, ErrInstalled: Failover, ErrConfigured: HaltApp} {
		if got := AfterStart(c); got != want {
			t.Errorf("%v: got %v want %v", c, got, want)
		}
	}
}
