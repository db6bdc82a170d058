package cluster

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/linuxha-ng/linuxha/pkg/alerts"
	"github.com/linuxha-ng/linuxha/pkg/appctl"
	api "github.com/linuxha-ng/linuxha/pkg/daemonapi"
	"github.com/linuxha-ng/linuxha/pkg/failover"
	"github.com/linuxha-ng/linuxha/pkg/locks"
	"github.com/linuxha-ng/linuxha/pkg/logx"
	"github.com/linuxha-ng/linuxha/pkg/state"
	"github.com/linuxha-ng/linuxha/pkg/storage/volumes"
	"github.com/linuxha-ng/linuxha/pkg/wire"
)

// view gathers what the fail-over policy decides from: the registry, and
// the STALE flags and configuration of each application.
func (d *Daemon) view() failover.View {
	d.mu.Lock()
	v := failover.View{Me: d.me.Name, Peer: d.peer.Name, PeerUp: d.peerState == api.NodeUp, Fence: len(d.Cfg.Fence) > 0}
	apps := make([]App, 0, len(d.apps))
	for _, a := range d.apps {
		apps = append(apps, *a)
	}
	d.mu.Unlock()
	for _, a := range apps {
		fa := failover.App{Name: a.Name, State: a.State, Node: a.Node, ValidNodes: a.ValidNodes,
			Takeover: a.Conf.Takeover, Deps: a.Conf.Dependencies, Since: a.Since}
		for _, n := range a.Conf.Networks {
			fa.Networks = append(fa.Networks, n.Net)
			if len(n.Checklist) > 0 {
				fa.Checklist = true
			}
		}
		stale, _ := state.ListStale(d.L.StatusDir(a.Name))
		for _, s := range stale {
			switch s.Node {
			case d.me.Name:
				fa.LocalStale = true
			case d.peer.Name:
				fa.PeerStale = true
			}
		}
		v.Apps = append(v.Apps, fa)
	}
	return v
}

// silence answers the partition questions of §21.6 (L6743-6752) for the
// policy's Judge: do the silent node's application addresses answer, does
// this node reach the checklists and the reach list.
func (d *Daemon) silence(ctx context.Context, timeout time.Duration) failover.Silence {
	var s failover.Silence
	var addrs, checks []string
	percent := 100
	d.mu.Lock()
	for _, a := range d.apps {
		theirs := a.Node == d.peer.Name && a.State != api.AppDown
		if theirs {
			s.PeerApps++
		}
		for _, n := range a.Conf.Networks {
			if len(n.Checklist) > 0 {
				s.Checklists = true
				checks = append(checks, n.Checklist...)
				percent = min(percent, n.CheckPercent)
			}
			if theirs {
				for _, ip := range n.IPs {
					addrs = append(addrs, ip.String())
				}
			}
		}
	}
	echo := d.Cfg.EchoType // RECONFIGURE writes it under d.mu
	d.mu.Unlock()
	// One sweep of echoes answers all three questions.
	up := map[string]bool{}
	for _, h := range d.Opts.Net.Answering(ctx, echo, slices.Concat(addrs, checks, d.Cfg.ReachList), timeout) {
		up[h] = true
	}
	count := func(hosts []string) int {
		n := 0
		for _, h := range hosts {
			if up[h] {
				n++
			}
		}
		return n
	}
	s.AppAddrAnswers = count(addrs) > 0
	if len(checks) > 0 {
		s.ChecklistOK = count(checks)*100 >= percent*len(checks)
	}
	if len(d.Cfg.ReachList) > 0 {
		s.ReachList = true
		s.TieWinner = d.me.Name < d.peer.Name
		s.ReachMine = count(d.Cfg.ReachList) * 100 / len(d.Cfg.ReachList)
	}
	return s
}

