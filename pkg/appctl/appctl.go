package appctl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/linuxha-ng/linuxha/pkg/appnet"
	"github.com/linuxha-ng/linuxha/pkg/config"
	"github.com/linuxha-ng/linuxha/pkg/daemonapi"
	"github.com/linuxha-ng/linuxha/pkg/exitcode"
	"github.com/linuxha-ng/linuxha/pkg/layout"
	"github.com/linuxha-ng/linuxha/pkg/locks"
	"github.com/linuxha-ng/linuxha/pkg/logx"
	"github.com/linuxha-ng/linuxha/pkg/probe"
	"github.com/linuxha-ng/linuxha/pkg/remote"
	"github.com/linuxha-ng/linuxha/pkg/resource"
	"github.com/linuxha-ng/linuxha/pkg/state"
	"github.com/linuxha-ng/linuxha/pkg/storage"
	"github.com/linuxha-ng/linuxha/pkg/storage/volumes"
	"github.com/linuxha-ng/linuxha/pkg/volctl"
)

// Options are the command-line switches of §22.1 (L6797-6817).
type Options struct {
	Force, ReallyForce bool
	NoChecksums        bool
	NoLocking          bool
	MaxDelay           time.Duration // 0: maxstarttime / maxstoptime
	// Takeover: started by cldaemon for a node it declared dead or that
	// rebooted; the address check waits less.
	Takeover bool
	// AddrsSilent: the verdict on a dead node found the addresses
	// silent a moment ago (failover.Action.AddrsSilent): they are not
	// echoed again, which would only wait out the echo's time limit.
	AddrsSilent bool
	// AddressesUp, when not nil, is called once the application's
	// addresses are up (with their gratuitous ARP), before the start
	// script: cldaemon times its takeovers to that moment.
	AddressesUp func()
	// SyncerAfter, when not nil, holds back filesync's syncer (a process
	// start of CPU) until it is closed or SyncerAfterMax passes:
	// cldaemon closes it once every application of a takeover wave has
	// its addresses up, so that their syncers do not slow the others'
	// addresses.
	SyncerAfter <-chan struct{}
	// Daemon, when not nil, answers this node's cluster daemon's
	// requests in-process (daemonapi.Client.Local): cldaemon's own
	// takeovers ask it their questions and make their claims without a
	// connection each.
	Daemon func(ctx context.Context, req string) string
	// Locks, when not nil, is where NET and NBD_CLIENT are taken:
	// cldaemon shares one among the starts of a takeover wave.
	Locks *locks.Shared
}

// SyncerAfterMax bounds the wait for Options.SyncerAfter: an application
// of the wave that is slow to get its addresses up must not hold back the
// others' replication for long.
const SyncerAfterMax = 2 * time.Second

// Ctl starts or stops one application on this node.
type Ctl struct {
	ctx    context.Context
	l      layout.Layout
	cfg    *config.Cluster
	name   string
	app    *config.App
	fs     []state.FsEntry
	top    state.Topology
	log    *logx.Logger
	opts   Options
	me     string
	peer   string
	p      *remote.Peer
	client *daemonapi.Client
	daemon bool // the local cldaemon answers
	// syncPending: startData left filesync's syncer to start (with
	// --force when syncForce); syncer is its start under way alongside
	// the start script (nil when none is).
	syncPending, syncForce bool
	syncer                 chan error
	// replicated and mounted are when startData had the replication
	// started and the file systems mounted (the start's phase times).
	replicated, mounted time.Time
}

