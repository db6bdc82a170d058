// Package lems is the Linux Event Management System (§24, L7037-7508):
// one daemon per running application that runs the application's checks
// on their intervals and acts on their return codes through each check's
// action list, and answers the server messages of §24.5 (L7355-7377).
//
// The scheduler owns all of its state in one goroutine. Checks run in
// goroutines of their own, so a slow check never delays the others (the
// Reference's Lems was single-threaded and warned about exactly that,
// L7049); their results and every server message come back to the
// scheduler as events.
package lems

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/linuxha-ng/linuxha/lems/monitors"
	"github.com/linuxha-ng/linuxha/pkg/config"
	"github.com/linuxha-ng/linuxha/pkg/daemonapi"
	"github.com/linuxha-ng/linuxha/pkg/logx"
	"github.com/linuxha-ng/linuxha/pkg/wire"
)

// Options configure an engine.
type Options struct {
	App      string
	ConfPath string       // lems.local.xml, re-read by INSTALL
	Conf     *config.Lems // as read at start
	Env      monitors.Env // template for every monitor's Env
	Log      *logx.Logger
	LogsDir  string // RUNCMD output goes here (L7197-7200)
	// Cluster sends a request to the local cluster daemon (FAILOVER,
	// STOP_APP); nil when there is none.
	Cluster func(ctx context.Context, req string) (string, error)
	Now     func() time.Time
	// Build makes a check's monitor; monitors.Build unless a test says
	// otherwise.
	Build func(env *monitors.Env, c config.Check) (monitors.Monitor, error)
	// Start starts a RUNCMD command; cmd.Start unless a test (the fuzz
	// target, which must never run what it generates) says otherwise.
	Start func(cmd *exec.Cmd) error
}

type entry struct {
	check   config.Check
	mon     monitors.Monitor
	next    time.Time // zero: stopped
	running bool
	// What its checks returned, for GET_RESULTS (metrics): the last
	// return code and when, and how many checks and non-zero results.
	lastRC          int
	lastAt          time.Time
	checks, nonzero int64
}

type result struct {
	name   string
	mon    monitors.Monitor
	rc     int
	rcdata string
}

type message struct {
	text  string
	reply chan string
}

// Engine is one application's Lems.
type Engine struct {
	o       Options
	entries map[string]*entry
	paused  bool // PAUSE without a monitor: nothing runs until RESUME
	handing bool // FAILOVER or HALTAPP was accepted: the cluster acts now
	results chan result
	msgs    chan message
	quit    context.CancelFunc
}

// New builds every check's monitor. A check whose monitor cannot be made
// is logged and left out of the schedule (L7391-7393).
func New(o Options) *Engine {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Build == nil {
		o.Build = func(env *monitors.Env, c config.Check) (monitors.Monitor, error) {
			return monitors.Build(env, c.Type, c.Module, c.Args)
		}
	}
	e := &Engine{o: o, entries: map[string]*entry{}, results: make(chan result), msgs: make(chan message)}
	now := o.Now()
	for _, c := range o.Conf.Checks {
		e.install(c, now)
	}
	return e
}

// Names lists the installed checks.
func (e *Engine) names() []string {
	out := make([]string, 0, len(e.entries))
	for n := range e.entries {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func (e *Engine) install(c config.Check, now time.Time) bool {
	env := e.o.Env
	env.Check = c.Name
	env.Checks = e.checkNames
	mon, err := e.o.Build(&env, c)
	if err != nil {
		e.o.Log.Warnf("Unable to create monitor %s (%s): %v - not scheduled.", c.Name, c.Module, err)
		return false
	}
	en := &entry{check: c, mon: mon}
	if c.Interval > 0 {
		en.next = now.Add(c.Interval)
		e.o.Log.Infof("Scheduled %s for %d (object type=%s)", c.Name, en.next.Unix(), c.Module)
	}
	e.entries[c.Name] = en
	return true
}

// checkNames is given to monitors; it is called from check goroutines,
// so it reads a snapshot the scheduler keeps.
func (e *Engine) checkNames() []string {
	reply := make(chan string, 1)
	select {
	case e.msgs <- message{text: "\x00names", reply: reply}:
		return strings.Split(<-reply, ",")
	case <-time.After(5 * time.Second):
		return nil
	}
}

// Handle passes a server message to the scheduler and returns its reply.
func (e *Engine) Handle(ctx context.Context, text string) string {
	reply := make(chan string, 1)
	select {
	case e.msgs <- message{text: text, reply: reply}:
	case <-ctx.Done():
		return "FAIL shutting down"
	}
	select {
	case r := <-reply:
		return r
	case <-ctx.Done():
		return "FAIL shutting down"
	}
}

// Run schedules the checks until ctx ends or ABORT is received.
func (e *Engine) Run(ctx context.Context) error {
	ctx, e.quit = context.WithCancel(ctx)
	defer e.quit()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		timer.Reset(e.untilNext())
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
			e.runDue(ctx)
		case r := <-e.results:
			e.apply(ctx, r)
		case m := <-e.msgs:
			if m.text == "\x00names" {
				m.reply <- strings.Join(e.names(), ",")
				continue
			}
			m.reply <- e.message(ctx, m.text)
		}
	}
}