// peerDead runs when the other node is declared dead, with the answers to
// the partition questions gathered while it was silent (nil: ask now).
func (d *Daemon) peerDead(ctx context.Context, pre *failover.Silence) {
	v := d.view()
	var s failover.Silence
	if pre != nil {
		s = *pre
	} else {
		s = d.silence(ctx, 500*time.Millisecond)
	}
	verdict := failover.Judge(s)
	if verdict == failover.Partitioned {
		d.metrics.partitions.Inc()
		d.alerts.Send(alerts.Event{Kind: alerts.Node, Node: d.peer.Name, Desc: "partitioned: silent but not judged dead, nothing moved"})
	}
	d.Log.Warnf("Node %s judged %s (applications there: %d, their addresses answer: %v, checklist reachable: %v).",
		d.peer.Name, verdict, s.PeerApps, s.AppAddrAnswers, s.ChecklistOK)
	acts := failover.Decide(v, failover.PeerDead{Verdict: verdict})
	judged := time.Now()
	var addrsMu sync.Mutex
	var addrs time.Duration // when the last application's addresses came up; guarded by addrsMu
	d.act(ctx, acts, func() {
		addrsMu.Lock()
		addrs = max(addrs, time.Since(judged))
		addrsMu.Unlock()
	})
	if starts := countStarts(acts); starts > 0 {
		took := time.Since(judged)
		d.metrics.takeoverTime.Observe(took.Seconds())
		d.metrics.takeoverAddrs.Observe(addrs.Seconds())
		d.Log.Infof("Takeover from %s took %d ms after the verdict (addresses up after %d ms; applications to start: %d).", d.peer.Name, took.Milliseconds(), addrs.Milliseconds(), starts)
	}
}

// countStarts is how many applications acts start here.
func countStarts(acts []failover.Action) int {
	n := 0
	for _, a := range acts {
		if a.Kind == failover.Start {
			n++
		}
	}
	return n
}

// act carries out the policy's actions in order, one set at a time: a
// second event waits for the first to finish. Starts run wave by wave
// (failover.Action.Wave): together when independent, after their
// dependencies otherwise. addrsUp, if not nil, is called as each started
// application's addresses come up; with a wave of starts it is called
// from several goroutines.
func (d *Daemon) act(ctx context.Context, acts []failover.Action, addrsUp func()) {
	d.actMu.Lock()
	defer d.actMu.Unlock()
	for i := 0; i < len(acts); i++ {
		if ctx.Err() != nil {
			return
		}
		if acts[i].Kind != failover.Start {
			if !d.do(ctx, acts[i], startHooks{}) {
				return
			}
			continue
		}
		j := i
		for j < len(acts) && (acts[j].Kind == failover.Start || acts[j].Kind == failover.Note) {
			j++
		}
		d.startWaves(ctx, acts[i:j], addrsUp)
		i = j - 1
	}
}

// startWaves carries out a run of starts (and the notes among them),
// each wave's starts at once, wave after wave.
// Within a wave, filesync syncers wait until every start of the wave has
// its addresses up (appctl.Options.SyncerAfter): starting them is a
// process each, CPU the other starts' addresses would wait for.
func (d *Daemon) startWaves(ctx context.Context, acts []failover.Action, addrsUp func()) {
	last := 0
	for _, a := range acts {
		if a.Kind == failover.Start {
			last = max(last, a.Wave)
		} else {
			d.do(ctx, a, startHooks{})
		}
	}
	d.mu.Lock()
	cfg := d.Cfg // RECONFIGURE replaces it under d.mu
	d.mu.Unlock()
	lc, err := locks.NewClient(cfg, false, "cldaemon")
	if err != nil {
		d.Log.Warnf("Takeover without shared locks: %v", err)
	}
	for w := 0; w <= last && ctx.Err() == nil; w++ {
		var wg, up sync.WaitGroup
		gate := make(chan struct{})
		var shared *locks.Shared
		if lc != nil {
			shared = &locks.Shared{Client: lc}
		}
		for _, a := range acts {
			if a.Kind != failover.Start || a.Wave != w {
				continue
			}
			up.Add(1)
			once := sync.OnceFunc(up.Done) // addresses up, or the start over
			h := startHooks{gate: gate, locks: shared, addrsUp: func() {
				if addrsUp != nil {
					addrsUp()
				}
				once()
			}}
			wg.Go(func() {
				defer once()
				d.do(ctx, a, h)
			})
		}
		wg.Go(func() {
			up.Wait()
			close(gate)
		})
		wg.Wait()
	}
}