// New loads what both directions need and checks the build (the
// checksum of L2889-2894 unless --nochecksums).
func New(ctx context.Context, l layout.Layout, cfg *config.Cluster, name string, log *logx.Logger, opts Options) (*Ctl, error) {
	log.Infof("Global section configuration validation complete")
	app, _, err := config.LoadApp(l.AppConf(name))
	if err != nil {
		return nil, exitcode.ConfigError(err)
	}
	if !opts.NoChecksums {
		switch err := state.VerifyChecksum(l.AppChecksum(name), l.AppConf(name)); {
		case errors.Is(err, state.ErrNotBuilt):
			return nil, exitcode.ConfigError(fmt.Errorf("Application %s has not been built: run clbuildapp --build first", name))
		case errors.Is(err, state.ErrChanged):
			return nil, exitcode.ConfigError(errors.New(state.AppChangedMessage("build", "")))
		case err != nil:
			return nil, err
		}
	}
	fs, err := state.ReadFsmap(l.Fsmap(name))
	if err != nil {
		return nil, fmt.Errorf("Application %s has not been built (no fsmap): %w", name, err)
	}
	top, err := state.ReadTopology(l.Topology())
	if err != nil {
		return nil, fmt.Errorf("no recorded topology (run clbuild): %w", err)
	}
	client, err := daemonapi.NewClient(l, cfg)
	if err != nil {
		return nil, err
	}
	if client.Me == "" {
		return nil, fmt.Errorf("this host is not a node of cluster %s", cfg.Name)
	}
	client.Timeout = 2 * time.Second
	client.Local = opts.Daemon
	c := &Ctl{ctx: ctx, l: l, cfg: cfg, name: name, app: app, fs: fs, top: top, log: log, opts: opts,
		me: client.Me, peer: client.Peer(), client: client}
	c.p = remote.ToNode(l.Topology(), c.peer, log.Infof)
	c.p.ConnectTimeout = 3 * time.Second
	log.Infof("Checked that node names resolve to IP addresses")
	return c, nil
}

// Run is clstartapp (start) or clhaltapp: it logs to file (default
// <logdir>/clstart.A.log or clhalt.A.log), and also to tee when not nil.
// cldaemon calls it in its own process for a takeover.
func Run(ctx context.Context, l layout.Layout, cfg *config.Cluster, name, file string, tee io.Writer, opts Options, start bool) error {
	if file == "" {
		kind := "clhalt"
		if start {
			kind = "clstart"
		}
		file = filepath.Join(l.Path(cfg.LogDir), kind+"."+name+".log")
	}
	log, err := logx.Open(file)
	if err != nil {
		return err
	}
	defer log.Close()
	if tee != nil {
		log.Tee(tee)
	}
	ctl, err := New(ctx, l, cfg, name, log, opts)
	if err == nil {
		if start {
			err = ctl.Start()
		} else {
			err = ctl.Stop()
		}
	}
	if err != nil {
		// The terminal gets the error from the caller; the log keeps it too.
		log.Tee(nil)
		log.Errorf("%s", err)
	}
	return err
}

// call sends a request to the local cldaemon.
func (c *Ctl) call(req string) (string, error) {
	return c.client.Call(c.ctx, c.me, req)
}

// appStatus is the local daemon's view: state and node; ok false when no
// daemon answers.
func (c *Ctl) appStatus() (st, node string, ok bool) {
	s, err := c.client.AppStatus(c.ctx, c.me, c.name, daemonapi.StatusOptions{})
	var refused *daemonapi.Refused
	if errors.As(err, &refused) {
		return refused.Reply, "", true
	}
	if err != nil {
		return "", "", false
	}
	return s.State, s.Node, true
}

// drbdTool carries out a drbd_tool action on this application's volumes
// here (in this process) or on the peer (drbd_tool through ssh).
func (c *Ctl) drbdTool(node, action string, noprimary, force bool) error {
	var err error
	if node == c.me {
		err = volctl.Local(c.ctx, c.l, c.cfg, c.name, action, noprimary, force, force && c.opts.ReallyForce)
	} else {
		args := []string{"--action", action}
		if noprimary {
			args = append(args, "--noprimary")
		}
		if force {
			args = append(args, "--force")
		}
		err = volumes.Invoke(c.ctx, c.p, c.name, args...)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", node, err)
	}
	return nil
}