func (e *Engine) untilNext() time.Duration {
	d := time.Hour
	if e.paused || e.handing {
		return d
	}
	now := e.o.Now()
	for _, en := range e.entries {
		if en.next.IsZero() || en.running {
			continue
		}
		if w := en.next.Sub(now); w < d {
			d = w
		}
	}
	if d < 0 {
		d = 0
	}
	return d
}

func (e *Engine) runDue(ctx context.Context) {
	if e.paused || e.handing {
		return
	}
	now := e.o.Now()
	for name, en := range e.entries {
		if en.next.IsZero() || en.running || en.next.After(now) {
			continue
		}
		en.running = true
		if en.check.Interval > 0 {
			en.next = now.Add(en.check.Interval)
		} else {
			en.next = time.Time{} // runs again only when RUN again
		}
		go func(name string, m monitors.Monitor) {
			rc, data := m.Check(ctx)
			select {
			case e.results <- result{name, m, rc, data}:
			case <-ctx.Done():
			}
		}(name, en.mon)
	}
}

// apply acts on one check's result through its action list (§24.3).
func (e *Engine) apply(ctx context.Context, r result) {
	en, ok := e.entries[r.name]
	if !ok || en.mon != r.mon {
		return // removed (or re-installed) while it ran
	}
	en.running = false
	en.lastRC, en.lastAt = r.rc, e.o.Now()
	en.checks++
	if r.rc != 0 {
		en.nonzero++
	}
	spec, ok := en.check.Actions[r.rc]
	if !ok {
		e.o.Log.Warnf("Monitor %s returned %d, which its action list does not map: nothing done.", r.name, r.rc)
		return
	}
	acts, bad := ParseActions(spec, r.rcdata, en.check.Type != "program")
	shown := strings.ReplaceAll(spec, "%RCDATA%", r.rcdata)
	if r.rc != 0 {
		e.o.Log.Infof("Monitor %s returned: %d => [%s]", r.name, r.rc, shown)
	}
	for _, b := range bad {
		e.o.Log.Warnf("Monitor %s: action %q ignored: not a valid action.", r.name, b)
	}
	for _, a := range acts {
		e.act(ctx, r.name, r.rc, a)
	}
}

func (e *Engine) act(ctx context.Context, cur string, rc int, a Action) {
	now := e.o.Now()
	target := a.Target
	if target == "" {
		target = cur
	}
	switch a.Verb {
	case "NOP":
	case "STOP":
		en, ok := e.entries[target]
		if !ok {
			e.o.Log.Warnf("Monitor %s: STOP of unknown check %s ignored.", cur, target)
			return
		}
		en.next = time.Time{}
		e.o.Log.Infof("Check %s has been stopped, (RC=%d)", target, rc)
	case "RUN":
		en, ok := e.entries[target]
		if !ok {
			e.o.Log.Warnf("Monitor %s: RUN of unknown check %s ignored.", cur, target)
			return
		}
		d := a.Delay
		if d == 0 {
			d = en.check.Interval // L7189: current time + interval
		}
		en.next = now.Add(d)
		e.o.Log.Infof("Check %s scheduled for %d, (RC=%d)", target, en.next.Unix(), rc)
	case "PAUSE":
		en, ok := e.entries[cur]
		if !ok {
			// An earlier step of the list (REMOVEMON) took it away.
			e.o.Log.Warnf("Monitor %s: PAUSE of a removed check ignored.", cur)
			return
		}
		d := a.Delay
		if d == 0 {
			d = DefaultPause
		}
		en.next = now.Add(d)
		e.o.Log.Infof("Check %s paused for %v, (RC=%d)", cur, d, rc)
	case "REMOVEMON":
		if _, ok := e.entries[cur]; !ok {
			return
		}
		delete(e.entries, cur)
		e.o.Log.Infof("Removed monitor \"%s\", (RC=%d)", cur, rc)
	case "RUNCMD":
		e.runcmd(cur, a.Argv)
	case "FAILOVER", "HALTAPP":
		e.handOver(ctx, cur, rc, a.Verb)
	}
}

