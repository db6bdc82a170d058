// Package alerts runs alert agents on the cluster's events, with
// Pacemaker's alert environment (CRM_alert_kind, CRM_alert_node, ...), so
// that Pacemaker's sample agents (alert_file.sh.sample,
// alert_smtp.sh.sample) work unchanged, and with DRCM's rate limit: at
// most one alert of a kind per period, then a summary of what was held
// back (seed 000). Agents run asynchronously with a time limit: an alert
// never delays a fail-over.
package alerts

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/linuxha-ng/linuxha/pkg/config"
	"github.com/linuxha-ng/linuxha/pkg/version"
)

// The kinds of Pacemaker's alerts.
const (
	Node     = "node"     // a node joined, died, was reset
	Resource = "resource" // an application started, stopped, moved
	Fencing  = "fencing"  // a fence command ran
)

// Event is one thing that happened, in Pacemaker's terms.
type Event struct {
	Kind string    // Node, Resource or Fencing
	Node string    // the node it concerns
	Rsc  string    // the application (resource alerts)
	Task string    // start, stop, takeover, fence ... (fencing and resource alerts)
	Desc string    // node alerts: member or lost; otherwise what happened
	RC   int       // the operation's return code (fencing and resource alerts)
	At   time.Time // when it happened
}

// key is what the rate limit counts by: one alert of a kind per period.
func (e Event) key() string { return e.Kind + "/" + e.Task + "/" + e.Desc }

// Limiter is DRCM's rate limit: the first event of a key in a period is
// sent, the others are counted and summarised when the period ends. It
// decides only; the Dispatcher runs what it says.
type Limiter struct {
	Period time.Duration
	last   map[string]time.Time // when each key was last sent
	held   map[string]int       // events of each key held back since
	sample map[string]Event     // the last of them, to describe the summary
}

// Admit reports whether e goes out now.
func (l *Limiter) Admit(e Event) bool {
	if l.last == nil {
		l.last, l.held, l.sample = map[string]time.Time{}, map[string]int{}, map[string]Event{}
	}
	k := e.key()
	if t, ok := l.last[k]; ok && e.At.Sub(t) < l.Period {
		l.held[k]++
		l.sample[k] = e
		return false
	}
	l.last[k] = e.At
	return true
}

// Due returns the summaries whose period has ended at now: one event per
// key that held some back, its Desc saying how many.
func (l *Limiter) Due(now time.Time) []Event {
	var out []Event
	for k, n := range l.held {
		if n == 0 || now.Sub(l.last[k]) < l.Period {
			continue
		}
		e := l.sample[k]
		e.Desc = fmt.Sprintf("%s (%d more held back since %s)", e.Desc, n, l.last[k].Format(time.RFC3339))
		e.At = now
		out = append(out, e)
		l.held[k], l.last[k] = 0, now
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key() < out[j].key() })
	return out
}

// Env is the environment an agent runs with (Pacemaker's alert
// interface, as its sample agents read it).
func Env(e Event, recipient string, seq int) []string {
	env := []string{
		"CRM_alert_version=" + version.String(),
		"CRM_alert_kind=" + e.Kind,
		"CRM_alert_recipient=" + recipient,
		"CRM_alert_node_sequence=" + strconv.Itoa(seq),
		"CRM_alert_timestamp=" + e.At.Format("15:04:05.000000"),
		"CRM_alert_timestamp_epoch=" + strconv.FormatInt(e.At.Unix(), 10),
		"CRM_alert_node=" + e.Node,
		"CRM_alert_desc=" + e.Desc,
	}
	switch e.Kind {
	case Resource:
		env = append(env, "CRM_alert_rsc="+e.Rsc, "CRM_alert_task="+e.Task, "CRM_alert_interval=0",
			"CRM_alert_rc="+strconv.Itoa(e.RC), "CRM_alert_target_rc=0", "CRM_alert_status=0")
	case Fencing:
		env = append(env, "CRM_alert_task="+e.Task, "CRM_alert_rc="+strconv.Itoa(e.RC))
	}
	return env
}

// Dispatcher takes events from the daemon and runs the agents on them.
// Send never blocks; Run owns the agents' processes and waits for them.
type Dispatcher struct {
	Agents []config.AlertAgent
	Log    func(format string, args ...any) // warnings: an agent failed, events were dropped

	lim   Limiter // Run's alone
	seq   int     // Run's alone: CRM_alert_node_sequence
	queue chan Event

	mu      sync.Mutex // guards dropped: Send and Run both touch it
	dropped int
}

// New prepares a dispatcher for the <alerts> section; nil when it has no
// agents.
func New(a config.Alerts, log func(string, ...any)) *Dispatcher {
	if len(a.Agents) == 0 {
		return nil
	}
	return &Dispatcher{Agents: a.Agents, Log: log, lim: Limiter{Period: a.Period}, queue: make(chan Event, 256)}
}

// Send hands an event over; a full queue drops it (and says so later)
// rather than wait: the caller may be in the middle of a takeover.
func (d *Dispatcher) Send(e Event) {
	if d == nil {
		return
	}
	if e.At.IsZero() {
		e.At = time.Now()
	}
	select {
	case d.queue <- e:
	default:
		d.mu.Lock()
		d.dropped++
		d.mu.Unlock()
	}
}

// Run delivers events until ctx ends, then waits for the agents still
// running, which ctx's end kills (as does each one's time limit).
func (d *Dispatcher) Run(ctx context.Context) {
	if d == nil {
		return
	}
	var agents sync.WaitGroup
	defer agents.Wait()
	// Summaries are looked for a few times a period, at least once a
	// minute.
	tick := time.NewTicker(max(time.Second, min(d.lim.Period/4, time.Minute)))
	defer tick.Stop()
	for {
		var out []Event
		select {
		case <-ctx.Done():
			return
		case e := <-d.queue:
			if d.lim.Admit(e) {
				out = append(out, e)
			}
		case now := <-tick.C:
			out = d.lim.Due(now)
			d.mu.Lock()
			if d.dropped > 0 {
				d.Log("%d alerts dropped: the queue was full", d.dropped)
				d.dropped = 0
			}
			d.mu.Unlock()
		}
		for _, e := range out {
			for _, a := range d.Agents {
				d.seq++
				seq := d.seq
				agents.Add(1)
				go func() {
					defer agents.Done()
					d.run(ctx, a, e, seq)
				}()
			}
		}
	}
}

// run runs one agent on one event within its time limit; a daemon that
// stops kills the agents still running rather than wait for them.
func (d *Dispatcher) run(ctx context.Context, a config.AlertAgent, e Event, seq int) {
	ctx, cancel := context.WithTimeout(ctx, a.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, a.Path)
	cmd.Env = append(os.Environ(), Env(e, a.Recipient, seq)...)
	cmd.WaitDelay = time.Second
	if out, err := cmd.CombinedOutput(); err != nil {
		d.Log("Alert agent %s (%s %s): %v %s", a.Path, e.Kind, e.Desc, err, out)
	}
}
