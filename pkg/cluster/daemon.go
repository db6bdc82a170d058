// Package cluster is the cluster daemon, cldaemon (Reference §10, §25):
// it forms or joins the cluster with the other node, sends heartbeats on
// every network of the topology and decides from them whether the peer
// lives (pkg/membership), keeps the registry of built applications, and
// answers the requests of §25.4 from the tools and the other daemon.
//
// Killing it changes nothing on either node's applications, addresses or
// mounts (L6682-6700): it holds no resource, only knowledge.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/linuxha-ng/linuxha/pkg/admit"
	"github.com/linuxha-ng/linuxha/pkg/alerts"
	"github.com/linuxha-ng/linuxha/pkg/config"
	api "github.com/linuxha-ng/linuxha/pkg/daemonapi"
	"github.com/linuxha-ng/linuxha/pkg/failover"
	"github.com/linuxha-ng/linuxha/pkg/layout"
	"github.com/linuxha-ng/linuxha/pkg/logx"
	"github.com/linuxha-ng/linuxha/pkg/membership"
	"github.com/linuxha-ng/linuxha/pkg/state"
	"github.com/linuxha-ng/linuxha/pkg/wire"
)

// Options are cldaemon's command-line options.
type Options struct {
	Form, Join  bool
	Force       bool
	Timeout     time.Duration // overrides timings/clusterform; 0 = configured
	NoLocking   bool
	NoChecksums bool
	// Net is the network the daemon uses; nil is the host's.
	Net Transport
	// Notify hears readiness, status and the heartbeat loop's liveness
	// (systemd's sd_notify); nil tells no one.
	Notify Notifier
	// Clock is the time TIME reports and the formation's clock check
	// compares with; nil is the host's, shifted by FileClockOffset when
	// the test hook is there.
	Clock func() time.Time
}

// Daemon is one node's cluster daemon.
type Daemon struct {
	L    layout.Layout
	Cfg  *config.Cluster
	Log  *logx.Logger
	Opts Options
	Exe  string // directory of the other linuxha binaries ("" = next to this one)

	me, peer *config.Node
	codec    *wire.Codec
	peerTop  []state.CardAddr // the peer's topology addresses
	started  time.Time
	now      func() time.Time // the clock TIME reports and the time check compares with
	rejects  *wire.Throttle   // rejected requests and heartbeats, once a minute per source
	// hello asks the receive loop's helper to send the peer a request,
	// which teaches it this daemon's incarnation (see receive).
	hello chan struct{}
	// rearm tells the judging loop that the core's next deadline may
	// have moved sooner (coreChanged).
	rearm chan struct{}

	// mu guards the fields from state to verbose, rejoined, back, each *App in
	// apps, and the Cfg fields RECONFIGURE changes (warn, dead, echo).
	mu        sync.Mutex
	state     string
	peerState string
	core      *membership.Core
	// peerInc is the incarnation of the peer's daemon, learned from its
	// last request (challenge-bound, so fresh); heartbeats to it echo it.
	peerInc string
	// recent holds the START_APP and STOP_APP requests of the last
	// dedupWindow, under legacy framing (duplicate).
	recent   map[string]time.Time
	probe    chan probeResult // started when every path fell silent, read when dead expires
	apps     map[string]*App
	verbose  bool
	quit     chan struct{}
	quitOnce sync.Once
	reqs     map[string]request
	// loops owns the goroutines that live on Run's context (server,
	// heartbeats, watchers, probes, the takeover after a death); Run
	// waits for them. Fail-over actions and Lems starts asked for by a
	// request run on a context without cancel, on purpose: a takeover or
	// a Lems start under way is finished rather than cut in the middle.
	loops  sync.WaitGroup
	lemsMu sync.Mutex    // one Lems start at a time
	actMu  sync.Mutex    // one set of fail-over actions at a time
	heard  chan struct{} // the other node came back: compare registries now
	// rejoined: the other node rebooted and joined (ECHO HELLO boot=yes)
	// since the registries were last compared; what it no longer runs,
	// it lost with the reboot.
	rejoined bool
	// back: the other node came back (heartbeats again, or a join) since
	// the registries were last compared; stale copies there are
	// resynchronised at once (failover.Resyncs).
	back bool
	// metrics: the Prometheus registry and counters (global/metrics).
	metrics *metrics
	// alerts runs the <alerts> agents on the cluster's events (nil: none).
	alerts *alerts.Dispatcher
	// booted: this is the first daemon since this node booted, which a
	// join tells the other node.
	booted bool
}

