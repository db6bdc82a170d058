package membership

import (
	"errors"
	"testing"
	"time"
)

// Golden cases of the formation exchange (L2562-2565, L7574-7577): the
// next state and the reason.
func TestFormGolden(t *testing.T) {
	for _, c := range []struct {
		mine, theirs string
		want         FormStep
	}{
		{Forming, Forming, FormStep{Next: Starting, Answered: true, Why: "the other node is at least FORMING: move to STARTING"}},
		{Forming, Up, FormStep{Next: Starting, Answered: true, Why: "the other node is at least FORMING: move to STARTING"}},
		{Starting, Forming, FormStep{Next: Starting, Answered: true, Why: "the other node is behind (FORMING): wait for it"}},
		{Starting, Starting, FormStep{Next: Up, Answered: true, Why: "the other node is at least STARTING: move to UP"}},
		{Starting, Up, FormStep{Next: Up, Answered: true, Why: "the other node is at least STARTING: move to UP"}},
		{Up, Starting, FormStep{Next: Up, Answered: true, Why: "the other node is still STARTING: wait for it"}},
		{Up, Up, FormStep{Next: Up, Answered: true, Agreed: true, Why: "both nodes agree UP (L2565)"}},
		{Forming, "DOWN", FormStep{Next: Forming, Why: `"DOWN" is not a formation state: wait`}},
		{Starting, "ERROR no cluster", FormStep{Next: Starting, Why: `"ERROR no cluster" is not a formation state: wait`}},
	} {
		if got := Form(c.mine, c.theirs); got != c.want {
			t.Errorf("Form(%s, %s) = %+v, want %+v", c.mine, c.theirs, got, c.want)
		}
	}
}

// Golden cases of the clock check (L1874-1890, L7577).
func TestClocksGolden(t *testing.T) {
	noAnswer := errors.New("no reply")
	for _, c := range []struct {
		why   string
		diff  time.Duration
		err   error
		force bool
		want  ClockVerdict
	}{
		{"in step", 20 * time.Second, nil, false, ClockVerdict{}},
		{"exactly a minute is not over it", time.Minute, nil, false, ClockVerdict{}},
		{"L7577 over a minute warns", -3 * time.Minute, nil, false, ClockVerdict{Warn: true, Text: "Time difference between nodes is 3m0s (>1 minute)."}},
		{"L1887 over ten minutes refuses", 11 * time.Minute, nil, false, ClockVerdict{Refuse: true, Text: "Time difference between nodes is >10 minutes - require --force to start!"}},
		{"L1890 --force forms anyway", 11 * time.Minute, nil, true, ClockVerdict{Warn: true, Text: "Time difference between nodes is 11m0s (>10 minutes) - continuing (--force)."}},
		{"no answer refuses", 0, noAnswer, false, ClockVerdict{Refuse: true, Text: "Unable to read the time of serverb (no reply) - require --force to start!"}},
		{"no answer with --force", 0, noAnswer, true, ClockVerdict{Warn: true, Text: "Unable to read the time of serverb (no reply) - continuing (--force)."}},
	} {
		if got := Clocks(c.diff, c.err, "serverb", c.force); got != c.want {
			t.Errorf("%s: got %+v, want %+v", c.why, got, c.want)
		}
	}
}

// Golden cases of the start-up decision (clstartup.xml, L2740-2748).
func TestBootGolden(t *testing.T) {
	for _, c := range []struct {
		peerUp, join, single bool
		want                 BootPlan
	}{
		{true, true, false, BootPlan{Mode: "join", Why: "the other node runs the cluster: join it (join_existing_cluster yes)"}},
		{true, true, true, BootPlan{Mode: "join", Why: "the other node runs the cluster: join it (join_existing_cluster yes)"}},
		{true, false, true, BootPlan{Why: "the other node runs the cluster: not joining (join_existing_cluster no, L2745)"}},
		{false, true, true, BootPlan{Mode: "form", Force: true, Why: "the other node does not run the cluster: form, alone after the time-out (allow_single_node yes)"}},
		{false, false, false, BootPlan{Mode: "form", Why: "the other node does not run the cluster: form with it, failing at the time-out (allow_single_node no)"}},
	} {
		if got := Boot(c.peerUp, c.join, c.single); got != c.want {
			t.Errorf("Boot(%v, %v, %v) = %+v, want %+v", c.peerUp, c.join, c.single, got, c.want)
		}
	}
}
