// Package alerts tells people about the cluster's events: it runs alert
// agents with Pacemaker's alert environment (CRM_alert_kind,
// CRM_alert_node, ...), so that Pacemaker's sample agents
// (alert_file.sh.sample, alert_smtp.sh.sample) work unchanged, mails an
// SMTP relay and posts webhooks, with DRCM's rate limit: at most one
// alert of a kind per period, then a summary of what was held back (seed
// 000). Every delivery runs asynchronously with a time limit: an alert
// never delays a fail-over.
package alerts

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
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

// Summary is the event in one line, as Pacemaker's alert_smtp.sh.sample
// words its subject: what a mail's subject and a webhook's text say.
func Summary(e Event) string {
	switch e.Kind {
	case Node:
		return fmt.Sprintf("Node '%s' is now '%s'", e.Node, e.Desc)
	case Fencing:
		return "Fencing " + e.Desc
	}
	s := fmt.Sprintf("Resource operation '%s' for '%s' on '%s': %s", e.Task, e.Rsc, e.Node, e.Desc)
	if e.RC != 0 {
		s += fmt.Sprintf(" (rc=%d)", e.RC)
	}
	return s
}

// Origin is the cluster and node that send the alerts.
type Origin struct {
	Cluster, Node string
}

// sink is one place alerts go: an agent, a mail relay, a webhook.
type sink struct {
	name    string // for the warning when it fails
	timeout time.Duration
	deliver func(ctx context.Context, e Event, seq int) error
}

// Dispatcher takes events from the daemon and delivers them to every
// agent, mail relay and webhook. Send never blocks; Run owns the
// deliveries and waits for them.
type Dispatcher struct {
	Log func(format string, args ...any) // warnings: a delivery failed, events were dropped

	sinks []sink
	lim   Limiter // Run's alone
	seq   int     // Run's alone: CRM_alert_node_sequence
	queue chan Event

	mu      sync.Mutex // guards dropped: Send and Run both touch it
	dropped int
}

// New prepares a dispatcher for the <alerts> section; nil when nothing
// is to be alerted.
func New(a config.Alerts, from Origin, log func(string, ...any)) *Dispatcher {
	if !a.Any() {
		return nil
	}
	d := &Dispatcher{Log: log, lim: Limiter{Period: a.Period}, queue: make(chan Event, 256)}
	for _, ag := range a.Agents {
		d.sinks = append(d.sinks, sink{name: "Alert agent " + ag.Path, timeout: ag.Timeout,
			deliver: func(ctx context.Context, e Event, seq int) error { return runAgent(ctx, ag, e, seq) }})
	}
	for _, m := range a.Mail {
		d.sinks = append(d.sinks, sink{name: "Alert mail to " + strings.Join(m.To, ",") + " through " + m.Relay, timeout: m.Timeout,
			deliver: func(ctx context.Context, e Event, seq int) error { return sendMail(ctx, m, from, e, seq) }})
	}
	for _, w := range a.Webhooks {
		d.sinks = append(d.sinks, sink{name: "Alert webhook " + w.URL, timeout: w.Timeout,
			deliver: func(ctx context.Context, e Event, seq int) error { return post(ctx, w, from, e, seq) }})
	}
	return d
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

// Run delivers events until ctx ends, then waits for the deliveries
// still under way, which ctx's end cuts short (as does each one's time
// limit).
func (d *Dispatcher) Run(ctx context.Context) {
	if d == nil {
		return
	}
	var running sync.WaitGroup
	defer running.Wait()
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
			d.seq++
			seq := d.seq
			for _, s := range d.sinks {
				running.Go(func() { d.deliver(ctx, s, e, seq) })
			}
		}
	}
}

// deliver hands one event to one sink within its time limit; a daemon
// that stops cuts the deliveries still under way short rather than wait.
func (d *Dispatcher) deliver(ctx context.Context, s sink, e Event, seq int) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if err := s.deliver(ctx, e, seq); err != nil {
		d.Log("%s (%s %s): %v", s.name, e.Kind, e.Desc, err)
	}
}

// runAgent runs an agent program with Pacemaker's environment.
func runAgent(ctx context.Context, a config.AlertAgent, e Event, seq int) error {
	cmd := exec.CommandContext(ctx, a.Path)
	cmd.Env = append(os.Environ(), Env(e, a.Recipient, seq)...)
	cmd.WaitDelay = time.Second
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%v %s", err, bytes.TrimSpace(out))
	}
	return nil
}