// ErrAborted is returned by Run when the daemon was told to abort.
var ErrAborted = errors.New("cluster: aborted on request")

// New prepares a daemon for the node named host.
func New(l layout.Layout, cfg *config.Cluster, log *logx.Logger, opts Options, host string) (*Daemon, error) {
	me, ok := cfg.Node(host)
	if !ok {
		return nil, fmt.Errorf("this host (%s) is not a node of cluster %s", host, cfg.Name)
	}
	peer, _ := cfg.Peer(host)
	if opts.Net == nil {
		opts.Net = hostNet{}
	}
	if opts.Clock == nil {
		opts.Clock = clock(log.Warnf)
	}
	if opts.Notify == nil {
		opts.Notify = noNotify{}
	}
	codec, err := wire.NewCodec(wire.FramingOf(cfg.Framing), cfg.Name, cfg.Key, wire.WithFrom(wire.Svc(me.Name, api.Service)),
		wire.WithDialer(opts.Net.Dial))
	if err != nil {
		return nil, err
	}
	d := &Daemon{L: l, Cfg: cfg, Log: log, Opts: opts, me: me, peer: peer, codec: codec, now: opts.Clock,
		rejects: &wire.Throttle{Log: log.Warnf}, hello: make(chan struct{}, 1), rearm: make(chan struct{}, 1),
		state: api.NodeForming, peerState: api.NodeDown, apps: map[string]*App{}, quit: make(chan struct{}), heard: make(chan struct{}, 1), verbose: log.Verbose()}
	if top, err := state.ReadTopology(l.Topology()); err == nil {
		d.peerTop = top.Addrs(peer.Name)
	}
	d.reqs = d.requests()
	d.metrics = newMetrics(d)
	d.alerts = alerts.New(cfg.Alerts, alerts.Origin{Cluster: cfg.Name, Node: me.Name}, log.Warnf)
	// A full log file system loses lines: once the log has room again it
	// counts them, and the alert recipients hear it (Send only queues,
	// as OnLost's lock asks).
	log.OnLost(func(x logx.Lost) {
		d.alerts.Send(alerts.Event{Kind: alerts.Node, Node: me.Name, Desc: fmt.Sprintf("log full: %d lines not written from %s to %s (%v)",
			x.Lines, x.From.Format(logx.TimeFormat), x.To.Format(logx.TimeFormat), x.Err)})
	})
	return d, nil
}