// filesync reports whether the application's volumes are directories
// replicated by rsync.
func (c *Ctl) filesync() bool { return c.cfg.DataDetail == "filesync" }

// peerAddr is the peer's address on the replication network.
func (c *Ctl) peerAddr() string {
	for _, ca := range c.top.Addrs(c.peer) {
		if ca.Network == c.cfg.DRBDNetwork {
			return ca.Prefix.Addr().String()
		}
	}
	return c.peer
}

// probe is remote_node_available (§22.3, L6852-6864). When the local
// cluster daemon already knows the peer is down, that is believed at
// once: its heartbeats are a better witness than an ssh time-out.
func (c *Ctl) probe() Reach {
	if c.daemon {
		if st, err := c.call(daemonapi.Req(daemonapi.GetNodeState, "node", c.peer)); err == nil && st == daemonapi.NodeDown {
			c.log.Warnf("Remote node %s is DOWN according to the cluster daemon", c.peer)
			return ReachDown
		}
	}
	if _, err := c.p.Output(c.ctx, "true"); err == nil {
		if probe.Ping(c.ctx, c.peerAddr(), 2*time.Second) {
			return ReachBoth
		}
		c.log.Warnf("No response from %s on the replication network (%s)", c.peer, c.peerAddr())
		return ReachSSHOnly
	}
	c.log.Warnf("No response from remote node using ssh")
	c.log.Infof("Checking heartbeats for any sign of life...")
	for _, ca := range c.top.Addrs(c.peer) {
		c.log.Warnf("Attempting ping of %s...", ca.Prefix.Addr())
		if probe.Ping(c.ctx, ca.Prefix.Addr().String(), time.Second) {
			return ReachPingOnly
		}
	}
	c.log.Warnf("Remote node is down")
	return ReachDown
}

// view reads STALE flag names of one node's status directory.
func (c *Ctl) view(names []string, me string) View {
	var v View
	for _, n := range names {
		s, ok := state.ParseStale(n)
		if !ok {
			continue
		}
		switch s.Node {
		case me:
			v.LocalStale = true
		case c.peer:
			v.RemoteStale = true
		}
	}
	return v
}

func (c *Ctl) localFlags() []string {
	des, _ := os.ReadDir(c.l.StatusDir(c.name))
	var out []string
	for _, de := range des {
		out = append(out, de.Name())
	}
	return out
}

// remoteStatus fetches the peer's STALE flag names and TIME.
func (c *Ctl) remoteStatus() (flags []string, t time.Time, ok bool) {
	dir := layout.Layout{}.StatusDir(c.name)
	out, err := c.p.Output(c.ctx, "sh", "-c", "ls -1 "+remote.Quote(dir)+" && echo TIME= && cat "+remote.Quote(dir+"/TIME")+" 2>/dev/null; true")
	if err != nil {
		return nil, time.Time{}, false
	}
	list, tm, _ := strings.Cut(string(out), "TIME=\n")
	flags = strings.Fields(list)
	var n int64
	if _, err := fmt.Sscan(strings.TrimSpace(tm), &n); err == nil {
		t = time.Unix(n, 0)
	}
	return flags, t, true
}

// addressInUse reports an application address that already answers
// (L2910-2916).
func (c *Ctl) addressInUse(addrs []appnet.Addr) (string, bool) {
	for _, a := range addrs {
		if l, err := appnet.LinkWith(a.Prefix.Addr()); err == nil {
			return a.Prefix.Addr().String() + " (on " + l.Attrs().Name + ")", true
		}
	}
	if c.opts.AddrsSilent {
		c.log.Infof("Application addresses found silent by the cluster daemon's verdict - not echoed again.")
		return "", false
	}
	// All at once: on a LAN an echo answers in well under a millisecond,
	// and a fail-over waits for the slowest silent address.
	timeout := 500 * time.Millisecond
	if c.opts.Takeover {
		timeout = 150 * time.Millisecond
	}
	ips := make([]string, len(addrs))
	for i, a := range addrs {
		ips[i] = a.Prefix.Addr().String()
	}
	found := ""
	if busy := probe.Answering(c.ctx, "ICMP", ips, timeout); len(busy) > 0 {
		found = busy[0]
	}
	return found, found != ""
}

