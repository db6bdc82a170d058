package cldaemon

import (
	"sync"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"

	"github.com/linuxha-ng/linuxha/pkg/logx"
)

// sdNotifier tells systemd how the daemon is doing under a Type=notify
// unit (sd_notify(3)): READY=1 once formed or joined, STATUS= with the
// summary, WATCHDOG=1 at half the unit's WatchdogSec, STOPPING=1.
type sdNotifier struct {
	log      *logx.Logger
	interval time.Duration // the watchdog's (WATCHDOG_USEC); 0 when it is off

	mu   sync.Mutex // guards last
	last time.Time  // the last WATCHDOG=1
}

// newSDNotifier is the notifier for a daemon started by systemd, or nil
// when NOTIFY_SOCKET is not set.
func newSDNotifier(log *logx.Logger, notifySocket string) *sdNotifier {
	if notifySocket == "" {
		return nil
	}
	n := &sdNotifier{log: log}
	if iv, err := daemon.SdWatchdogEnabled(false); err != nil {
		log.Warnf("systemd watchdog settings: %v - no watchdog", err)
	} else {
		n.interval = iv
	}
	return n
}

func (n *sdNotifier) send(state string) {
	if _, err := daemon.SdNotify(false, state); err != nil {
		n.log.Warnf("sd_notify %q: %v", state, err)
	}
}

func (n *sdNotifier) Ready(status string) {
	n.send(daemon.SdNotifyReady + "\nSTATUS=" + status)
}

func (n *sdNotifier) Status(status string) { n.send("STATUS=" + status) }

func (n *sdNotifier) Watchdog() {
	if n.interval <= 0 {
		return
	}
	n.mu.Lock()
	due := time.Since(n.last) >= n.interval/2
	if due {
		n.last = time.Now()
	}
	n.mu.Unlock()
	if due {
		n.send(daemon.SdNotifyWatchdog)
	}
}

// WatchdogEvery is half of WatchdogSec: WATCHDOG=1 goes out at that rate.
func (n *sdNotifier) WatchdogEvery() time.Duration { return n.interval / 2 }

func (n *sdNotifier) Stopping() { n.send(daemon.SdNotifyStopping) }