// Run serves until ctx ends or an ABORT arrives. ready is called once the
// request port listens (nil error) or cannot (the error).
func (d *Daemon) Run(ctx context.Context, ready func(error)) error {
	d.started = time.Now()
	d.booted = firstSinceBoot(d.L.BootMarker())
	d.Log.Infof("Global section configuration validation complete")
	if d.codec.Framing() == wire.Legacy {
		d.Log.Warnf("%s", config.LegacyWarning)
	}
	d.helpers(ctx, false)
	ln, err := d.Opts.Net.Listen(d.Cfg.Port)
	if err != nil {
		err = fmt.Errorf("cannot listen on port %d (is a cluster daemon already running?): %w", d.Cfg.Port, err)
		ready(err)
		return err
	}
	udp, err := d.Opts.Net.ListenPacket(d.Cfg.Port)
	if err != nil {
		ln.Close()
		ready(err)
		return err
	}
	d.Log.Infof("Started local server on port %d", d.Cfg.Port)
	if d.Cfg.Metrics != "" {
		if err := d.serveMetrics(ctx); err != nil {
			// Metrics are for watching: their port being taken is no
			// reason to keep the node out of the cluster.
			d.Log.Warnf("Cannot serve metrics on %s: %v", d.Cfg.Metrics, err)
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	srv := &wire.Server{Codec: d.codec, Handler: d.handle, Self: wire.Svc(d.me.Name, api.Service),
		Admit: (&admit.Policy{Peers: d.peerIPs, Warn: d.Log.Warnf}).Admit, OnReject: d.rejects.Reject}
	d.loops.Go(func() { srv.Serve(ctx, ln) })
	d.loops.Go(func() { d.alerts.Run(ctx) })
	d.loops.Go(func() { d.receive(ctx, udp) })
	d.loops.Go(func() { d.greet(ctx) })
	defer func() { cancel(); udp.Close(); d.loops.Wait() }()
	ready(nil)
	for _, name := range d.requestNames() {
		d.Log.Infof("Added request %s (%s).", name, d.reqs[name].desc)
	}
	d.registerApps()

	// Applications that outlived a previous daemon are found before the
	// cluster forms, so that autostart and the other node see them.
	for _, name := range d.appNames() {
		if a, ok := d.app(name); ok {
			d.probeApp(ctx, a)
		}
	}
	var formErr error
	switch {
	case d.Opts.Join:
		formErr = d.join(ctx)
	default:
		formErr = d.form(ctx)
	}
	if formErr != nil {
		if errors.Is(formErr, ErrAborted) {
			return nil
		}
		d.Log.Errorf("%v", formErr)
		if errors.As(formErr, new(clockError)) {
			// The other node checks the clocks too: answer its TIME a
			// little longer, so that it refuses for the same reason
			// instead of for want of an answer.
			sleep(ctx, 3*time.Second)
		}
		return formErr
	}
	markBooted(d.L.BootMarker())
	d.loops.Go(func() { d.watchLems(ctx) })
	d.loops.Go(func() { d.watchPeer(ctx) })
	d.loops.Go(func() { d.watchStale(ctx) })
	return d.steady(ctx, udp)
}

// helpers starts the lock and network daemons when they are not running
// (L2553-2558, L2638-2639); watchLems calls it again (again=true), so
// that a helper killed later comes back too, as Pacemaker restarts its
// own subdaemons.
func (d *Daemon) helpers(ctx context.Context, again bool) {
	type helper struct {
		port       int
		name, what string
	}
	hs := []helper{{d.Cfg.ClPort, "cllockd", "Locking"}, {d.Cfg.ClnetdPort, "clnetd", "Network"}}
	if d.Opts.NoLocking {
		hs = hs[1:]
	}
	for _, h := range hs {
		if h.port == 0 {
			continue
		}
		if listening(h.port) {
			if !again {
				d.Log.Infof("%s daemon already appears to be running.", h.what)
			}
			continue
		}
		d.Log.Infof("%s daemon is not running - will attempt to start.", h.what)
		bin := filepath.Join(d.binDir(), h.name)
		out, err := exec.CommandContext(ctx, bin, "--detach").CombinedOutput()
		if err != nil {
			d.Log.Errorf("Unable to start %s daemon: %v %s", strings.ToLower(h.what), err, strings.TrimSpace(string(out)))
			continue
		}
		d.Log.Infof("Successfully started %s daemon.", strings.ToLower(h.what))
	}
}

func (d *Daemon) binDir() string {
	if d.Exe != "" {
		return d.Exe
	}
	exe, _ := os.Executable()
	return filepath.Dir(exe)
}

// listening reports whether a process holds port on the loopback: the
// helpers' and Lems's liveness check before starting them.
func listening(port int) bool {
	c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), 300*time.Millisecond)
	if err != nil {
		// Only a refusal says nobody holds the port. A connection that
		// times out found a listener too busy to accept (its backlog
		// full, the machine loaded): starting another would only fail
		// with "address already in use" after logging the helper as
		// not running, as the VM fault lab saw under load.
		return !errors.Is(err, syscall.ECONNREFUSED)
	}
	c.Close()
	return true
}