// lock takes the named lock from the node's lock daemon (or from
// Options.Locks); release gives it back.
func (c *Ctl) lock(name string) (release func() error, err error) {
	const wait = 60 * time.Second
	if c.opts.Locks != nil && !c.opts.NoLocking && c.daemon {
		release, err = c.opts.Locks.Acquire(c.ctx, name, wait)
	} else {
		var lc *locks.Client
		if lc, err = locks.NewClient(c.cfg, c.opts.NoLocking || !c.daemon, c.name); err != nil {
			return nil, err
		}
		var h *locks.Held
		if h, err = lc.Acquire(c.ctx, name, wait); err == nil {
			release = h.Release
		}
	}
	if err != nil {
		return nil, fmt.Errorf("unable to get the %s lock: %w", name, err)
	}
	return release, nil
}

func (c *Ctl) scriptLog(kind string) string {
	return filepath.Join(c.l.Path(c.cfg.LogDir), c.name+"."+kind)
}

// Start is clstartapp (L2783-2827, §22.7).
func (c *Ctl) Start() error {
	begun := time.Now()
	st, node, ok := c.appStatus()
	c.daemon = ok
	switch {
	case !ok && !c.opts.Force && !c.opts.ReallyForce:
		return exitcode.NotRunningf("Cluster daemon is not running on %s.\nTo start %s without the cluster use --force (not recommended).", c.me, c.name)
	case !ok:
		c.log.Warnf("Cluster daemon not running - starting %s outside the cluster (--force)", c.name)
	case (st == daemonapi.AppStarted || st == daemonapi.AppStarting) && node == c.me:
		c.log.Infof("Application %s is already %s on %s - no action taken.", c.name, strings.ToLower(st), c.me)
		return nil
	case st == daemonapi.AppStarted || st == daemonapi.AppStarting || st == daemonapi.AppStopping:
		return fmt.Errorf("Application %s is %s on %s - not starting it here.", c.name, st, node)
	}
	reach := c.probe()
	c.log.Infof("Cluster status: %s", reach)
	in := Input{Reach: reach, Local: c.view(c.localFlags(), c.me), Force: c.opts.Force, ReallyForce: c.opts.ReallyForce}
	in.LocalTime, _, _ = state.ReadTime(c.l.TimeFile(c.name))
	if reach == ReachBoth || reach == ReachSSHOnly {
		if flags, t, ok := c.remoteStatus(); ok {
			in.RemoteKnown, in.RemoteTime = true, t
			// The peer's flags, seen from here: its "local" is our remote.
			rv := c.view(flags, c.me)
			in.Remote = rv
		}
	}
	addrs, err := appnet.Addresses(c.app, c.top, c.me)
	if err != nil {
		return err
	}
	if reach == ReachPingOnly || !in.RemoteKnown {
		in.RemoteLive = node == c.peer
	}
	d := Decide(in)
	for _, w := range d.Warnings {
		c.log.Warnf("%s", w)
	}
	if !d.Start {
		return fmt.Errorf("%s", d.Reason)
	}
	c.log.Infof("Data currency: local copy current=%v, remote copy current=%v (believing %s STALE flags)", d.LocalCurrent, d.RemoteCurrent, d.Believed)
	if d.ClearLocalStale {
		for _, e := range c.fs {
			state.ClearStale(c.l.StatusDir(c.name), state.Stale{VG: e.VG, LV: e.LV, Node: c.me})
		}
		c.log.Warnf("Removed local STALE flags for %s", c.name)
	}
	if d.MarkRemoteStale {
		flags := make([]state.Stale, len(c.fs))
		for i, e := range c.fs {
			flags[i] = state.Stale{VG: e.VG, LV: e.LV, Node: c.peer}
		}
		if err := state.SetStales(c.l.StatusDir(c.name), flags...); err != nil {
			return fmt.Errorf("marking the copies on %s STALE: %w", c.peer, err)
		}
	}
	if c.daemon {
		reply, err := c.call(c.claim(daemonapi.StartingApp))
		if err != nil {
			return fmt.Errorf("cluster daemon: %w", err)
		}
		if reply != daemonapi.OK {
			return fmt.Errorf("Cluster daemon refused to start %s here: %s", c.name, reply)
		}
	}
	if a, busy := c.addressInUse(addrs); busy {
		c.stopped()
		return fmt.Errorf("It appears that the IP address for this application is in use (%s).\nEither the application is running already, or the configured\nIP address is not suitable.", a)
	}
	dataFrom := time.Now()
	if err := c.startData(reach, d); err != nil {
		c.undo(false)
		return err
	}
	if err := c.addAddresses(addrs); err != nil {
		c.undo(false)
		return err
	}
	// Each phase's time, as Pacemaker logs an operation's exec-time:
	// where a slow start or takeover spent it.
	c.log.Infof("Start of %s up to its addresses: checks %d ms, replication %d ms, file systems %d ms, addresses %d ms.", c.name,
		dataFrom.Sub(begun).Milliseconds(), c.replicated.Sub(dataFrom).Milliseconds(),
		c.mounted.Sub(c.replicated).Milliseconds(), time.Since(c.mounted).Milliseconds())
	if c.opts.AddressesUp != nil {
		c.opts.AddressesUp()
	}
	c.startSyncer()
	if err := c.startResources(); err != nil {
		c.undo(false)
		return err
	}
	maxd := c.app.MaxStartTime
	if c.opts.MaxDelay > 0 {
		maxd = c.opts.MaxDelay
	}
	res, err := runScript(c.ctx, c.app.StartScript, maxd, c.scriptLog("start"), c.log.Warnf)
	switch {
	case err != nil:
		c.undo(true)
		return err
	case res.Missing:
		c.log.Warnf("Specified application start script does not exist")
	case res.Code != 0 && !c.opts.Force:
		c.undo(true)
		return fmt.Errorf("Application start script failed (exit %d) - start of %s aborted (see %s.errlog)", res.Code, c.name, c.scriptLog("start"))
	case res.Code != 0:
		c.log.Warnf("Application start script failed (exit %d) - continuing as --force was given", res.Code)
	default:
		c.log.Infof("Application start script completed successfully")
	}
	if err := c.waitSyncer(); err != nil {
		c.undo(true)
		return err
	}
	now := time.Now()
	if err := state.WriteTime(c.l.TimeFile(c.name), now); err != nil {
		c.log.Warnf("Unable to write TIME file: %v", err)
	}
	if reach == ReachBoth || reach == ReachSSHOnly {
		c.p.WriteFile(c.ctx, layout.Layout{}.TimeFile(c.name), []byte(fmt.Sprintf("%d\n", now.Unix())), 0o644)
		if d.MarkRemoteStale {
			for _, e := range c.fs {
				c.p.Output(c.ctx, "touch", layout.Layout{}.StaleFile(c.name, e.VG, e.LV, c.peer))
			}
		}
	}
	if c.daemon {
		if reply, err := c.call(c.claim(daemonapi.StartedApp)); err != nil || reply != daemonapi.OK {
			c.log.Warnf("Cluster daemon did not accept STARTED_APP: %s %v", reply, err)
		}
	} else {
		c.startLems()
	}
	c.log.Infof("Application %s started successfully on %s.", c.name, c.me)
	return nil
}