// startHooks are what a takeover's start tells its wave: addrsUp is
// called when its addresses are up; its syncer waits for gate.
type startHooks struct {
	addrsUp func()
	gate    <-chan struct{}
	locks   *locks.Shared // the wave's NET and NBD_CLIENT
}

// do carries out one action; false stops the rest of the set (a fence
// that never succeeded, a halt that failed).
func (d *Daemon) do(ctx context.Context, a failover.Action, h startHooks) bool {
	if a.Kind != failover.Note {
		d.Log.Eventf(logx.Info, "failover-action", a.App, "Fail-over action: %s (%s)", a, a.Why)
	}
	switch a.Kind {
	case failover.Note:
		if a.App != "" {
			d.Log.Infof("Application %s: %s", a.App, a.Why)
		} else {
			d.Log.Infof("%s", a.Why)
		}
	case failover.MarkDown:
		if app, ok := d.app(a.App); ok {
			d.mu.Lock()
			app.State, app.Node = api.AppDown, ""
			d.mu.Unlock()
		}
	case failover.Fence:
		if !d.fenceUntilDone(ctx, a.Node) {
			return false
		}
	case failover.Start:
		opts := appctl.Options{Takeover: true, Force: a.Force, ReallyForce: a.ClearStale, AddrsSilent: a.AddrsSilent, AddressesUp: h.addrsUp, SyncerAfter: h.gate,
			Daemon: d.handleLocal, Locks: h.locks}
		if a.ClearStale {
			d.Log.Warnf("Application %s starts on STALE data (takeover=force): the other copy will be overwritten.", a.App)
		}
		if err := d.takeover(ctx, a.App, opts); err != nil {
			d.Log.Errorf("Takeover of %s failed: %v", a.App, err)
			d.alerts.Send(alerts.Event{Kind: alerts.Resource, Node: d.me.Name, Rsc: a.App, Task: "start", RC: 1, Desc: "takeover failed"})
			return true
		}
		d.metrics.takeovers.Inc()
		d.Log.Eventf(logx.Info, "takeover", a.App, "Application %s taken over by %s.", a.App, d.me.Name)
		d.alerts.Send(alerts.Event{Kind: alerts.Resource, Node: d.me.Name, Rsc: a.App, Task: "start", Desc: "taken over from " + d.peer.Name})
	case failover.Halt:
		if err := d.runToolWait(ctx, "clhaltapp", "--application", a.App); err != nil {
			d.Log.Errorf("Halt of %s failed: %v - it is not started elsewhere.", a.App, err)
			return false
		}
	case failover.StartOn:
		reply, err := d.call(ctx, api.Req(api.StartApp, "app", a.App), 5*time.Second)
		if err != nil || reply != api.OK {
			d.Log.Errorf("%s did not take START_APP for %s: %s %v", a.Node, a.App, reply, err)
			return true
		}
		d.metrics.failovers.Inc()
		d.Log.Infof("Application %s is starting on %s.", a.App, a.Node)
		d.alerts.Send(alerts.Event{Kind: alerts.Resource, Node: a.Node, Rsc: a.App, Task: "migrate", Desc: "failed over from " + d.me.Name})
	case failover.SetValid:
		if app, ok := d.app(a.App); ok {
			d.mu.Lock()
			app.ValidNodes = append([]string(nil), a.Nodes...)
			d.mu.Unlock()
			d.call(ctx, api.Req(api.SetValidNodes, "app", a.App, "nodes", strings.Join(a.Nodes, ",")), 2*time.Second)
			d.Log.Infof("Valid nodes of %s: %s (clrunapp --reset restores both).", a.App, strings.Join(a.Nodes, ","))
		}
	case failover.Reset:
		d.reset(a.Why)
	}
	return true
}

// FenceRetry is how long a failed fence waits before it is tried again.
const FenceRetry = 5 * time.Second