// peerAddrs lists "host:port" for the peer's daemon: its topology
// addresses (those that answered an echo first), then its name.
func (d *Daemon) peerAddrs() []string {
	var out []string
	for _, ca := range d.peerTop {
		out = append(out, net.JoinHostPort(ca.Prefix.Addr().String(), strconv.Itoa(d.Cfg.Port)))
	}
	return append(out, net.JoinHostPort(d.peer.Name, strconv.Itoa(d.Cfg.Port)))
}

// findPeer echoes the peer's addresses, drbd network first as the
// Reference's log shows (L2557-2558), and puts those that answer first.
func (d *Daemon) findPeer(ctx context.Context) bool {
	var answered, silent []state.CardAddr
	d.mu.Lock()
	order := append([]state.CardAddr(nil), d.peerTop...)
	d.mu.Unlock()
	for i := range order {
		if order[i].Network == d.Cfg.DRBDNetwork && i > 0 {
			order[0], order[i] = order[i], order[0]
		}
	}
	for _, ca := range order {
		ip := ca.Prefix.Addr().String()
		if len(d.Opts.Net.Answering(ctx, d.echoType(), []string{ip}, time.Second)) > 0 {
			d.Log.Infof("Ping of %s OK (network %s)!", ip, ca.Network)
			answered = append(answered, ca)
		} else {
			silent = append(silent, ca)
		}
	}
	if len(answered) > 0 {
		d.Log.Infof("Found IP for remote server: %s", answered[0].Prefix.Addr())
	}
	d.mu.Lock()
	d.peerTop = append(answered, silent...)
	d.mu.Unlock()
	return len(answered) > 0
}

func (d *Daemon) call(ctx context.Context, req string, timeout time.Duration) (string, error) {
	d.mu.Lock()
	addrs := d.peerAddrs()
	d.mu.Unlock()
	reply, _, err := wire.Call(ctx, d.codec, wire.Svc(d.peer.Name, api.Service), addrs, req, timeout)
	return reply, err
}

// peerIPs lists the peer's topology addresses, the hosts admitted
// besides this one's root.
func (d *Daemon) peerIPs() []netip.Addr {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]netip.Addr, 0, len(d.peerTop))
	for _, ca := range d.peerTop {
		out = append(out, ca.Prefix.Addr())
	}
	return out
}

// greet sends the peer a harmless request whenever receive asks: its
// heartbeats echo an incarnation that is not this daemon's (it has not
// heard from this one since it restarted), and a request, bound to a
// fresh challenge, tells it the new one. Old heartbeats replayed by
// another host trigger it too, which costs one ECHO a second at most.
func (d *Daemon) greet(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-d.hello:
		}
		c, cancel := context.WithTimeout(ctx, time.Second)
		d.call(c, api.Echo, 500*time.Millisecond)
		cancel()
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

func (d *Daemon) setState(s string) {
	d.mu.Lock()
	d.state = s
	d.mu.Unlock()
}

func (d *Daemon) getState() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.state
}

func (d *Daemon) formTimeout() time.Duration {
	if d.Opts.Timeout > 0 {
		return d.Opts.Timeout
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.Cfg.ClusterForm
}

// echoType reads Cfg.EchoType, which RECONFIGURE changes under d.mu.
func (d *Daemon) echoType() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.Cfg.EchoType
}