// startData starts replication (the peer secondary first, then this node
// primary) and mounts the file systems.
func (c *Ctl) startData(reach Reach, d Decision) error {
	release, err := c.lock("NBD_CLIENT")
	if err != nil {
		return err
	}
	defer release()
	withPeer := reach == ReachBoth
	if withPeer {
		if err := c.drbdTool(c.peer, "start", true, false); err != nil {
			c.log.Warnf("Unable to start replication on %s: %v", c.peer, err)
			withPeer = false
		} else {
			c.log.Infof("Replication started on %s", c.peer)
		}
	}
	if c.filesync() && withPeer && !d.LocalCurrent && d.RemoteCurrent {
		// Asynchronous copies do not resynchronise by themselves: bring
		// the newer copy here before it is used.
		if err := c.pullFromPeer(); err != nil {
			return err
		}
	}
	force := !withPeer || c.opts.ReallyForce
	if c.filesync() {
		// The syncer copies to the other node in the background and
		// nothing here waits for it: it starts once the addresses are
		// up, alongside the start script (startSyncer), because its start
		// costs a process and a handshake - CPU that a takeover of many
		// applications at once would otherwise take from their addresses.
		c.syncPending, c.syncForce = true, force
	} else {
		if err := c.drbdTool(c.me, "start", false, force); err != nil {
			return err
		}
		c.log.Infof("Replication started on %s", c.me)
	}
	c.replicated = time.Now()
	if err := c.drbdTool(c.me, "mount", false, false); err != nil {
		return err
	}
	c.mounted = time.Now()
	for _, e := range c.fs {
		c.log.Infof("File system %s mounted", e.MountPoint)
	}
	return nil
}

