package membership

import (
	"fmt"
	"time"

	api "github.com/linuxha-ng/linuxha/pkg/daemonapi"
)

// The node states of the formation exchange (L2562-2565, L7574-7577).
const (
	Forming  = api.NodeForming
	Starting = api.NodeStarting
	Up       = api.NodeUp
)

var formRank = map[string]int{Forming: 1, Starting: 2, Up: 3}

// FormStep is one step of the FORMING / STARTING / UP exchange: this
// node in state mine has seen the other answer theirs to an ECHO.
type FormStep struct {
	Next     string // this node's state after the step
	Answered bool   // theirs is a formation state (logged: "Response to ECHO was ...")
	Agreed   bool   // both are UP: the cluster is formed ("Both nodes agree UP")
	Why      string
}

// Form decides a step of the exchange: each node moves one state forward
// each time it sees the other at least at its own state, until both are
// UP (L7574: the primary sends "a series of FORMING, STARTING and UP
// messages"). An answer that is not a formation state (an error, a node
// not forming) changes nothing.
func Form(mine, theirs string) FormStep {
	switch {
	case formRank[theirs] == 0:
		return FormStep{Next: mine, Why: fmt.Sprintf("%q is not a formation state: wait", theirs)}
	case mine == Up && theirs == Up:
		return FormStep{Next: Up, Answered: true, Agreed: true, Why: "both nodes agree UP (L2565)"}
	case mine == Up:
		return FormStep{Next: Up, Answered: true, Why: "the other node is still " + theirs + ": wait for it"}
	case formRank[theirs] < formRank[mine]:
		return FormStep{Next: mine, Answered: true, Why: "the other node is behind (" + theirs + "): wait for it"}
	case mine == Starting:
		return FormStep{Next: Up, Answered: true, Why: "the other node is at least STARTING: move to UP"}
	}
	return FormStep{Next: Starting, Answered: true, Why: "the other node is at least FORMING: move to STARTING"}
}

// ClockVerdict is what the formation makes of the two clocks.
type ClockVerdict struct {
	Refuse bool   // do not form (without --force)
	Warn   bool   // form, with a warning
	Text   string // the log line: the Reference's message when it has one
}

// Clocks judges the difference between the nodes' clocks once formed
// (L1874-1890, L7577): over a minute warns, over ten minutes refuses
// unless force. A time that could not be read (readErr) refuses too
// without force: the check must not pass for want of an answer.
func Clocks(diff time.Duration, readErr error, peer string, force bool) ClockVerdict {
	diff = diff.Abs()
	switch {
	case readErr != nil && !force:
		return ClockVerdict{Refuse: true, Text: fmt.Sprintf("Unable to read the time of %s (%v) - require --force to start!", peer, readErr)}
	case readErr != nil:
		return ClockVerdict{Warn: true, Text: fmt.Sprintf("Unable to read the time of %s (%v) - continuing (--force).", peer, readErr)}
	case diff > 10*time.Minute && !force:
		return ClockVerdict{Refuse: true, Text: "Time difference between nodes is >10 minutes - require --force to start!"}
	case diff > 10*time.Minute:
		return ClockVerdict{Warn: true, Text: fmt.Sprintf("Time difference between nodes is %v (>10 minutes) - continuing (--force).", diff.Round(time.Second))}
	case diff > time.Minute:
		return ClockVerdict{Warn: true, Text: fmt.Sprintf("Time difference between nodes is %v (>1 minute).", diff.Round(time.Second))}
	}
	return ClockVerdict{}
}

// BootPlan is how a node's cluster daemon starts when nobody says --form
// or --join: at boot (clstartup, L2706-2754) and when systemd starts or
// restarts cldaemon --startup.
type BootPlan struct {
	Mode  string // "join", "form", or "" (start nothing)
	Force bool   // form alone when the other node does not come in time
	Why   string
}

// Boot decides it from whether the other node's daemon answers UP and
// the two clstartup.xml settings that bear on it: join_existing_cluster
// (join a cluster already formed, or leave it alone) and
// allow_single_node (after the time-out, form a single-node cluster).
func Boot(peerUp, joinExisting, allowSingle bool) BootPlan {
	switch {
	case peerUp && joinExisting:
		return BootPlan{Mode: "join", Why: "the other node runs the cluster: join it (join_existing_cluster yes)"}
	case peerUp:
		return BootPlan{Why: "the other node runs the cluster: not joining (join_existing_cluster no, L2745)"}
	case allowSingle:
		return BootPlan{Mode: "form", Force: true, Why: "the other node does not run the cluster: form, alone after the time-out (allow_single_node yes)"}
	}
	return BootPlan{Mode: "form", Why: "the other node does not run the cluster: form with it, failing at the time-out (allow_single_node no)"}
}
