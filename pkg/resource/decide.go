// Package resource holds an application's members besides its scripts:
// DRCM's crontabs, services, user applications and client mounts (seed
// 000) and Pacemaker's OCF resource agents. Each kind starts, stops and
// answers a monitor with an OCF exit code; what a code leads to is the
// pure Next, kept apart from the processes the agents run.
package resource

import (
	"fmt"
	"time"
)

// Code is an OCF exit code (OCF Resource Agent API, ocf-returncodes).
type Code int

const (
	Success       Code = 0
	ErrGeneric    Code = 1
	ErrArgs       Code = 2
	ErrUnimpl     Code = 3
	ErrPerm       Code = 4
	ErrInstalled  Code = 5
	ErrConfigured Code = 6
	NotRunning    Code = 7
	// TimedOut is no agent's answer: the operation ran past its limit.
	// Pacemaker counts it as a failure of the operation.
	TimedOut Code = -1
)

var codeNames = map[Code]string{
	Success: "OCF_SUCCESS", ErrGeneric: "OCF_ERR_GENERIC", ErrArgs: "OCF_ERR_ARGS",
	ErrUnimpl: "OCF_ERR_UNIMPLEMENTED", ErrPerm: "OCF_ERR_PERM", ErrInstalled: "OCF_ERR_INSTALLED",
	ErrConfigured: "OCF_ERR_CONFIGURED", NotRunning: "OCF_NOT_RUNNING", TimedOut: "timed out",
}

func (c Code) String() string {
	if n, ok := codeNames[c]; ok {
		return n
	}
	return fmt.Sprintf("exit %d", int(c))
}

// Class is Pacemaker's kind of failure for a code: soft (restart where it
// is), hard (move it to another node) or fatal (stop it everywhere).
type Class int

const (
	OK Class = iota
	Soft
	Hard
	Fatal
)

// Classify follows Pacemaker's table of OCF return codes ("How are OCF
// return codes interpreted", Pacemaker Explained; RHEL HA reference,
// appendix A): 1 and 7 (unexpected from a monitor) and unknown codes are
// soft; 2-5 are hard; 6 is fatal.
func Classify(c Code) Class {
	switch c {
	case Success:
		return OK
	case ErrArgs, ErrUnimpl, ErrPerm, ErrInstalled:
		return Hard
	case ErrConfigured:
		return Fatal
	}
	return Soft
}

// Recovery is what a monitor's answer leads to.
type Recovery int

const (
	None     Recovery = iota // running as it should
	Restart                  // stop and start it here
	Failover                 // move the application to the other node
	HaltApp                  // stop the application and start it nowhere
)

func (r Recovery) String() string {
	return [...]string{"none", "restart", "fail-over", "halt"}[r]
}

// Tally counts restarts within a window, as procmon's restart count and
// reset window do (L7336-7353) and Pacemaker's fail count with
// migration-threshold and failure-timeout.
type Tally struct {
	Count   int
	ResetAt time.Time // zero while Count is 0
}

// Next decides what a monitor's code leads to, given the restarts so far
// (max within window). It returns the new tally and the reason to log.
func Next(c Code, t Tally, max int, window time.Duration, now time.Time) (Recovery, Tally, string) {
	if !t.ResetAt.IsZero() && now.After(t.ResetAt) {
		t = Tally{}
	}
	switch Classify(c) {
	case OK:
		return None, t, ""
	case Hard:
		return Failover, t, fmt.Sprintf("monitor answered %v, a hard error: the application moves to the other node", c)
	case Fatal:
		return HaltApp, t, fmt.Sprintf("monitor answered %v, a fatal error: the application is stopped and started nowhere", c)
	}
	if t.Count >= max {
		return Failover, t, fmt.Sprintf("monitor answered %v after %d restarts within %v: the application moves to the other node", c, t.Count, window)
	}
	t.Count++
	if t.ResetAt.IsZero() {
		t.ResetAt = now.Add(window)
	}
	return Restart, t, fmt.Sprintf("monitor answered %v: restart %d of %d", c, t.Count, max)
}

// AfterStart decides what a failed start (or a restart's start) leads to:
// Pacemaker's start-failure-is-fatal, on by default, moves the resource
// away from the node whose start failed; a fatal code stops it everywhere.
func AfterStart(c Code) Recovery {
	switch Classify(c) {
	case OK:
		return None
	case Fatal:
		return HaltApp
	}
	return Failover
}