// pullFromPeer copies the peer's current directories here (filesync).
func (c *Ctl) pullFromPeer() error {
	s, err := volumes.NewSyncer(c.l, c.cfg, c.name)
	if err != nil {
		return err
	}
	for _, d := range s.Dirs {
		if err := s.Pull(c.ctx, d); err != nil {
			return err
		}
		state.ClearStale(c.l.StatusDir(c.name), state.Stale{VG: d.VG, LV: d.LV, Node: c.me})
		c.log.Infof("Copied current data of %s from %s", d.Path, c.peer)
	}
	return nil
}

func (c *Ctl) addAddresses(addrs []appnet.Addr) error {
	release, err := c.lock("NET")
	if err != nil {
		return err
	}
	defer release()
	for _, a := range addrs {
		card, err := appnet.Add(c.top, c.me, a)
		if err != nil {
			return err
		}
		c.log.Infof("IP address %s assigned to %s", a.Prefix, card)
	}
	return nil
}

// startSyncer starts filesync's syncer in the background, if startData
// left it to start.
func (c *Ctl) startSyncer() {
	if !c.syncPending {
		return
	}
	c.syncPending = false
	force := c.syncForce
	c.syncer = make(chan error, 1)
	go func() {
		if c.opts.SyncerAfter != nil {
			t := time.NewTimer(SyncerAfterMax)
			select {
			case <-c.opts.SyncerAfter:
			case <-t.C:
			case <-c.ctx.Done():
			}
			t.Stop()
		}
		c.syncer <- c.drbdTool(c.me, "start", false, force)
	}()
}

// waitSyncer waits for the filesync syncer's start, if one is under way.
func (c *Ctl) waitSyncer() error {
	if c.syncer == nil {
		return nil
	}
	err := <-c.syncer
	c.syncer = nil
	if err == nil {
		c.log.Infof("Replication started on %s", c.me)
	}
	return err
}

// undo takes back a failed start: stop script (if the start script ran),
// file systems, addresses, replication.
func (c *Ctl) undo(scriptRan bool) {
	c.log.Warnf("Start of %s failed - undoing what was done", c.name)
	// A syncer still starting would outlive the stop below.
	c.waitSyncer()
	c.stopSteps(scriptRan)
	c.stopped()
}

// claim is a registry claim about this node (STARTING_APP and the
// others), forwarded to the other daemon; a takeover says so, for the
// daemon alerts about it itself.
func (c *Ctl) claim(req string) string {
	args := []string{"app", c.name, "node", c.me, "forward", "yes"}
	if c.opts.Takeover {
		args = append(args, "takeover", "yes")
	}
	return daemonapi.Req(req, args...)
}

