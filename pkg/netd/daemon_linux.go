package netd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mdlayher/ethtool"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/linuxha-ng/linuxha/pkg/admit"
	"github.com/linuxha-ng/linuxha/pkg/appnet"
	"github.com/linuxha-ng/linuxha/pkg/config"
	"github.com/linuxha-ng/linuxha/pkg/daemonapi"
	"github.com/linuxha-ng/linuxha/pkg/logx"
	"github.com/linuxha-ng/linuxha/pkg/wire"
)

// Daemon is clnetd on one node.
type Daemon struct {
	Cfg    *config.Cluster
	Node   string
	Log    *logx.Logger
	Reload func() (*config.Cluster, error) // REREAD

	mu    sync.Mutex // guards plan, codec and wake: REREAD replaces them
	plan  *Plan
	codec *wire.Codec
	wake  chan struct{}
}

// Run watches links until ctx ends or ABORT.
func (d *Daemon) Run(ctx context.Context, ready func(error)) error {
	n, ok := d.Cfg.Node(d.Node)
	if !ok {
		err := fmt.Errorf("this host (%s) is not a node of cluster %s", d.Node, d.Cfg.Name)
		ready(err)
		return err
	}
	d.plan = NewPlan(n, DefaultFaulty)
	var err error
	if d.codec, err = wire.NewCodec(wire.FramingOf(d.Cfg.Framing), d.Cfg.Name, d.Cfg.Key, wire.WithFrom(wire.Svc(d.Node, wire.SvcNet))); err != nil {
		ready(err)
		return err
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(d.Cfg.ClnetdPort)))
	if err != nil {
		ready(err)
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	d.wake = make(chan struct{}, 1)
	var wg sync.WaitGroup
	// Only root's local sockets (admit.Policy without peers).
	srv := &wire.Server{Codec: d.codec, Handler: func(_ context.Context, msg string, _ net.Addr) string { return d.handle(msg, cancel) },
		Self: wire.Svc(d.Node, wire.SvcNet), Admit: (&admit.Policy{Warn: d.Log.Warnf}).Admit,
		OnReject: (&wire.Throttle{Log: d.Log.Warnf}).Reject}
	wg.Add(1)
	go func() { defer wg.Done(); srv.Serve(ctx, ln) }()
	defer wg.Wait()

	updates := make(chan netlink.LinkUpdate, 64)
	subErr := netlink.LinkSubscribeWithOptions(updates, ctx.Done(), netlink.LinkSubscribeOptions{
		ErrorCallback: func(err error) { d.Log.Warnf("Link event subscription: %v", err) },
	})
	var poll <-chan time.Time
	var et *ethtool.Client
	if subErr != nil {
		// No link events here: read link state 5 times a second (L832).
		d.Log.Warnf("No netlink link events (%v) - polling link state 5 times a second", subErr)
		et, _ = ethtool.New()
		if et != nil {
			defer et.Close()
		}
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		poll = t.C
	}
	d.Log.Infof("Network daemon watching %s on %s", strings.Join(d.plan.Cards(), ","), d.Node)
	ready(nil)
	d.step(ctx, et)
	for {
		select {
		case <-ctx.Done():
			return nil
		case u, ok := <-updates:
			if !ok {
				updates = nil
				continue
			}
			if d.watched(u.Attrs().Name) {
				d.step(ctx, et)
			}
		case <-poll:
			d.step(ctx, et)
		case <-d.wake:
			d.step(ctx, et)
		}
	}
}

func (d *Daemon) watched(card string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, c := range d.plan.Cards() {
		if c == card {
			return true
		}
	}
	return false
}

// step re-reads every watched card (an event is only a wake-up), plans and
// acts.
func (d *Daemon) step(ctx context.Context, et *ethtool.Client) {
	d.mu.Lock()
	cur := snapshot(d.plan.Cards(), et)
	acts := d.plan.Step(time.Now(), cur)
	d.mu.Unlock()
	for _, a := range acts {
		switch a.Kind {
		case Move:
			start := time.Now()
			if err := move(a); err != nil {
				d.Log.Errorf("Unable to move %v from %s to %s: %v", a.Addrs, a.From, a.To, err)
				continue
			}
			d.Log.Warnf("Link lost on %s (network %s): moved %s to %s in %v", a.From, a.Network, prefixes(a.Addrs), a.To, time.Since(start).Round(time.Microsecond))
			go d.announce(ctx, a.To, a.Addrs)
		case NetFailed:
			d.Log.Errorf("Network %s has failed on %s: %s - no longer monitoring it until REREAD", a.Network, d.Node, a.Reason)
			d.tellDaemon(ctx, a.Network)
		}
	}
}

func prefixes(ps []netip.Prefix) string {
	var s []string
	for _, p := range ps {
		s = append(s, p.String())
	}
	return strings.Join(s, ",")
}

