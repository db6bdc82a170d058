package cluster

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/linuxha-ng/linuxha/pkg/appnet"
	"github.com/linuxha-ng/linuxha/pkg/config"
	api "github.com/linuxha-ng/linuxha/pkg/daemonapi"
	"github.com/linuxha-ng/linuxha/pkg/state"
	"github.com/linuxha-ng/linuxha/pkg/wire"
)

// LemsCheckEvery is how often the daemon looks for a dead Lems.
const LemsCheckEvery = 5 * time.Second

// watchLems restarts the Lems of each application running on this node
// whose Lems has stopped answering (L911, L2465, L4637). An application
// that is starting or stopping is left alone: clhaltapp aborts Lems on
// purpose.
func (d *Daemon) watchLems(ctx context.Context) {
	d.every(ctx, LemsCheckEvery, nil, func() {
		d.helpers(ctx, true)
		for _, name := range d.appNames() {
			a, ok := d.app(name)
			if !ok {
				continue
			}
			d.mu.Lock()
			mine := a.State == api.AppStarted && a.Node == d.me.Name
			d.mu.Unlock()
			if mine {
				d.ensureLems(ctx, name, true)
			}
		}
	})
}

// every runs fn each period, and at once whenever poke delivers, until
// the daemon stops.
func (d *Daemon) every(ctx context.Context, period time.Duration, poke <-chan struct{}, fn func()) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-d.quit:
			return
		case <-t.C:
		case <-poke:
		}
		fn()
	}
}

// ensureLems starts app's Lems unless it answers on its port already.
func (d *Daemon) ensureLems(ctx context.Context, app string, restart bool) {
	d.lemsMu.Lock()
	defer d.lemsMu.Unlock()
	conf := d.L.LemsConf(app)
	data, err := os.ReadFile(conf)
	if err != nil {
		return // an application without monitoring
	}
	lc, err := config.ParseLems(conf, data)
	if err != nil {
		d.Log.Warnf("Lems configuration of %s is not valid: %v", app, err)
		return
	}
	if listening(lc.Port) {
		return
	}
	if restart {
		d.Log.Warnf("Lems for application %s is not running - restarting it.", app)
	}
	cctx, cancel := context.WithTimeout(ctx, 40*time.Second)
	defer cancel()
	out, err := exec.CommandContext(cctx, filepath.Join(d.binDir(), "lems"), "--application", app,
		"--config", conf, "--detach", "--verbose").CombinedOutput()
	if err != nil {
		d.Log.Errorf("Unable to start Lems for %s: %v %s", app, err, strings.TrimSpace(string(out)))
		return
	}
	d.Log.Infof("Started Lems for application %s (port %d).", app, lc.Port)
}

// lemsRunning reports whether app's Lems answers on this node.
func (d *Daemon) lemsRunning(app string) bool {
	data, err := os.ReadFile(d.L.LemsConf(app))
	if err != nil {
		return false
	}
	lc, err := config.ParseLems(d.L.LemsConf(app), data)
	return err == nil && listening(lc.Port)
}

// holdsAddress reports whether this node carries one of app's addresses,
// which is how a daemon that started after the application learns that
// it runs here (APP_UPDATE probe=yes, L7608).
func (d *Daemon) holdsAddress(a *App) bool {
	top, err := state.ReadTopology(d.L.Topology())
	if err != nil {
		return false
	}
	addrs, err := appnet.Addresses(a.Conf, top, d.me.Name)
	if err != nil {
		return false
	}
	for _, ad := range addrs {
		if _, err := appnet.LinkWith(ad.Prefix.Addr()); err == nil {
			return true
		}
	}
	return false
}

// reqAppUpdate sets an application's state as the other daemon or a tool
// reports it (L7608): state STOPPED, STOPPING, STARTING or STARTED on
// node. With probe=yes the state is found instead: STARTED here when this
// node holds the application's address (the peer is told, and Lems is
// started), else left as it is.
func (d *Daemon) reqAppUpdate(ctx context.Context, r wire.Request) string {
	a, reply := d.appArg(r)
	if a == nil {
		return reply
	}
	if v, _ := r.Arg("probe"); yes(v) {
		if d.probeApp(ctx, a) {
			d.call(ctx, api.Req(api.AppUpdate, "app", a.Name, "state", api.AppStarted, "node", d.me.Name), 2*time.Second)
		}
		return api.OK
	}
	st, _ := r.Arg("state")
	node, _ := r.Arg("node")
	switch strings.ToUpper(st) {
	case "STOPPED", api.AppDown:
		st, node = api.AppDown, ""
	case api.AppStopping, api.AppStarting, api.AppStarted:
		st = strings.ToUpper(st)
		if node == "" {
			node = d.me.Name
		}
	default:
		return api.MissingArg
	}
	d.mu.Lock()
	if st == api.AppStarted && a.State != api.AppStarted {
		a.Since = time.Now()
	}
	a.State, a.Node = st, node
	d.mu.Unlock()
	d.forward(ctx, r)
	return api.OK
}

// probeApp records a as STARTED here, and starts its Lems, when this node
// holds one of its addresses: after both daemons died the applications
// kept running, and a new daemon finds them this way (§21.5).
func (d *Daemon) probeApp(ctx context.Context, a *App) bool {
	if !d.holdsAddress(a) {
		return false
	}
	// It started when its TIME file says (L786-792), not when this
	// daemon found it: its Running time goes on.
	since := time.Now()
	if t, ok, err := state.ReadTime(d.L.TimeFile(a.Name)); err == nil && ok && t.Before(since) {
		since = t
	}
	d.mu.Lock()
	if a.State != api.AppStarted || a.Node != d.me.Name {
		a.State, a.Node, a.Since = api.AppStarted, d.me.Name, since
	}
	d.mu.Unlock()
	d.Log.Infof("Application %s found running on %s (it holds the application's address).", a.Name, d.me.Name)
	go d.ensureLems(context.WithoutCancel(ctx), a.Name, true)
	return true
}