// form runs the FORMING / STARTING / UP exchange (L2562-2565, L7574-7577):
// each node moves one state forward each time it sees the other at least
// at its own state, until both are UP.
func (d *Daemon) form(ctx context.Context) error {
	d.setState(api.NodeForming)
	d.findPeer(ctx)
	d.Log.Infof("Waiting to form cluster with remote node.")
	deadline := time.Now().Add(d.formTimeout())
	interval := max(100*time.Millisecond, min(d.Cfg.Keepalive, time.Second))
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-d.quit:
			return ErrAborted
		default:
		}
		if time.Now().After(deadline) {
			if d.Opts.Force {
				d.Log.Warnf("Remote node %s did not respond within %v - forming a single node cluster (--force).", d.peer.Name, d.formTimeout())
				d.setState(api.NodeUp)
				return nil
			}
			return fmt.Errorf("Remote node %s did not respond within %v - cluster not formed (use --force to form a single node cluster).", d.peer.Name, d.formTimeout())
		}
		mine := d.getState()
		reply, err := d.call(ctx, api.Echo, interval)
		if err == nil {
			step := membership.Form(mine, reply)
			if step.Answered {
				d.Log.Infof("Response to ECHO was %s (our state=%s)", reply, mine)
			}
			if step.Agreed {
				d.Log.Infof("Both nodes agree UP")
				break
			}
			if step.Next != mine {
				d.setState(step.Next)
				continue
			}
		}
		sleep(ctx, interval)
	}
	if err := d.timeCheck(ctx); err != nil {
		return err
	}
	d.mu.Lock()
	d.peerState = api.NodeUp
	d.mu.Unlock()
	return nil
}

// join asks the running peer, with random back-off, until it answers UP
// (L7579-7582).
func (d *Daemon) join(ctx context.Context) error {
	d.setState(api.NodeStarting)
	if !d.findPeer(ctx) {
		d.Log.Warnf("No address of %s answered an echo; trying its daemon anyway.", d.peer.Name)
	}
	d.Log.Infof("Waiting to join cluster with remote node.")
	deadline := time.Now().Add(d.formTimeout())
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-d.quit:
			return ErrAborted
		default:
		}
		boot := ""
		if d.booted {
			boot = "yes"
		}
		hello := api.Req(api.Echo, "HELLO", "yes", "node", d.me.Name, "boot", boot)
		reply, err := d.call(ctx, hello, time.Second)
		if err == nil && reply == api.NodeUp {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("Unable to join cluster: %s did not answer UP within %v.", d.peer.Name, d.formTimeout())
		}
		sleep(ctx, time.Duration(100+rand.IntN(400))*time.Millisecond)
	}
	if err := d.timeCheck(ctx); err != nil {
		return err
	}
	d.setState(api.NodeUp)
	d.mu.Lock()
	d.peerState = api.NodeUp
	d.mu.Unlock()
	d.Log.Infof("Node %s has now joined the cluster", d.me.Name)
	return nil
}

// firstSinceBoot reports whether no daemon of this node has been in the
// cluster since it booted. One that cannot tell says no: a mistaken yes
// would let the other node start applications that may still run here.
func firstSinceBoot(marker string) bool {
	_, err := os.Stat(marker)
	return errors.Is(err, fs.ErrNotExist)
}

// markBooted leaves the marker (under /run, emptied at every boot) that
// tells later daemons they are not the first since the boot. Only a daemon
// in the cluster leaves it: one whose join failed did not tell the other
// node of the boot, so the next must.
func markBooted(marker string) {
	if os.MkdirAll(filepath.Dir(marker), 0o755) == nil {
		os.WriteFile(marker, nil, 0o644)
	}
}

// clockError refuses a formation for the clocks (L1887, L7577).
type clockError string

func (e clockError) Error() string { return string(e) }