func (c *Ctl) stopped() {
	if c.daemon {
		c.call(c.claim(daemonapi.StoppedApp))
	}
}

// Stop is clhaltapp (L3075-3139, §22.9).
func (c *Ctl) Stop() error {
	st, node, ok := c.appStatus()
	c.daemon = ok
	if ok && !c.opts.Force {
		if st != daemonapi.AppStarted && st != daemonapi.AppStarting || node != c.me {
			c.log.Infof("Application %s is not running on %s - no action taken.", c.name, c.me)
			return nil
		}
	}
	if c.daemon {
		c.call(c.claim(daemonapi.StoppingApp))
	}
	c.stopLems()
	if err := c.stopSteps(true); err != nil {
		return err
	}
	c.stopped()
	c.log.Infof("Application %s shutdown successfully.", c.name)
	return nil
}

// stopSteps: stop script, unmount (killing users after maxdelay),
// addresses, replication here then on the peer.
func (c *Ctl) stopSteps(runStop bool) error {
	maxd := c.app.MaxStopTime
	if c.opts.MaxDelay > 0 {
		maxd = c.opts.MaxDelay
	}
	if runStop {
		res, err := runScript(c.ctx, c.app.StopScript, maxd, c.scriptLog("stop"), c.log.Warnf)
		switch {
		case err != nil:
			c.log.Warnf("Application stop script: %v", err)
		case res.Missing:
			c.log.Warnf("Specified application stop script does not exist")
		case res.Code != 0:
			c.log.Warnf("Application stop script returned %d", res.Code)
		default:
			c.log.Infof("Application stop script completed successfully")
		}
	}
	c.stopResources()
	var failed []string
	for i := len(c.fs) - 1; i >= 0; i-- {
		if err := c.release(c.fs[i], maxd); err != nil {
			failed = append(failed, err.Error())
		}
	}
	addrs, _ := appnet.Addresses(c.app, c.top, c.me)
	// The addresses go even without the NET lock (it only keeps clnetd
	// from moving them meanwhile): a halted application that kept its
	// address would keep the other node from starting it.
	release, err := c.lock("NET")
	if err != nil {
		c.log.Warnf("Removing the addresses of %s without the NET lock: %v", c.name, err)
	}
	for _, a := range addrs {
		if removed, err := appnet.Remove(a); err != nil {
			failed = append(failed, err.Error())
		} else if removed {
			c.log.Infof("IP address %s removed after 1 attempts.", a.Prefix.Addr())
		}
	}
	if release != nil {
		release()
	}
	if len(failed) > 0 {
		// Replication stays up under mounted file systems.
		return fmt.Errorf("%s", strings.Join(failed, "\n"))
	}
	if err := c.drbdTool(c.me, "down", false, false); err != nil {
		return err
	}
	c.log.Infof("Replication stopped on %s", c.me)
	if err := c.drbdTool(c.peer, "down", false, false); err != nil {
		c.log.Warnf("Remote server not responding - can not stop replication on %s", c.peer)
		if !c.filesync() {
			// The peer missed this run's last writes.
			for _, e := range c.fs {
				state.SetStale(c.l.StatusDir(c.name), state.Stale{VG: e.VG, LV: e.LV, Node: c.peer})
			}
		}
	} else {
		c.log.Infof("Replication stopped on %s", c.peer)
	}
	return nil
}

// startResources starts the application's <resources> members in order,
// after its data and addresses and before its start script, so that the
// script may use them (a client mount, a service).
func (c *Ctl) startResources() error {
	for i := range c.app.Resources {
		r := &c.app.Resources[i]
		code := resource.New(r, c.resourceEnv()).Start(c.ctx)
		if code != resource.Success {
			return fmt.Errorf("Resource %s (%s) failed to start: %v - start of %s aborted", r.Name, r.ID(), code, c.name)
		}
		c.log.Infof("Resource %s (%s) started", r.Name, r.ID())
	}
	return nil
}

