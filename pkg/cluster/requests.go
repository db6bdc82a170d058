package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/linuxha-ng/linuxha/pkg/alerts"
	"github.com/linuxha-ng/linuxha/pkg/config"
	api "github.com/linuxha-ng/linuxha/pkg/daemonapi"
	"github.com/linuxha-ng/linuxha/pkg/failover"
	"github.com/linuxha-ng/linuxha/pkg/logx"
	"github.com/linuxha-ng/linuxha/pkg/state"
	"github.com/linuxha-ng/linuxha/pkg/storage/volumes"
	"github.com/linuxha-ng/linuxha/pkg/wire"
)

type request struct {
	desc string
	fn   func(ctx context.Context, r wire.Request) string
}

func (d *Daemon) requests() map[string]request {
	return map[string]request{
		api.Time:          {"Return local time", d.reqTime},
		api.Abort:         {"Abort cluster daemon", d.reqAbort},
		api.GetNodeState:  {"Get node state", d.reqNodeState},
		api.Echo:          {"Check cluster daemon", d.reqEcho},
		api.ChangeDState:  {"Change daemon state", d.reqChangeState},
		api.Checksum:      {"Get application build checksum", d.reqChecksum},
		api.AppList:       {"List applications", d.reqAppList},
		api.AppStatusReq:  {"Get application status", d.reqAppStatus},
		api.RegApp:        {"Register application", d.reqRegApp},
		api.DeregApp:      {"De-register application", d.reqDeregApp},
		api.PNode:         {"Get application preferred node", d.reqPnode},
		api.DependsOn:     {"Get application dependencies", d.reqDependsOn},
		api.AutostartList: {"Get list of auto-start applications", d.reqAutostart},
		api.GetValidNodes: {"Get Application valid nodes", d.reqGetValid},
		api.SetValidNodes: {"Set Application valid nodes", d.reqSetValid},
		api.IsValid:       {"Check Application valid nodes", d.reqIsValid},
		api.Verbose:       {"Change logging verbosity", d.reqVerbose},
		api.LogCycle:      {"Cycle log file", d.reqLogCycle},
		api.Help:          {"List supported requests", d.reqHelp},
		api.LoadAverage:   {"Get load average", d.reqLoad},
		api.Reconfigure:   {"Rereconfigure running cluster daemon", d.reqReconfigure},
		api.StopApp:       {"Stop application", d.reqStopApp},
		api.StartApp:      {"Start application", d.reqStartApp},
		api.StartingApp:   {"Change Application state to STARTING", d.reqAppState(api.AppStarting)},
		api.StartedApp:    {"Change Application state to STARTED", d.reqAppState(api.AppStarted)},
		api.StoppingApp:   {"Change Application state to STOPPING", d.reqAppState(api.AppStopping)},
		api.StoppedApp:    {"Change Application state to STOPPED", d.reqAppState(api.AppDown)},
		api.NetFailed:     {"Network failed locally (from clnetd)", d.reqNetFailed},
		api.AppUpdate:     {"Update application state (probe=yes: from its addresses)", d.reqAppUpdate},
		api.Failover:      {"Fail application over to the other node (from Lems)", d.reqFailover},
		api.PolicyView:    {"Fail-over policy view of this node, as JSON (clsimulate)", d.reqView},
	}
}

