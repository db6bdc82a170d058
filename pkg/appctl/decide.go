// Package appctl is clstartapp and clhaltapp (Reference §9, §11, §22):
// starting and stopping one application on this node. The start decision
// of §22.4 is a pure function, Decide, of what the probes found; all I/O
// lives in the start and stop sequences around it.
package appctl

import (
	"fmt"
	"time"
)

// Reach is the result of the cluster status probe remote_node_available
// (§22.3, L6852-6864).
type Reach int

const (
	// ReachBoth: both nodes are up and the replication channel works ("0,undef").
	ReachBoth Reach = iota
	// ReachDown: the remote node appears to be completely down ("1,undef").
	ReachDown
	// ReachSSHOnly: ssh reaches the remote node but the replication channel does not ("2,name IP").
	ReachSSHOnly
	// ReachPingOnly: the remote node answers pings but not ssh ("3,IP").
	ReachPingOnly
)

func (r Reach) String() string {
	return [...]string{"both nodes available", "remote node down", "no replication channel (ssh only)", "ping only"}[r]
}

// View is one node's STALE flags for the application, as the start sees
// them: is the starting node's copy stale, is the other node's?
type View struct {
	LocalStale, RemoteStale bool
}

// Input is everything the start decision depends on (L6866-6919).
type Input struct {
	Reach Reach
	Local View // flags on this node
	// Remote is the flags on the other node; RemoteKnown is false when
	// they could not be fetched.
	Remote      View
	RemoteKnown bool
	// LocalTime, RemoteTime: the TIME files (last start on each node);
	// zero when absent.
	LocalTime, RemoteTime time.Time
	// RemoteLive: this node believes the other node runs the application
	// (Decision 4).
	RemoteLive  bool
	Force       bool
	ReallyForce bool
}

// Decision is the outcome: whether to start, which copies are current,
// and what to change in the STALE flags first.
type Decision struct {
	Start         bool
	Reason        string // why not, when !Start (one line, for the error)
	LocalCurrent  bool   // ldata_current
	RemoteCurrent bool   // rdata_current
	// ClearLocalStale: delete every local STALE flag (Decision 2.4).
	ClearLocalStale bool
	// MarkRemoteStale: the other node will not receive this run's writes.
	MarkRemoteStale bool
	Warnings        []string
	Believed        string // "local" or "remote": whose flags were used
}

func abort(format string, args ...any) Decision {
	return Decision{Reason: fmt.Sprintf(format, args...)}
}

// believe picks whose STALE flags count when the two views disagree:
// the node with the most recent TIME, or the only one with a TIME
// (L6882-6884). ok is false when neither node has a TIME file.
func believe(in Input) (v View, who string, ok bool) {
	switch {
	case !in.LocalTime.IsZero() && !in.RemoteTime.IsZero():
		if in.RemoteTime.After(in.LocalTime) {
			return in.Remote, "remote", true
		}
		return in.Local, "local", true
	case !in.LocalTime.IsZero():
		return in.Local, "local", true
	case !in.RemoteTime.IsZero():
		return in.Remote, "remote", true
	}
	return in.Local, "local", false
}

// Decide is the data-currency voting of §22.4 (L6878-6919). The
// Reference's consolidated table (spec-part3 §5.6) is pinned case by case
// in decide_test.go.
func Decide(in Input) Decision {
	force := in.Force || in.ReallyForce
	switch in.Reach {
	case ReachBoth:
		if !in.RemoteKnown {
			// 1.1: the remote view cannot be fetched: continue as
			// Decision 4 (L6880).
			in.Reach = ReachPingOnly
			return Decide(in)
		}
		v, who := in.Local, "local"
		if in.Local != in.Remote {
			var ok bool
			if v, who, ok = believe(in); !ok {
				if !force {
					return abort("The nodes disagree on which copy of the data is current and neither has a TIME file - use --force to believe this node")
				}
				v, who = in.Local, "local"
			}
		}
		d := Decision{LocalCurrent: !v.LocalStale, RemoteCurrent: !v.RemoteStale, Believed: who}
		switch {
		case d.LocalCurrent || d.RemoteCurrent:
			// With the other copy current and connected, the data comes
			// from it while the local copy resynchronises (L6934, L7030).
			d.Start = true
		case in.ReallyForce:
			d.Start, d.ClearLocalStale, d.LocalCurrent = true, true, true
			d.Warnings = append(d.Warnings, "Neither copy of the data is current - starting on the local copy (--reallyforce)")
		default:
			return abort("Neither node has a current copy of the data - use --reallyforce to start on the local copy")
		}
		return d
	case ReachDown:
		// Decision 2 (L6888-6896).
		if !force {
			return abort("Remote node is not available - the local data can not be known to be current; use --force to start anyway")
		}
		if !in.Local.LocalStale {
			return Decision{Start: true, LocalCurrent: true, MarkRemoteStale: true, Believed: "local",
				Warnings: []string{"Remote node is not available - starting with local data and marking the remote copy stale"}}
		}
		if !in.ReallyForce {
			return abort("Local data is marked STALE and the remote node is not available - use --reallyforce to start on stale data")
		}
		return Decision{Start: true, LocalCurrent: true, ClearLocalStale: true, MarkRemoteStale: true, Believed: "local",
			Warnings: []string{"Starting on STALE local data (--reallyforce): the remote copy will be overwritten when it rejoins"}}
	case ReachSSHOnly:
		// Decision 3 (L6898-6913).
		v, who, ok := in.Local, "local", true
		if in.RemoteKnown {
			v, who, ok = believe(in)
		} else if in.LocalTime.IsZero() {
			ok = false
		}
		if !ok && !force {
			return abort("No replication channel and no TIME file on either node - use --force to believe the local STALE flags")
		}
		if v.LocalStale {
			if !in.ReallyForce {
				return abort("No replication channel and the local data is not current - use --reallyforce to start on it")
			}
			return Decision{Start: true, LocalCurrent: true, ClearLocalStale: true, MarkRemoteStale: true, Believed: who,
				Warnings: []string{"Starting on non-current local data without a replication channel (--reallyforce)"}}
		}
		return Decision{Start: true, LocalCurrent: true, MarkRemoteStale: true, Believed: who,
			Warnings: []string{"No replication channel to the remote node - its copy will be marked stale"}}
	default:
		// Decision 4 (L6915-6919).
		if in.RemoteLive && !force {
			return abort("The remote node answers pings and appears to run the application - use --force to start here")
		}
		if !in.Local.LocalStale {
			return Decision{Start: true, LocalCurrent: true, MarkRemoteStale: true, Believed: "local",
				Warnings: []string{"Remote node answers pings only - its copy will be marked stale"}}
		}
		if !in.ReallyForce {
			return abort("Local data is not current and the remote node can not be reached - use --reallyforce to start on it")
		}
		return Decision{Start: true, LocalCurrent: true, ClearLocalStale: true, MarkRemoteStale: true, Believed: "local",
			Warnings: []string{"Starting on STALE local data (--reallyforce) with the remote node unreachable"}}
	}
}