// timeCheck reads the other node's TIME (three tries) and carries out
// membership.Clocks' verdict (L1876-1890, L7577).
func (d *Daemon) timeCheck(ctx context.Context) error {
	var t int64
	var err error
	for try := 0; try < 3; try++ {
		if try > 0 {
			sleep(ctx, time.Second)
		}
		var reply string
		if reply, err = d.call(ctx, api.Time, 2*time.Second); err == nil {
			if t, err = strconv.ParseInt(strings.TrimSpace(reply), 10, 64); err == nil {
				break
			}
			err = fmt.Errorf("TIME answered %q", reply)
		}
	}
	var diff time.Duration
	if err == nil {
		diff = d.now().Sub(time.Unix(t, 0))
	}
	v := membership.Clocks(diff, err, d.peer.Name, d.Opts.Force)
	switch {
	case v.Refuse:
		return clockError(v.Text)
	case v.Warn:
		d.Log.Warnf("%s", v.Text)
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// steady sends heartbeats on every path and watches the peer until abort.
func (d *Daemon) steady(ctx context.Context, udp net.PacketConn) error {
	d.Log.Infof("Cluster %s is UP on %s.", d.Cfg.Name, d.me.Name)
	now := time.Now()
	d.mu.Lock()
	d.core = membership.New(d.pathNames(), d.Cfg.Warn, d.Cfg.Dead, now)
	if d.peerState == api.NodeUp {
		d.core.Heard(d.pathNames()[0], now) // the form exchange just heard it
	}
	d.mu.Unlock()
	hb := time.NewTicker(d.Cfg.Keepalive)
	defer hb.Stop()
	// The peer is judged at the core's next deadline, not on a fixed
	// period: at the fast profile a 12.5 ms ticker was 80 wake-ups a
	// second of an idle daemon, and up to 12.5 ms late.
	judge := time.NewTimer(0)
	defer judge.Stop()
	// planned is when the loop means to judge next: waking much later
	// than that, the daemon was itself stopped (membership.Stalled).
	planned := time.Now()
	arm := func() {
		wait := d.untilJudged()
		planned = time.Now().Add(wait)
		judge.Reset(wait)
	}
	d.heartbeat(udp)
	status := d.summary()
	d.Opts.Notify.Ready(status)
	defer d.Opts.Notify.Stopping()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-d.quit:
			return nil
		case <-hb.C:
			d.heartbeat(udp)
			if s := d.summary(); s != status {
				status = s
				d.Opts.Notify.Status(s)
			}
		case <-judge.C:
			// The clock now, not the time received: since Go 1.23 a
			// timer's channel delivers when the timer was due, so a
			// daemon stopped past it would see itself on time and judge
			// the other node on its own stall (found by the fault lab's
			// pause of every daemon, seed 514655273, step 168).
			now := time.Now()
			d.mu.Lock()
			evs := append(d.core.Stalled(planned, now), d.core.Tick(now)...)
			d.mu.Unlock()
			d.events(ctx, evs)
			arm()
			// The loop that judges the peer is alive: a hung daemon
			// stops saying so and its service manager restarts it.
			d.Opts.Notify.Watchdog()
		case <-d.rearm:
			arm()
		}
	}
}

// untilJudged is how long the judging loop may sleep: until the core's
// next deadline, and at most a second or half the watchdog's period, so
// that it still tells the service manager's watchdog it is alive at the
// rate asked for while nothing is pending.
func (d *Daemon) untilJudged() time.Duration {
	most := time.Second
	if every := d.Opts.Notify.WatchdogEvery(); every > 0 {
		most = min(most, every/2)
	}
	d.mu.Lock()
	at, ok := d.core.Next()
	d.mu.Unlock()
	if !ok {
		return most
	}
	return min(most, max(time.Millisecond, time.Until(at)))
}

// coreChanged wakes the judging loop after the core was changed other
// than by a heartbeat pushing its deadlines later (a path or the peer
// heard again, a reset, new timings): its next deadline may now be
// sooner than the one the loop sleeps until. d.mu is held or not.
func (d *Daemon) coreChanged() {
	select {
	case d.rearm <- struct{}{}:
	default:
	}
}