func snapshot(cards []string, et *ethtool.Client) Snapshot {
	s := Snapshot{}
	for _, c := range cards {
		l := Link{Name: c}
		link, err := netlink.LinkByName(c)
		if err == nil {
			l.Exists = true
			l.Carrier = link.Attrs().RawFlags&unix.IFF_LOWER_UP != 0
			if et != nil {
				if st, err := et.LinkState(ethtool.Interface{Name: c}); err == nil {
					l.Carrier = st.Link
				}
			}
			addrs, _ := netlink.AddrList(link, netlink.FAMILY_V4)
			for _, a := range addrs {
				if p, ok := netip.AddrFromSlice(a.IP.To4()); ok {
					ones, _ := a.Mask.Size()
					l.Addrs = append(l.Addrs, netip.PrefixFrom(p, ones))
				}
			}
		}
		s[c] = l
	}
	return s
}

// move puts every address of the failed card on the target first, then
// removes it from the failed card, and moves routes that used the card.
func move(a Action) error {
	from, err := netlink.LinkByName(a.From)
	if err != nil {
		return err
	}
	to, err := netlink.LinkByName(a.To)
	if err != nil {
		return err
	}
	if to.Attrs().Flags&net.FlagUp == 0 {
		if err := netlink.LinkSetUp(to); err != nil {
			return err
		}
	}
	old, _ := netlink.AddrList(from, netlink.FAMILY_V4)
	routes, _ := netlink.RouteList(from, netlink.FAMILY_V4)
	var errs []error
	for _, ad := range old {
		n := ad
		n.LinkIndex = to.Attrs().Index
		n.Label = strings.Replace(ad.Label, a.From, a.To, 1)
		if err := netlink.AddrReplace(to, &n); err != nil {
			errs = append(errs, fmt.Errorf("add %s to %s: %w", ad.IPNet, a.To, err))
			continue
		}
		if err := netlink.AddrDel(from, &ad); err != nil && !errors.Is(err, syscall.EADDRNOTAVAIL) {
			errs = append(errs, fmt.Errorf("remove %s from %s: %w", ad.IPNet, a.From, err))
		}
	}
	for _, r := range routes {
		if r.Protocol == unix.RTPROT_KERNEL {
			continue // the kernel makes the subnet route for the new address
		}
		r.LinkIndex = to.Attrs().Index
		if err := netlink.RouteReplace(&r); err != nil {
			errs = append(errs, fmt.Errorf("route %s via %s: %w", r.Dst, a.To, err))
		}
	}
	return errors.Join(errs...)
}

func (d *Daemon) announce(ctx context.Context, card string, addrs []netip.Prefix) {
	if err := appnet.Announce(ctx, card, addrs); err != nil {
		d.Log.Warnf("Gratuitous ARP on %s: %v", card, err)
	}
}

// tellDaemon reports a failed network to the local cldaemon (L846-857),
// trying again for up to 30 s: the report is sent once per failure, and
// a daemon that is busy or restarting must still get it.
func (d *Daemon) tellDaemon(ctx context.Context, network string) {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(d.Cfg.Port))
	var err error
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		var reply string
		reply, _, err = wire.Call(ctx, d.codec, wire.Svc(d.Node, wire.SvcDaemon), []string{addr}, daemonapi.Req(daemonapi.NetFailed, "net", network, "node", d.Node), 2*time.Second)
		if err == nil {
			d.Log.Infof("Told the cluster daemon that network %s failed (%s)", network, reply)
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(250 * time.Millisecond):
		}
	}
	d.Log.Errorf("Unable to tell the cluster daemon that network %s failed: %v", network, err)
}

// handle answers "REREAD", "STATUS", "ECHO" and "ABORT".
func (d *Daemon) handle(msg string, quit func()) string {
	r, err := wire.ParseRequest(msg)
	if err != nil {
		return "ERROR empty request"
	}
	switch r.Verb {
	case "REREAD":
		if d.Reload != nil {
			cfg, err := d.Reload()
			if err != nil {
				return "ERROR " + strings.ReplaceAll(err.Error(), "\n", "; ")
			}
			n, ok := cfg.Node(d.Node)
			if !ok {
				return "ERROR this host is not a node of the cluster"
			}
			d.mu.Lock()
			d.Cfg = cfg
			d.plan = NewPlan(n, DefaultFaulty)
			d.mu.Unlock()
		} else {
			d.mu.Lock()
			d.plan.Resume()
			d.mu.Unlock()
		}
		d.Log.Infof("REREAD: configuration re-read, monitoring every network again")
		select {
		case d.wake <- struct{}{}:
		default:
		}
		return "OK"
	case "STATUS":
		d.mu.Lock()
		defer d.mu.Unlock()
		var out []string
		for _, nw := range d.plan.Networks {
			st := "watched"
			if d.plan.Stopped(nw.Name) {
				st = "stopped"
			}
			out = append(out, nw.Name+"="+st)
		}
		return strings.Join(out, ",")
	case "ECHO":
		return "UP"
	case "ABORT":
		d.Log.Infof("ABORT received - network daemon stopping.")
		go quit()
		return "OK"
	}
	return "UNKNOWN_REQUEST " + r.Verb
}