// DefaultPause is PAUSE without a number of seconds: "If X is not
// specified then it defaults to 30 seconds" (L7175).
const DefaultPause = 30 * time.Second

// handOver asks the cluster daemon to fail the application over, or to
// halt it, and stops monitoring while it does: the stop that follows
// aborts this Lems (L3097), and a Lems that kept checking would only ask
// again.
func (e *Engine) handOver(ctx context.Context, cur string, rc int, verb string) {
	if e.handing {
		return
	}
	req := daemonapi.Req(daemonapi.Failover, "app", e.o.App, "node", e.o.Env.Me)
	what := "fail-over"
	if verb == "HALTAPP" {
		req, what = daemonapi.Req(daemonapi.StopApp, "app", e.o.App, "by", "lems"), "halt"
	}
	e.o.Log.Warnf("Monitor %s (RC=%d) requests %s of application %s.", cur, rc, what, e.o.App)
	if e.o.Cluster == nil {
		e.o.Log.Errorf("No cluster daemon to ask for the %s: monitoring continues.", what)
		return
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	reply, err := e.o.Cluster(cctx, req)
	if err != nil {
		e.o.Log.Errorf("Cluster daemon did not take the %s request: %v", what, err)
		return
	}
	e.o.Log.Infof("Cluster daemon replied to %s: %s", req, reply)
	if reply == "OK" {
		e.handing = true
		e.o.Log.Infof("Monitoring suspended while the cluster acts.")
	}
}

// runcmd starts a command in the background with its output in
// <logs>/<app>-<monitor>.stdout and .stderr (L7193-7204); nothing waits
// for it and its exit code drives nothing.
func (e *Engine) runcmd(cur string, argv []string) {
	base := filepath.Join(e.o.LogsDir, e.o.App+"-"+cur)
	open := func(suffix string) *os.File {
		f, err := os.OpenFile(base+suffix, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil
		}
		return f
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	stdout, stderr := open(".stdout"), open(".stderr")
	if stdout != nil {
		cmd.Stdout = stdout
	}
	if stderr != nil {
		cmd.Stderr = stderr
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	start := e.o.Start
	if start == nil {
		start = (*exec.Cmd).Start
	}
	err := start(cmd)
	if stdout != nil {
		stdout.Close()
	}
	if stderr != nil {
		stderr.Close()
	}
	if err != nil {
		e.o.Log.Warnf("Monitor %s: RUNCMD %s failed: %v", cur, strings.Join(argv, " "), err)
		return
	}
	if cmd.Process == nil { // a stand-in Start
		return
	}
	e.o.Log.Infof("Monitor %s: started %s (pid %d)", cur, strings.Join(argv, " "), cmd.Process.Pid)
	go cmd.Wait()
}

// Line separator inside one reply: the protocol carries one line per
// reply, and the Reference's GET_STAT shows "<nr>" between monitors
// (L7361). lemsctl prints it as a new line.
const NR = "<nr>"

// message answers one server message (§24.5, L7355-7377; replies as
// §16 shows them, L4284-4637).
func (e *Engine) message(ctx context.Context, text string) string {
	r, err := wire.ParseRequest(text)
	if err != nil {
		return "FAIL empty message"
	}
	w := r.Words
	arg := ""
	if len(w) > 0 {
		arg = w[0]
	}
	now := e.o.Now()
	switch r.Verb {
	case "GET_STAT", "GET_VSTAT":
		var b strings.Builder
		names := e.names()
		if arg != "" {
			if _, ok := e.entries[arg]; !ok {
				return "FAIL no monitor " + arg
			}
			names = []string{arg}
		}
		for _, n := range names {
			en := e.entries[n]
			next := int64(0)
			if !en.next.IsZero() && !e.paused && !e.handing {
				next = en.next.Unix()
			}
			fmt.Fprintf(&b, "%s,%d,%s,%s%s", n, next, strconv.FormatFloat(en.check.Interval.Seconds(), 'f', -1, 64),
				strings.TrimSpace(en.check.Module+" "+strings.Join(en.check.Args, " ")), NR)
			if r.Verb == "GET_VSTAT" {
				b.WriteString("<monitor-detail-start>" + NR)
				if s, ok := en.mon.(monitors.Stater); ok {
					if d := s.Stat(); d != "" {
						b.WriteString(d + NR)
					}
				}
				b.WriteString("<monitor-detail-end>" + NR)
			}
		}
		return b.String()
	case "GET_RESULTS":
		// Not in the Reference: each monitor's last result and counts,
		// "name,last rc,last check (unix time, 0: none yet),checks,non-zero".
		var b strings.Builder
		for _, n := range e.names() {
			en := e.entries[n]
			at := int64(0)
			if !en.lastAt.IsZero() {
				at = en.lastAt.Unix()
			}
			fmt.Fprintf(&b, "%s,%d,%d,%d,%d%s", n, en.lastRC, at, en.checks, en.nonzero, NR)
		}
		return b.String()
	case "CMD":
		if len(w) < 2 {
			return "FAIL CMD needs a monitor and a command"
		}
		en, ok := e.entries[w[0]]
		if !ok {
			return "FAIL no monitor " + w[0]
		}
		acc, ok := en.mon.(monitors.Accepter)
		if !ok {
			return "NOT_IMP"
		}
		out, err := acc.Accept(w[1:])
		if err != nil {
			return "FAIL " + err.Error()
		}
		e.o.Log.Infof("Monitor %s accepted: %s", w[0], strings.Join(w[1:], " "))
		return strings.TrimSpace("OK " + out)
	case "PAUSE":
		if arg == "" {
			e.paused = true
			e.o.Log.Infof("All monitoring paused by user request.")
			return "OK"
		}
		en, ok := e.entries[arg]
		if !ok {
			return "FAIL no monitor " + arg
		}
		en.next = time.Time{}
		e.o.Log.Infof("Monitor %s paused by user request.", arg)
		return arg + " PAUSED"
	case "RESUME":
		if arg == "" {
			// Monitors stopped before the PAUSE stay stopped (L4384).
			e.paused = false
			e.handing = false
			for _, en := range e.entries {
				if !en.next.IsZero() && en.next.Before(now) {
					en.next = now
				}
			}
			e.o.Log.Infof("Monitoring resumed by user request.")
			return "OK"
		}
		en, ok := e.entries[arg]
		if !ok {
			return "FAIL no monitor " + arg
		}
		en.next = now.Add(en.check.Interval)
		e.o.Log.Infof("Monitor %s resumed by user request.", arg)
		return fmt.Sprintf("%s RESUMED (in %s secs)", arg, strconv.FormatFloat(en.check.Interval.Seconds(), 'f', -1, 64))
	case "REMOVE":
		if _, ok := e.entries[arg]; !ok {
			return "FAIL no monitor " + arg
		}
		delete(e.entries, arg)
		e.o.Log.Infof("Removed monitor \"%s\" by user request.", arg)
		return arg + " REMOVED"
	case "INSTALL":
		return e.installMsg(arg, now)
	case "ABORT":
		e.o.Log.Infof("Lems aborted by user request.")
		// Reply first; the server writes it before the listener closes.
		time.AfterFunc(200*time.Millisecond, e.quit)
		return "OK"
	case "VERBOSE":
		switch strings.ToUpper(arg) {
		case "ON":
			e.o.Log.SetVerbose(true)
		case "OFF":
			e.o.Log.SetVerbose(false)
		default:
			return "FAIL VERBOSE ON or OFF"
		}
		return "OK"
	case "LOGCYCLE":
		n, err := strconv.Atoi(arg)
		if err != nil || n < 1 || n > 99 {
			return "FAIL LOGCYCLE needs a count from 1 to 99"
		}
		if err := e.o.Log.Cycle(n); err != nil {
			return "FAIL " + err.Error()
		}
		return "OK"
	}
	return "FAIL unknown message " + r.Verb
}

// installMsg adds a check from the configuration file as it is now; the
// check must not be installed already (L4465-4496).
func (e *Engine) installMsg(name string, now time.Time) string {
	if name == "" {
		return "FAIL INSTALL needs a monitor name"
	}
	if _, ok := e.entries[name]; ok {
		return "FAIL monitor " + name + " is already installed"
	}
	e.o.Log.Infof("*** INSTALL MODULE %s START ***", name)
	defer e.o.Log.Infof("*** INSTALL MODULE %s END ***", name)
	data, err := os.ReadFile(e.o.ConfPath)
	if err != nil {
		return "FAIL " + err.Error()
	}
	conf, err := config.ParseLems(e.o.ConfPath, data)
	if err != nil {
		e.o.Log.Warnf("%v", err)
		return "FAIL " + strings.ReplaceAll(err.Error(), "\n", "; ")
	}
	e.o.Log.Infof("New configuration using modules from : %s", conf.Modules)
	e.o.Log.Infof("New configuration using programs from : %s", conf.Programs)
	for _, c := range conf.Checks {
		if c.Name != name {
			continue
		}
		e.o.Log.Infof("Validated new monitor entry %s successfully.", name)
		if !e.install(c, now) {
			return "FAIL monitor " + name + " could not be created"
		}
		e.o.Log.Infof("Successfully added new monitor %s.", name)
		return "OK"
	}
	return "FAIL no monitor " + name + " in " + e.o.ConfPath
}

// MonitorStat is one monitor in a GET_STAT or GET_VSTAT reply.
type MonitorStat struct {
	Name     string   `json:"name"`
	NextRun  int64    `json:"next_run"` // unix time; 0 = stopped
	Interval float64  `json:"interval"`
	Command  string   `json:"command"` // module and arguments
	Detail   []string `json:"detail,omitempty"`
}

// Module is the monitor's module name.
func (m MonitorStat) Module() string {
	f := strings.Fields(m.Command)
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// MonitorResult is one monitor in a GET_RESULTS reply.
type MonitorResult struct {
	Name            string
	LastRC          int
	LastAt          int64 // unix time; 0 before the first check
	Checks, NonZero int64
}

// ParseResults reads a GET_RESULTS reply.
func ParseResults(reply string) []MonitorResult {
	var out []MonitorResult
	for _, line := range strings.Split(reply, NR) {
		f := strings.Split(line, ",")
		if len(f) != 5 {
			continue
		}
		rc, err1 := strconv.Atoi(f[1])
		at, err2 := strconv.ParseInt(f[2], 10, 64)
		checks, err3 := strconv.ParseInt(f[3], 10, 64)
		nz, err4 := strconv.ParseInt(f[4], 10, 64)
		if err1 != nil || err2 != nil || err3 != nil || err4 != nil {
			continue
		}
		out = append(out, MonitorResult{Name: f[0], LastRC: rc, LastAt: at, Checks: checks, NonZero: nz})
	}
	return out
}

// ParseStat reads a GET_STAT or GET_VSTAT reply.
func ParseStat(reply string) []MonitorStat {
	var out []MonitorStat
	in := false
	for _, line := range strings.Split(reply, NR) {
		switch {
		case line == "":
		case line == "<monitor-detail-start>":
			in = true
		case line == "<monitor-detail-end>":
			in = false
		case in && len(out) > 0:
			out[len(out)-1].Detail = append(out[len(out)-1].Detail, line)
		default:
			f := strings.SplitN(line, ",", 4)
			if len(f) != 4 {
				continue
			}
			next, _ := strconv.ParseInt(f[1], 10, 64)
			iv, _ := strconv.ParseFloat(f[2], 64)
			out = append(out, MonitorStat{Name: f[0], NextRun: next, Interval: iv, Command: f[3]})
		}
	}
	return out
}