func (d *Daemon) pathNames() []string {
	seen := map[string]bool{}
	var out []string
	for _, nw := range d.me.Networks {
		if !seen[nw.Name] {
			seen[nw.Name] = true
			out = append(out, nw.Name)
		}
	}
	return out
}

// heartbeat sends one datagram to every topology address of the peer.
func (d *Daemon) heartbeat(udp net.PacketConn) {
	d.mu.Lock()
	msg := fmt.Sprintf("HB node=%s state=%s", d.me.Name, d.state)
	top := d.peerTop
	env := wire.Envelope{To: wire.Svc(d.peer.Name, api.Service), Re: d.peerInc}
	d.mu.Unlock()
	for _, ca := range top {
		// A frame per path: the same frame twice is a replay.
		frame, _, err := d.codec.SealEnv(env, msg)
		if err != nil {
			return
		}
		addr := &net.UDPAddr{IP: ca.Prefix.Addr().AsSlice(), Port: d.Cfg.Port}
		udp.WriteTo(frame, addr)
	}
}

// receive reads heartbeats; the network a datagram came from is the path.
func (d *Daemon) receive(ctx context.Context, udp net.PacketConn) {
	buf := make([]byte, 4096)
	for {
		n, from, err := udp.ReadFrom(buf)
		if err != nil {
			return
		}
		env, msg, err := d.codec.OpenEnv(buf[:n])
		if err != nil {
			d.rejects.Reject(from, fmt.Errorf("heartbeat: %w", err))
			continue
		}
		req, err := wire.ParseRequest(msg)
		if err != nil || req.Verb != "HB" || req.Args["node"] != d.peer.Name {
			continue
		}
		if d.codec.Framing() == wire.Authenticated {
			// A heartbeat counts only when it is meant for this node and
			// echoes this daemon's incarnation: one recorded before this
			// daemon started, replayed, cannot keep a dead peer alive.
			if env.To != wire.Svc(d.me.Name, api.Service) || env.From != wire.Svc(d.peer.Name, api.Service) {
				d.rejects.Reject(from, fmt.Errorf("heartbeat: %w", wire.ErrNotMine))
				continue
			}
			if env.Re != d.codec.Inc() {
				select {
				case d.hello <- struct{}{}:
				default:
				}
				continue
			}
		}
		path := d.pathOf(from)
		if path == "" {
			continue
		}
		now := time.Now()
		d.mu.Lock()
		var evs []membership.Event
		if d.core != nil {
			if gap, ok := d.core.Since(path, now); ok {
				d.metrics.hbInterval.WithLabelValues(path).Observe(gap.Seconds())
			}
			evs = d.core.Heard(path, now)
		}
		d.mu.Unlock()
		if len(evs) > 0 {
			d.coreChanged()
		}
		d.events(ctx, evs)
	}
}

func (d *Daemon) pathOf(from net.Addr) string {
	ua, ok := from.(*net.UDPAddr)
	if !ok {
		return ""
	}
	ip, ok := netip.AddrFromSlice(ua.IP)
	if !ok {
		return ""
	}
	ip = ip.Unmap()
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, ca := range d.peerTop {
		if ca.Prefix.Addr() == ip {
			return ca.Network
		}
	}
	return ""
}