// stopResources stops every member in reverse order, after the stop
// script; a member that will not stop is logged and the others still go,
// for the file systems to be released after them.
func (c *Ctl) stopResources() {
	for i := len(c.app.Resources) - 1; i >= 0; i-- {
		r := &c.app.Resources[i]
		if code := resource.New(r, c.resourceEnv()).Stop(c.ctx); code != resource.Success {
			c.log.Warnf("Resource %s (%s) failed to stop: %v", r.Name, r.ID(), code)
			continue
		}
		c.log.Infof("Resource %s (%s) stopped", r.Name, r.ID())
	}
}

func (c *Ctl) resourceEnv() resource.Env {
	return resource.Env{App: c.name, Log: c.log.Infof}
}

// release frees one file system: unmount it (DRBD) after its users have
// gone, or, for a filesync directory, stop its users. Users get maxd to
// leave after the stop script, then TERM and KILL.
func (c *Ctl) release(e state.FsEntry, maxd time.Duration) error {
	mounted := storage.Mounted(e.MountPoint)
	if !mounted && !c.filesync() {
		c.log.Infof("File system %s already un-mounted", e.MountPoint)
		return nil
	}
	deadline := time.Now().Add(maxd)
	for attempt := 1; ; attempt++ {
		pids := users(e.MountPoint)
		if len(pids) == 0 {
			break
		}
		if time.Now().After(deadline) {
			sig := syscall.SIGTERM
			if attempt%2 == 0 {
				sig = syscall.SIGKILL
			}
			c.log.Warnf("Killing %d processes using %s (%v): %v", len(pids), e.MountPoint, sig, pids)
			for _, pid := range pids {
				syscall.Kill(pid, sig)
			}
		}
		if time.Now().After(deadline.Add(20 * time.Second)) {
			return fmt.Errorf("File system %s still in use by %v", e.MountPoint, pids)
		}
		time.Sleep(500 * time.Millisecond)
	}
	if !mounted {
		return nil
	}
	for attempt := 1; attempt <= 10; attempt++ {
		out, err := exec.CommandContext(c.ctx, "umount", e.MountPoint).CombinedOutput()
		if err == nil {
			c.log.Infof("File system %s un-mounted", e.MountPoint)
			return nil
		}
		if attempt == 10 {
			return fmt.Errorf("Unable to unmount %s: %s", e.MountPoint, strings.TrimSpace(string(out)))
		}
		time.Sleep(time.Second)
	}
	return nil
}

// startLems starts the application's monitor detached when no cluster
// daemon will (L7529).
func (c *Ctl) startLems() {
	if _, err := os.Stat(c.l.LemsConf(c.name)); err != nil {
		return
	}
	bin := layout.Bin("lems")
	if _, err := os.Stat(bin); err != nil {
		return
	}
	if err := exec.Command(bin, "--application", c.name, "--config", c.l.LemsConf(c.name), "--detach", "--verbose").Run(); err != nil {
		c.log.Warnf("Unable to start Lems for %s: %v", c.name, err)
	}
}

// stopLems aborts the application's monitor before the stop (L3097),
// and waits for it to go so that it cannot restart what is stopping.
func (c *Ctl) stopLems() {
	bin := layout.Bin("lemsctl")
	if _, err := os.Stat(bin); err != nil {
		return
	}
	out, err := exec.Command(bin, "--application", c.name, "--node", c.me, "--msg", "ABORT", "--timeout", "5s").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "OK" {
		return // no Lems running here
	}
	data, err := os.ReadFile(c.l.LemsConf(c.name))
	if err == nil {
		if lc, err := config.ParseLems(c.l.LemsConf(c.name), data); err == nil {
			addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(lc.Port))
			for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
				conn, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
				if err != nil {
					break
				}
				conn.Close()
			}
		}
	}
	c.log.Infof("Lems Daemon aborted.")
}
