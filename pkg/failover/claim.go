package failover

import (
	"slices"

	"github.com/linuxha-ng/linuxha/pkg/daemonapi"
)

// Claim is a report that App goes to State on Node: STARTING_APP,
// STARTED_APP, STOPPING_APP or STOPPED_APP (State DOWN) from a lifecycle
// tool here or from the other daemon (L7609-7617).
type Claim struct {
	State string // STARTING, STARTED, STOPPING or DOWN
	Node  string
	// Takeover: the claim comes from a takeover this daemon runs, which
	// alerts by itself (it knows whom the application was taken from).
	Takeover bool
}

// ClaimResult is the registry's answer to a claim.
type ClaimResult struct {
	Reply string // OK, ALREADY_STARTING, ALREADY_STARTED or INVALID_NODE
	Why   string
	// Record: the registry takes State and Node ("" for DOWN).
	Record      bool
	State, Node string
	// Started: the application has just started; its start time is now.
	Started bool
	// StartLems: it has just started on this node, so its Lems starts
	// (L7525-7527).
	StartLems bool
	// Reconcile: the other node claims what runs here, so compare the
	// registries at once (the duplicate is resolved there).
	Reconcile bool
	// Alert is what to tell the administrator (issue 19): "started",
	// "stopped" or "start failed", only by the daemon of the node where
	// it happened (the other daemon hears the same claim forwarded).
	Alert string
}

// DecideClaim answers claim c about a as this node (me) holds it.
func DecideClaim(me string, a App, c Claim) ClaimResult {
	starting := c.State == daemonapi.AppStarting
	if c.Node != me && a.Node == me && a.State == daemonapi.AppStarted && (starting || c.State == daemonapi.AppStarted) {
		return ClaimResult{Reply: daemonapi.AlreadyStarted, Reconcile: true,
			Why: "it runs here: a takeover that finished after a partition healed; this node is believed about itself (L6762-6764)"}
	}
	if starting {
		switch {
		case a.State == daemonapi.AppStarting && a.Node != c.Node:
			return ClaimResult{Reply: daemonapi.AlreadyStarting, Why: "one start at a time: it is starting on " + a.Node + " (L7610)"}
		case a.State == daemonapi.AppStarted:
			return ClaimResult{Reply: daemonapi.AlreadyStarted, Why: "it is already running on " + a.Node + " (L7610)"}
		case !slices.Contains(a.ValidNodes, c.Node):
			return ClaimResult{Reply: daemonapi.InvalidNode, Why: c.Node + " is not a valid node for it (L7610-7613)"}
		}
	}
	r := ClaimResult{Reply: daemonapi.OK, Record: true, State: c.State, Node: c.Node, Why: "recorded"}
	if c.State == daemonapi.AppDown {
		r.Node = ""
	}
	if c.State == daemonapi.AppStarted && a.State != daemonapi.AppStarted {
		r.Started = true
		r.StartLems = c.Node == me
	}
	r.Alert = claimAlert(me, a, c)
	return r
}

// claimAlert is what a recorded claim tells the administrator.
func claimAlert(me string, a App, c Claim) string {
	if c.Node != me || c.Takeover {
		return ""
	}
	switch {
	case c.State == daemonapi.AppStarted && a.State != daemonapi.AppStarted:
		return "started"
	case c.State == daemonapi.AppDown && a.State == daemonapi.AppStarting && a.Node == me:
		return "start failed"
	case c.State == daemonapi.AppDown && a.Node == me && (a.State == daemonapi.AppStarted || a.State == daemonapi.AppStopping):
		return "stopped"
	}
	return ""
}