// events logs membership events and decides, when every path is silent,
// whether the node or only its daemon died (L6682-6700).
func (d *Daemon) events(ctx context.Context, evs []membership.Event) {
	for _, e := range evs {
		switch e.Kind {
		case membership.PathSilent:
			d.Log.Warnf("No heartbeat from %s on network %s for %.1fs", d.peer.Name, e.Path, e.Silent.Seconds())
		case membership.AllSilent:
			d.mu.Lock()
			if d.peerState == api.NodeUp {
				// Ask whether the host still answers now, so that the
				// answer is ready when dead expires; a probe of an
				// earlier silence that never reached dead is stale.
				p, timeout := make(chan probeResult, 1), max(50*time.Millisecond, min(d.Cfg.Dead-d.Cfg.Warn, 2*time.Second))
				d.probe = p
				d.loops.Go(func() { d.probeHost(ctx, p, timeout) })
			}
			d.mu.Unlock()
		case membership.Stalled:
			d.Log.Warnf("This daemon did not run for %.2fs (stopped, paused or starved): the silence of %s is measured again from now", e.Silent.Seconds(), d.peer.Name)
		case membership.PathRestored:
			d.Log.Infof("Heartbeat from %s on network %s restored", d.peer.Name, e.Path)
		case membership.PeerHeard:
			d.mu.Lock()
			was := d.peerState
			d.peerState = api.NodeUp
			d.probe = nil
			d.mu.Unlock()
			if was != api.NodeUp {
				d.mu.Lock()
				d.back = true
				d.mu.Unlock()
				d.Log.Infof("Heartbeats from %s received (network %s) - node %s is UP", d.peer.Name, e.Path, d.peer.Name)
				select {
				case d.heard <- struct{}{}:
				default:
				}
			}
		case membership.PeerSilent:
			d.mu.Lock()
			p := d.probe
			up := d.peerState == api.NodeUp
			d.mu.Unlock()
			if !up {
				continue
			}
			var res probeResult
			if p != nil {
				res = <-p
			}
			alive := res.answered != ""
			d.mu.Lock()
			if d.probe == p {
				d.probe = nil // answered; the next silence asks again
			}
			if d.core.Alive() {
				// Heard again while the echo was out (the receive loop
				// already set the peer UP): the silence is over, and a
				// verdict now would leave this daemon believing a node
				// dead that its core hears (found by the fault lab's
				// freeze).
				d.mu.Unlock()
				d.Log.Warnf("%s was heard again while its silence was being judged - no verdict", d.peer.Name)
				continue
			}
			if alive {
				d.peerState = api.NodeDied
			} else {
				d.peerState = api.NodeDown
			}
			d.mu.Unlock()
			if alive {
				d.Log.Warnf("Cluster daemon on %s has died but the node still responds (%s) - applications are left undisturbed.", d.peer.Name, res.answered)
			} else {
				d.Log.Eventf(logx.Error, "node-dead", "", "Node %s is DEAD: no heartbeat on any network for %.2fs and no echo reply.", d.peer.Name, e.Silent.Seconds())
				d.alerts.Send(alerts.Event{Kind: alerts.Node, Node: d.peer.Name, Desc: "lost"})
				d.loops.Go(func() { d.peerDead(ctx, res.silence) })
			}
		}
	}
}

// probeResult is what was learnt while the peer was silent but not yet
// dead: whether the host answers an echo, and the partition questions.
type probeResult struct {
	answered string // the address that answered, "" for none
	silence  *failover.Silence
}

// probeHost asks, between warn and dead, whether the host still answers
// and, at the same time, the partition questions of §21.6, so that a
// takeover need not wait for them after dead.
func (d *Daemon) probeHost(ctx context.Context, out chan<- probeResult, timeout time.Duration) {
	d.mu.Lock()
	top := d.peerTop
	d.mu.Unlock()
	sil := make(chan failover.Silence, 1)
	go func() { sil <- d.silence(ctx, timeout) }()
	ips := make([]string, len(top))
	for i, ca := range top {
		ips[i] = ca.Prefix.Addr().String()
	}
	answered := ""
	if up := d.Opts.Net.Answering(ctx, d.echoType(), ips, timeout); len(up) > 0 {
		answered = up[0]
	}
	s := <-sil
	out <- probeResult{answered: answered, silence: &s}
}

// Quit stops the daemon (ABORT).
func (d *Daemon) Quit() { d.quitOnce.Do(func() { close(d.quit) }) }