// fenceUntilDone runs Global.fence against node until it succeeds: a
// power switch or IPMI board that did not answer once may answer the next
// time, and Pacemaker, too, retries fencing rather than give up on the
// node's resources. It gives up when the node is heard again (it was not
// dead after all, and nothing may be taken from it) or the daemon stops.
func (d *Daemon) fenceUntilDone(ctx context.Context, node string) bool {
	for {
		err := runFence(ctx, d.Cfg.Fence, node)
		d.metrics.fenceAttempts.Inc()
		if err == nil {
			d.Log.Eventf(logx.Info, "fence-ok", "", "Node %s fenced.", node)
			d.alerts.Send(alerts.Event{Kind: alerts.Fencing, Node: node, Task: "off", Desc: "Operation off of " + node + " by " + d.me.Name + ": OK"})
			return true
		}
		d.metrics.fenceFail.Inc()
		d.Log.Eventf(logx.Error, "fence-failed", "", "Fencing %s failed: %v - no application will be taken over until it succeeds (next try in %v).", node, err, FenceRetry)
		d.alerts.Send(alerts.Event{Kind: alerts.Fencing, Node: node, Task: "off", RC: 1, Desc: "Operation off of " + node + " by " + d.me.Name + ": failed"})
		sleep(ctx, FenceRetry)
		d.mu.Lock()
		back := d.peerState == api.NodeUp
		d.mu.Unlock()
		if ctx.Err() != nil {
			return false
		}
		if back {
			d.Log.Warnf("Node %s is back: fencing abandoned, nothing taken over.", node)
			return false
		}
	}
}

