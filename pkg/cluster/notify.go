package cluster

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Notifier hears how the daemon is doing, for a service manager: cldaemon
// gives systemd's sd_notify under a Type=notify unit (NOTIFY_SOCKET set).
// Calls must return at once: they are made from the heartbeat loop.
type Notifier interface {
	// Ready: the cluster is formed or joined (READY=1), with a summary.
	Ready(status string)
	// Status: the node and application summary changed (STATUS=).
	Status(status string)
	// Watchdog: the heartbeat loop is alive (WATCHDOG=1; the notifier
	// keeps to the rate the service manager asked for).
	Watchdog()
	// WatchdogEvery is how often Watchdog must at least be called (0:
	// no watchdog): the loop that judges the other node sleeps until its
	// next deadline, but never longer than half of this.
	WatchdogEvery() time.Duration
	// Stopping: the daemon is leaving the cluster (STOPPING=1).
	Stopping()
}

// noNotify is the Notifier outside a service manager.
type noNotify struct{}

func (noNotify) Ready(string)                 {}
func (noNotify) Status(string)                {}
func (noNotify) Watchdog()                    {}
func (noNotify) WatchdogEvery() time.Duration { return 0 }
func (noNotify) Stopping()                    {}

// summary is the one-line state a service manager shows:
// "servera UP, serverb UP; apache STARTED on servera, samba DOWN".
func (d *Daemon) summary() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var apps []string
	for _, a := range d.apps {
		s := a.Name + " " + a.State
		if a.Node != "" {
			s += " on " + a.Node
		}
		apps = append(apps, s)
	}
	sort.Strings(apps)
	out := fmt.Sprintf("%s %s, %s %s", d.me.Name, d.state, d.peer.Name, d.peerState)
	if len(apps) > 0 {
		out += "; " + strings.Join(apps, ", ")
	}
	return out
}