func (d *Daemon) requestNames() []string {
	var out []string
	for n := range d.reqs {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func (d *Daemon) handle(ctx context.Context, msg string, from net.Addr) string {
	r, err := wire.ParseRequest(msg)
	if err != nil {
		return "ERROR empty request"
	}
	h, ok := d.reqs[r.Verb]
	if !ok {
		return "UNKNOWN_REQUEST " + r.Verb
	}
	if app, ok := r.Arg("app"); ok {
		if err := config.CheckAppName(app); err != nil {
			return "ERROR " + err.Error()
		}
	}
	if env := wire.EnvelopeOf(ctx); env.From == wire.Svc(d.peer.Name, api.Service) && env.Inc != "" {
		// Bound to this connection's challenge, so the peer daemon's
		// incarnation as it is now: its heartbeats will echo ours once
		// it has had our next request, and ours echo this.
		d.mu.Lock()
		d.peerInc = env.Inc
		d.mu.Unlock()
	}
	return h.fn(ctx, r)
}

// forward sends r, without forward=yes, to the peer daemon when asked.
func (d *Daemon) forward(ctx context.Context, r wire.Request) error {
	if v, _ := r.Arg("forward"); !yes(v) {
		return nil
	}
	delete(r.Args, "forward")
	d.mu.Lock()
	up := d.peerState == api.NodeUp
	d.mu.Unlock()
	if !up {
		// A dead node's addresses only time out while the caller waits;
		// a node that joins later reads the registry afresh.
		return nil
	}
	_, err := d.call(ctx, r.String(), 2*time.Second)
	return err
}

// nodeArg is the request's node argument; a tool on this node leaves it
// out.
func (d *Daemon) nodeArg(r wire.Request) string {
	if node, _ := r.Arg("node"); node != "" {
		return node
	}
	return d.me.Name
}

func yes(v string) bool { return api.IsYes(v) }

func (d *Daemon) reqTime(context.Context, wire.Request) string {
	return strconv.FormatInt(d.now().Unix(), 10)
}

func (d *Daemon) reqAbort(ctx context.Context, r wire.Request) string {
	d.forward(ctx, r)
	d.Log.Infof("ABORT received - cluster daemon on %s stopping.", d.me.Name)
	// Tell the peer we leave on purpose, so it does not wait for dead.
	go func() {
		c, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		d.call(c, api.Req(api.ChangeDState, "state", api.NodeDown, "node", d.me.Name), 500*time.Millisecond)
		// The lock and network daemons go with the cluster daemon that an
		// administrator halts (L3436); a killed cldaemon leaves them be.
		for port, svc := range map[int]string{d.Cfg.ClPort: wire.SvcLocks, d.Cfg.ClnetdPort: wire.SvcNet} {
			if port != 0 {
				wire.Call(c, d.codec, wire.Svc(d.me.Name, svc), []string{net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}, "ABORT", 500*time.Millisecond)
			}
		}
		d.Quit()
	}()
	return api.OK
}

func (d *Daemon) reqNodeState(_ context.Context, r wire.Request) string {
	n, ok := r.Arg("node")
	if !ok {
		return api.MissingArg
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	switch n {
	case d.me.Name:
		return d.state
	case d.peer.Name:
		return d.peerState
	}
	return "UNKNOWN_NODE"
}

// reqEcho answers this daemon's state. "ECHO HELLO=yes" is a joining
// peer (L7581-7582): once we are UP it is in the cluster. "boot=yes" (not
// in the Reference) says it is the first daemon since that node booted.
func (d *Daemon) reqEcho(_ context.Context, r wire.Request) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if v, _ := r.Arg("hello"); yes(v) && d.state == api.NodeUp {
		b, _ := r.Arg("boot")
		if d.peerState != api.NodeUp {
			d.Log.Eventf(logx.Info, "node-joined", "", "Node %s has now joined the cluster", d.peer.Name)
			d.back = true
		}
		switch {
		case yes(b):
			d.alerts.Send(alerts.Event{Kind: alerts.Node, Node: d.peer.Name, Desc: "member (rebooted)"})
		case d.peerState != api.NodeUp:
			d.alerts.Send(alerts.Event{Kind: alerts.Node, Node: d.peer.Name, Desc: "member"})
		}
		d.peerState = api.NodeUp
		if d.core != nil {
			d.core.Reset(time.Now())
			d.core.Heard(d.pathNames()[0], time.Now())
			d.coreChanged()
		}
		// A node that rebooted cannot still run what it ran before; a
		// daemon that only restarted may (it finds those from their
		// addresses), so only a reboot is checked for lost applications.
		if yes(b) {
			d.rejoined = true
		}
		select {
		case d.heard <- struct{}{}:
		default:
		}
	}
	return d.state
}

// reqChangeState is the peer telling us its own state (L7619).
func (d *Daemon) reqChangeState(_ context.Context, r wire.Request) string {
	s, ok := r.Arg("state")
	if !ok {
		return api.MissingArg
	}
	s = strings.ToUpper(s)
	d.mu.Lock()
	defer d.mu.Unlock()
	d.peerState = s
	if s == api.NodeDown {
		d.Log.Infof("Node %s has left the cluster.", d.peer.Name)
		if d.core != nil {
			d.core.Reset(time.Now())
			d.coreChanged()
		}
	}
	return api.OK
}

// reqChecksum returns the application's build checksum (L7621).
func (d *Daemon) reqChecksum(_ context.Context, r wire.Request) string {
	app, ok := r.Arg("app")
	if !ok {
		return api.MissingArg
	}
	if _, err := os.Stat(d.L.AppDir(app)); err != nil {
		return "NO_SUCH_APP"
	}
	b, err := os.ReadFile(d.L.AppChecksum(app))
	if err != nil {
		return "NO_SUCH_FILE"
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "INVALID_FILE"
	}
	return s
}

func (d *Daemon) reqAppList(context.Context, wire.Request) string {
	return strings.Join(d.appNames(), ",")
}

// reqAppStatus answers "STATE,server,monitor,start time,consistency"
// and the options asked for (L7623-7626, package daemonapi); the
// lifecycle tools fill in the running states.
func (d *Daemon) reqAppStatus(ctx context.Context, r wire.Request) string {
	a, reply := d.appArg(r)
	if a == nil {
		return reply
	}
	o := api.StatusOptionsOf(r)
	var st api.AppStatus
	if o.Volumes {
		vs, err := volumes.States(ctx, d.L, d.Cfg, a.Name, d.me.Name, d.peer.Name)
		if err != nil {
			d.Log.Warnf("Volume states of %s: %v", a.Name, err)
		}
		for _, v := range vs {
			st.Volumes = append(st.Volumes, api.Volume(v))
		}
	}
	// One snapshot, so that the reply is of one moment; asking the Lems
	// happens outside the lock.
	d.mu.Lock()
	snap, peerUp := *a, d.peerState == api.NodeUp
	d.mu.Unlock()
	st.Monitor = snap.Node == d.me.Name && d.lemsRunning(a.Name)
	st.State, st.Node, st.ValidNodes = snap.State, snap.Node, snap.ValidNodes
	if snap.State == api.AppStarted {
		st.Since = snap.Since
	}
	st.Failover = failover.Possible(snap.Node, snap.ValidNodes, [2]string{d.me.Name, d.peer.Name}, [2]bool{true, peerUp})
	return st.Encode(o)
}

func (d *Daemon) reqRegApp(ctx context.Context, r wire.Request) string {
	name, ok := r.Arg("app")
	if !ok {
		return api.MissingArg
	}
	if _, err := d.register(name); err != nil {
		if errors.Is(err, errMissingFile) {
			return "MISSING_FILE"
		}
		return "NOT_CONFIGURED"
	}
	d.Log.Infof("Application %s has been registered with the cluster daemons", name)
	d.forward(ctx, r)
	return api.OK
}

func (d *Daemon) reqDeregApp(ctx context.Context, r wire.Request) string {
	name, ok := r.Arg("app")
	if !ok {
		return api.MissingArg
	}
	d.mu.Lock()
	_, had := d.apps[name]
	delete(d.apps, name)
	d.mu.Unlock()
	d.forward(ctx, r)
	if !had {
		return api.NotRegistered
	}
	d.Log.Infof("Application %s de-registered.", name)
	return api.OK
}

// reqPnode answers the preferred node (L7639-7642, L5795).
func (d *Daemon) reqPnode(ctx context.Context, r wire.Request) string {
	a, reply := d.appArg(r)
	if a == nil {
		return reply
	}
	p := a.Conf.PreferredNode
	switch p {
	case "":
		return api.OK + " " + d.me.Name
	case config.LeastCPULoad:
		mine, err1 := loadAverage()
		reply, err2 := d.call(ctx, api.LoadAverage, time.Second)
		var theirs float64
		if err2 == nil {
			theirs, err2 = api.ParseLoad(reply)
		}
		if err1 != nil || err2 != nil || mine <= theirs {
			return api.OK + " " + d.me.Name
		}
		return api.OK + " " + d.peer.Name
	case config.LeastAppLoad:
		d.mu.Lock()
		defer d.mu.Unlock()
		n := map[string]int{}
		for _, x := range d.apps {
			if x.Node != "" {
				n[x.Node]++
			}
		}
		if n[d.peer.Name] < n[d.me.Name] && d.peerState == api.NodeUp {
			return api.OK + " " + d.peer.Name
		}
		return api.OK + " " + d.me.Name
	}
	return api.OK + " " + p
}

func (d *Daemon) reqDependsOn(_ context.Context, r wire.Request) string {
	name, _ := r.Arg("app")
	a, ok := d.app(name)
	if !ok {
		return "ERROR_NO_APP"
	}
	var deps []string
	for _, dep := range a.Conf.Dependencies {
		if _, ok := d.app(dep); ok {
			deps = append(deps, dep)
		}
	}
	return strings.TrimSpace(api.OK + " " + strings.Join(deps, ","))
}

func (d *Daemon) reqAutostart(context.Context, wire.Request) string {
	var out []string
	for _, n := range d.appNames() {
		if a, ok := d.app(n); ok && a.Conf.Autostart {
			out = append(out, n)
		}
	}
	return api.EncodeOKList(out)
}

func (d *Daemon) reqGetValid(_ context.Context, r wire.Request) string {
	a, reply := d.appArg(r)
	if a == nil {
		return reply
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return api.EncodeOKList(a.ValidNodes)
}

// reqSetValid sets the valid nodes; with no nodes, both (L4746-4792).
func (d *Daemon) reqSetValid(ctx context.Context, r wire.Request) string {
	a, reply := d.appArg(r)
	if a == nil {
		return reply
	}
	nodes := d.Cfg.NodeNames()
	if v, ok := r.Arg("nodes"); ok && v != "" {
		nodes = nil
		for _, n := range strings.Split(v, ",") {
			if _, ok := d.Cfg.Node(n); !ok {
				return "INVALID_NODE " + n
			}
			nodes = append(nodes, n)
		}
	}
	d.mu.Lock()
	a.ValidNodes = nodes
	d.mu.Unlock()
	d.Log.Infof("Setting valid nodes: %s", strings.Join(nodes, ","))
	d.forward(ctx, r)
	return api.OK
}

func (d *Daemon) reqIsValid(_ context.Context, r wire.Request) string {
	name, _ := r.Arg("app")
	a, ok := d.app(name)
	if !ok {
		return api.NotRegistered
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if slices.Contains(a.ValidNodes, d.me.Name) {
		return "YES"
	}
	return "NO"
}

func (d *Daemon) reqVerbose(ctx context.Context, r wire.Request) string {
	on := true
	if v, ok := r.Arg("off"); ok && yes(v) {
		on = false
	}
	for _, w := range r.Words {
		if strings.EqualFold(w, "OFF") {
			on = false
		}
	}
	d.Log.SetVerbose(on)
	d.forward(ctx, r)
	if on {
		return "OK LOGGING=ON"
	}
	return "OK LOGGING=OFF"
}

func (d *Daemon) reqLogCycle(ctx context.Context, r wire.Request) string {
	v, ok := r.Arg("count")
	if !ok && len(r.Words) > 0 {
		v, ok = r.Words[0], true
	}
	if !ok {
		return api.MissingArg
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return "ERROR count must be 1-99"
	}
	if err := d.Log.Cycle(n); err != nil {
		return "ERROR " + err.Error()
	}
	d.forward(ctx, r)
	return api.OK
}

// reqView answers the view the fail-over policy decides from, so that
// clsimulate asks the policy what it would do without changing anything.
func (d *Daemon) reqView(context.Context, wire.Request) string {
	b, err := json.Marshal(d.view())
	if err != nil {
		return api.Error
	}
	return string(b)
}

func (d *Daemon) reqHelp(context.Context, wire.Request) string {
	return strings.Join(d.requestNames(), ",")
}

func (d *Daemon) reqLoad(context.Context, wire.Request) string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "ERROR"
	}
	reply, err := api.EncodeLoad(string(b))
	if err != nil {
		return "ERROR"
	}
	return reply
}

func loadAverage() (float64, error) {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0, err
	}
	return api.ParseLoad(string(b))
}

// reqReconfigure re-reads clconf.xml after "clbuild --force" on a running
// cluster (L1692, FAQ 4.2-4.3): timings, echo type and verbosity take
// effect; names, ports and key need a restart.
func (d *Daemon) reqReconfigure(context.Context, wire.Request) string {
	if err := state.VerifyChecksum(d.L.BuildChecksum(), d.L.Clconf()); err != nil && !d.Opts.NoChecksums {
		return "ERROR configuration not validated: run clbuild --force"
	}
	cfg, _, err := config.LoadCluster(d.L.Clconf())
	if err != nil {
		return "ERROR " + strings.ReplaceAll(err.Error(), "\n", "; ")
	}
	if cfg.Name != d.Cfg.Name || cfg.Port != d.Cfg.Port || cfg.Key != d.Cfg.Key {
		return "ERROR name, port or key changed: restart the cluster"
	}
	d.mu.Lock()
	d.Cfg.EchoType = cfg.EchoType
	d.Cfg.Warn, d.Cfg.Dead, d.Cfg.ClusterForm = cfg.Warn, cfg.Dead, cfg.ClusterForm
	if d.core != nil {
		d.core.SetTimings(cfg.Warn, cfg.Dead) // the core decides by them, not by Cfg
		d.coreChanged()
	}
	if top, err := state.ReadTopology(d.L.Topology()); err == nil {
		d.peerTop = top.Addrs(d.peer.Name)
	}
	d.mu.Unlock()
	d.Log.Infof("Cluster configuration re-read.")
	return api.OK
}

func (d *Daemon) reqStopApp(_ context.Context, r wire.Request) string {
	if d.duplicate(r) {
		return api.OK
	}
	a, reply := d.appArg(r)
	if a == nil {
		return reply
	}
	d.mu.Lock()
	running := a.State == api.AppStarted && a.Node == d.me.Name
	d.mu.Unlock()
	if !running {
		return api.NotRunning
	}
	if by, _ := r.Arg("by"); by == "lems" {
		d.Log.Warnf("Halt of application %s requested by Lems.", a.Name)
		d.alerts.Send(alerts.Event{Kind: alerts.Resource, Node: d.me.Name, Rsc: a.Name, Task: "monitor", RC: 1, Desc: "Lems asks to halt it"})
	}
	d.runTool("clhaltapp", a.Name)
	return api.OK
}

// reqStartApp starts the application on this node (L7614); the start
// itself tells both daemons STARTING_APP and STARTED_APP.
func (d *Daemon) reqStartApp(_ context.Context, r wire.Request) string {
	if d.duplicate(r) {
		return api.OK
	}
	name, ok := r.Arg("app")
	if !ok {
		return api.MissingArg
	}
	if _, ok := d.app(name); !ok {
		return api.NotRegistered
	}
	d.runTool("clstartapp", name)
	return api.OK
}

// runTool runs clstartapp or clhaltapp for app in the background; its
// own log records the outcome.
func (d *Daemon) runTool(tool, app string) {
	cmd := exec.Command(filepath.Join(d.binDir(), tool), "--application", app)
	if err := cmd.Start(); err != nil {
		d.Log.Errorf("Unable to run %s for %s: %v", tool, app, err)
		return
	}
	d.Log.Infof("Running %s for %s (pid %d)", tool, app, cmd.Process.Pid)
	go func() {
		if err := cmd.Wait(); err != nil {
			d.Log.Warnf("%s for %s failed: %v (see its log)", tool, app, err)
		}
	}()
}

func (d *Daemon) reqAppState(s string) func(context.Context, wire.Request) string {
	return func(ctx context.Context, r wire.Request) string {
		a, reply := d.appArg(r)
		if a == nil {
			return reply
		}
		node := d.nodeArg(r)
		takeover, _ := r.Arg("takeover")
		d.mu.Lock()
		res := failover.DecideClaim(d.me.Name, failover.App{Name: a.Name, State: a.State, Node: a.Node, ValidNodes: a.ValidNodes},
			failover.Claim{State: s, Node: node, Takeover: yes(takeover)})
		if res.Record {
			if res.Started {
				a.Since = time.Now()
			}
			a.State, a.Node = res.State, res.Node
		}
		d.mu.Unlock()
		if res.Reconcile {
			d.Log.Errorf("%s reports application %s %s there, but it runs here.", node, a.Name, s)
			select {
			case d.heard <- struct{}{}:
			default:
			}
		}
		if !res.Record {
			return res.Reply
		}
		if res.Alert != "" {
			d.alerts.Send(claimEvent(node, a.Name, res.Alert))
		}
		if res.StartLems {
			go d.ensureLems(context.WithoutCancel(ctx), a.Name, false)
		}
		d.forward(ctx, r)
		return res.Reply
	}
}

// claimEvent is the alert for a claim's outcome.
func claimEvent(node, app, what string) alerts.Event {
	e := alerts.Event{Kind: alerts.Resource, Node: node, Rsc: app, Task: "start", Desc: what}
	switch what {
	case "stopped":
		e.Task = "stop"
	case "start failed":
		e.RC = 1
	}
	return e
}

// reqNetFailed is clnetd reporting a network with no working card left
// (L846-861). Moving the applications on it is the fail-over policy's job.
func (d *Daemon) reqNetFailed(ctx context.Context, r wire.Request) string {
	net, ok := r.Arg("net")
	if !ok {
		return api.MissingArg
	}
	d.Log.Errorf("Network %s has failed on %s: no working card left.", net, d.me.Name)
	d.alerts.Send(alerts.Event{Kind: alerts.Node, Node: d.me.Name, Desc: "network " + net + " failed"})
	acts := failover.Decide(d.view(), failover.NetFailed{Net: net})
	go d.act(context.WithoutCancel(ctx), acts, nil)
	return api.OK
}

// appArg returns the registered application named by app=, or the reply
// the Reference gives when there is none (MISSING_ARG, NOT_REGISTERED).
func (d *Daemon) appArg(r wire.Request) (*App, string) {
	name, ok := r.Arg("app")
	if !ok {
		return nil, api.MissingArg
	}
	a, ok := d.app(name)
	if !ok {
		return nil, api.NotRegistered
	}
	return a, ""
}

// dedupWindow is how long a START_APP or STOP_APP is remembered under
// legacy framing.
const dedupWindow = 30 * time.Second

// duplicate tells, under legacy framing only, whether the same request
// was answered within dedupWindow: legacy frames can be replayed, and
// each replayed START_APP would spawn another clstartapp. Authenticated
// frames cannot be replayed, so nothing is remembered for them.
func (d *Daemon) duplicate(r wire.Request) bool {
	if d.codec.Framing() != wire.Legacy {
		return false
	}
	key := r.String()
	now := time.Now()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.recent == nil {
		d.recent = map[string]time.Time{}
	}
	for k, t := range d.recent {
		if now.Sub(t) > dedupWindow {
			delete(d.recent, k)
		}
	}
	if t, ok := d.recent[key]; ok && now.Sub(t) <= dedupWindow {
		d.Log.Warnf("Ignored a repeat of %q within %v (legacy framing: it may be a replay)", key, dedupWindow)
		return true
	}
	d.recent[key] = now
	return false
}