// runFence runs the fence command with %n replaced by node; only exit 0
// lets a takeover go ahead.
func runFence(ctx context.Context, command []string, node string) error {
	if len(command) == 0 {
		return nil
	}
	argv := make([]string, len(command))
	for i, w := range command {
		argv[i] = strings.ReplaceAll(w, "%n", node)
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %v %s", strings.Join(argv, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// EnvTOC and FileTOC name a shell command that runs before the real
// reset: the testbeds write FileTOC so that a TOC crashes the node's
// namespace instead of the host. The file counts only when root owns it
// and no one else may write it (the testbed enables it explicitly; no
// other user can plant one), and when the command returns the node is
// reset anyway.
const (
	EnvTOC  = "LINUXHA_TOC"
	FileTOC = "/run/linuxha/toc"
)

// reset resets this node at once, with no sync: "intentionally abrupt"
// (L6764).
func (d *Daemon) reset(why string) {
	d.metrics.tocs.Inc()
	d.Log.Eventf(logx.Error, "toc", "", "Resetting %s now: %s", d.me.Name, why)
	d.alerts.Send(alerts.Event{Kind: alerts.Node, Node: d.me.Name, Desc: "reset: " + why})
	toc(d.Log.Errorf, tocHook(), sysrqReset)
}

// tocHook returns the configured test hook, or "".
func tocHook() string {
	if cmd := os.Getenv(EnvTOC); cmd != "" {
		return cmd
	}
	return rootHook(FileTOC)
}

// rootHook reads a test hook file: it counts only when it is a regular
// file that root owns and no one else may write.
func rootHook(file string) string {
	st, err := os.Stat(file)
	if err != nil {
		return ""
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); !ok || sys.Uid != 0 || st.Mode().Perm()&0o022 != 0 || !st.Mode().IsRegular() {
		return ""
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// FileClockOffset, when root's alone, holds a duration added to the
// clock the daemon reports (TIME) and compares with: the testbeds' nodes
// share one kernel clock, and this is how they get different ones.
const FileClockOffset = "/run/linuxha/clock-offset"

// clock is time.Now, shifted by the test hook's offset when there is one.
func clock(logf func(string, ...any)) func() time.Time {
	s := rootHook(FileClockOffset)
	if s == "" {
		return time.Now
	}
	off, err := time.ParseDuration(s)
	if err != nil {
		logf("%s: %v - ignored", FileClockOffset, err)
		return time.Now
	}
	logf("Clock offset %v from %s (testing only).", off, FileClockOffset)
	return func() time.Time { return time.Now().Add(off) }
}

// toc runs the hook, if any; a hook that returns has not reset the
// node, so the real reset follows. A hook killed by a signal is most
// likely going down with its node (the namespace testbed's kills every
// process of the node at once): the reset waits a little first, so that
// it never outlives a node that is already gone and resets the host.
func toc(logf func(string, ...any), hook string, reset func()) {
	if hook != "" {
		logf("TOC through the test hook: %s", hook)
		err := exec.Command("/bin/sh", "-c", hook).Run()
		if ee, ok := err.(*exec.ExitError); ok && !ee.Exited() {
			time.Sleep(tocGrace)
		}
		logf("TOC test hook returned (%v): resetting through sysrq", err)
	}
	reset()
}

// tocGrace is how long a reset waits after a hook killed by a signal.
var tocGrace = 5 * time.Second

func sysrqReset() {
	os.WriteFile("/proc/sys/kernel/sysrq", []byte("1"), 0o644)
	os.WriteFile("/proc/sysrq-trigger", []byte("b"), 0o200)
}

// takeover starts app here as clstartapp --takeover would, in this
// process: a fail-over's critical path does not wait for a program to
// start and read its configuration (about 20 ms). The start logs to
// clstart.<app>.log as clstartapp does. It uses the configuration this
// daemon runs with (clbuild's checksum was verified when it was read);
// the application's own checksum is verified as clstartapp does. A panic
// in the start is this start's failure, not the daemon's end.
func (d *Daemon) takeover(ctx context.Context, app string, opts appctl.Options) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("start of %s panicked: %v\n%s", app, r, debug.Stack())
		}
	}()
	d.mu.Lock()
	cfg := *d.Cfg // RECONFIGURE replaces fields under d.mu
	d.mu.Unlock()
	return appctl.Run(ctx, d.L, &cfg, app, "", nil, opts, true)
}

// handleLocal answers a request of this daemon's own takeovers
// (appctl.Options.Daemon) as if it had come over the wire.
func (d *Daemon) handleLocal(ctx context.Context, req string) string {
	return d.handle(ctx, req, nil)
}

// runToolWait runs clstartapp or clhaltapp and waits for it.
func (d *Daemon) runToolWait(ctx context.Context, tool string, args ...string) error {
	out, err := exec.CommandContext(ctx, filepath.Join(d.binDir(), tool), args...).CombinedOutput()
	if err != nil {
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		return fmt.Errorf("%s: %v: %s", tool, err, lines[len(lines)-1])
	}
	return nil
}

// reqFailover is Lems asking for the application to move to the other
// node (L7636); the policy decides, and the work runs in the background.
func (d *Daemon) reqFailover(ctx context.Context, r wire.Request) string {
	a, reply := d.appArg(r)
	if a == nil {
		return reply
	}
	node := d.nodeArg(r)
	d.Log.Warnf("Fail-over of application %s requested by Lems on %s.", a.Name, node)
	d.alerts.Send(alerts.Event{Kind: alerts.Resource, Node: node, Rsc: a.Name, Task: "monitor", RC: 1, Desc: "Lems asks to fail it over"})
	acts := failover.Decide(d.view(), failover.FailoverRequest{App: a.Name})
	go d.act(context.WithoutCancel(ctx), acts, nil)
	return api.OK
}

// peerRecord asks the other daemon for its record of app (APP_STATUS
// with nodeinfo).
func (d *Daemon) peerRecord(ctx context.Context, app string) (failover.Record, error) {
	o := api.StatusOptions{Nodes: true}
	reply, err := d.call(ctx, o.Request(app), 2*time.Second)
	if err != nil {
		return failover.Record{}, err
	}
	s, err := api.ParseAppStatus(reply, o)
	if err != nil {
		return failover.Record{}, fmt.Errorf("%s: %w", app, err)
	}
	return failover.Record{State: s.State, Node: s.Node, Since: s.Since}, nil
}

// ReconcileEvery is how often the daemons compare their registries while
// both are up: a partition that healed shows as an application running
// on both nodes, which must end at once (L6762-6764, "about every 10 s").
const ReconcileEvery = 10 * time.Second

// watchPeer compares registries every ReconcileEvery, and at once when
// the other node comes back (d.heard) or this node has just joined.
func (d *Daemon) watchPeer(ctx context.Context) {
	d.reconcile(ctx)
	d.every(ctx, ReconcileEvery, d.heard, func() { d.reconcile(ctx) })
}

// reconcile gathers the other daemon's records and carries out what
// failover.Reconcile finds: registry entries taken from the other node,
// a duplicate to resolve, applications lost with a quick reboot.
func (d *Daemon) reconcile(ctx context.Context) {
	d.mu.Lock()
	up := d.peerState == api.NodeUp
	d.mu.Unlock()
	if !up {
		return
	}
	// The other daemon's own state first: one that answers UP has had
	// its HELLO handled here (it goes UP only on our answer), so the
	// rejoined flag read after this is current for the records asked
	// after it.
	peerDaemon, err := d.call(ctx, api.Req(api.Echo, "check", "y"), 2*time.Second)
	if err != nil {
		return
	}
	d.mu.Lock()
	up = d.peerState == api.NodeUp
	rejoined := d.rejoined && up
	if rejoined {
		d.rejoined = false
	}
	back := d.back && up
	if back {
		d.back = false
	}
	d.mu.Unlock()
	if !up {
		return
	}
	if back {
		d.resync(failover.Resyncs(d.view()))
	}
	theirs := map[string]failover.Record{}
	for _, name := range d.appNames() {
		if pr, err := d.peerRecord(ctx, name); err == nil {
			theirs[name] = pr
		}
	}
	r := failover.Reconcile(d.view(), peerDaemon, theirs, rejoined)
	d.mu.Lock()
	for _, ad := range r.Adopt {
		a, ok := d.apps[ad.App]
		if !ok || a.State != ad.Was.State || a.Node != ad.Was.Node {
			continue // changed since the view: the next round looks again
		}
		d.Log.Infof("Application %s is %s on %s according to %s - registry updated.", ad.App, ad.Record.State, orNone(ad.Record.Node), d.peer.Name)
		a.State, a.Node, a.Since = ad.Record.State, ad.Record.Node, ad.Record.Since
	}
	if r.AskAgain {
		d.rejoined = true // ask again next time about what went unanswered
	}
	d.mu.Unlock()
	if r.Duplicate != nil {
		d.Log.Eventf(logx.Error, "split-brain", r.Duplicate.App, "Application %s is running on both %s and %s!", r.Duplicate.App, d.me.Name, d.peer.Name)
		d.alerts.Send(alerts.Event{Kind: alerts.Resource, Node: d.me.Name, Rsc: r.Duplicate.App, Task: "monitor", RC: 1, Desc: "running on both " + d.me.Name + " and " + d.peer.Name})
		d.act(ctx, failover.Decide(d.view(), *r.Duplicate), nil)
		return
	}
	if len(r.Lost) > 0 {
		d.Log.Errorf("Node %s rebooted and joined, and no longer runs %s - taking over.", d.peer.Name, strings.Join(r.Lost, ", "))
		d.act(ctx, failover.Decide(d.view(), failover.PeerRestarted{Apps: r.Lost}), nil)
	}
}

// StaleEvery is how often this node looks for a copy on the other node
// that has gone STALE, to alert about it.
const StaleEvery = 5 * time.Second

// watchStale alerts once when an application running here leaves the
// other node's copy STALE (failover.NewlyStale).
func (d *Daemon) watchStale(ctx context.Context) {
	var was map[string]bool
	d.every(ctx, StaleEvery, nil, func() {
		var news []string
		was, news = failover.NewlyStale(d.view(), was)
		for _, app := range news {
			d.Log.Warnf("The copy of %s on %s is STALE: it runs only from %s's data until they are in step.", app, d.peer.Name, d.me.Name)
			d.alerts.Send(alerts.Event{Kind: alerts.Resource, Node: d.me.Name, Rsc: app, Task: "monitor", RC: 1, Desc: "data on " + d.peer.Name + " is STALE"})
		}
	})
}

// resync asks the replication of each application for a pass now. DRBD
// resynchronises by itself once it reconnects (its fsmonitor watches
// it); a filesync syncer otherwise waits for its next period.
func (d *Daemon) resync(rs []failover.Resync) {
	if d.Cfg.DataDetail != "filesync" {
		return
	}
	for _, r := range rs {
		if asked, err := volumes.SyncNow(d.L, r.App); err != nil {
			d.Log.Warnf("Unable to resynchronise %s to %s now: %v", r.App, d.peer.Name, err)
		} else if asked {
			d.Log.Infof("Node %s is back: resynchronising %s now (%s).", d.peer.Name, r.App, r.Why)
		}
	}
}

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}
