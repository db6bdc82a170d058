package monitors

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/linuxha-ng/linuxha/pkg/appnet"
	"github.com/linuxha-ng/linuxha/pkg/probe"
	"github.com/linuxha-ng/linuxha/pkg/state"
)

// netEnv is what the address monitors share: the application's addresses
// on this node.
type netEnv struct {
	env *Env
}

func (n netEnv) addrs() ([]appnet.Addr, state.Topology, error) {
	top, err := state.ReadTopology(n.env.L.Topology())
	if err != nil {
		return nil, nil, err
	}
	as, err := appnet.Addresses(n.env.AppConf, top, n.env.Me)
	return as, top, err
}

// IPModule checks that every application address is on a card here,
// assigning a missing one, and pings each network's checklist; it answers
// rc 1 when fewer hosts answer than checkpercent asks (§24.4.2,
// L7236-7240), which the sample maps to "RUN move_ip".
type IPModule struct {
	netEnv
	ping func(ctx context.Context, kind, host string, timeout time.Duration) bool
	mu   sync.Mutex // guards last
	last string
}

func NewIPModule(env *Env, _ []string) (Monitor, error) {
	if env.AppConf == nil {
		return nil, errors.New("ip_module needs the application's configuration")
	}
	return &IPModule{netEnv: netEnv{env}, ping: probe.Echo}, nil
}

func (m *IPModule) Check(ctx context.Context) (int, string) {
	as, top, err := m.addrs()
	if err != nil {
		return 2, err.Error()
	}
	for _, a := range as {
		if _, err := appnet.LinkWith(a.Prefix.Addr()); err == nil {
			continue
		}
		card, err := appnet.Add(top, m.env.Me, a)
		if err != nil {
			m.env.Log.Warnf("Address %s of %s is missing and could not be assigned: %v", a.Prefix.Addr(), m.env.App, err)
			return 1, a.Prefix.Addr().String()
		}
		m.env.Log.Warnf("Address %s of %s was missing: assigned to %s.", a.Prefix.Addr(), m.env.App, card)
	}
	var report []string
	rc := 0
	for _, n := range m.env.AppConf.Networks {
		if len(n.Checklist) == 0 {
			continue
		}
		ok := 0
		for _, h := range n.Checklist {
			if m.ping(ctx, n.PingType, h, n.PingTimeout) {
				ok++
			}
		}
		pct := ok * 100 / len(n.Checklist)
		report = append(report, fmt.Sprintf("%s:%d/%d", n.Net, ok, len(n.Checklist)))
		if pct < n.CheckPercent {
			rc = 1
		}
	}
	m.mu.Lock()
	m.last = strings.Join(report, ",")
	m.mu.Unlock()
	return rc, strings.Join(report, ",")
}

func (m *IPModule) Stat() string { m.mu.Lock(); defer m.mu.Unlock(); return m.last }

// LinkModule answers rc 1 when a card carrying an application address has
// lost its link beat (§24.4.3, L7242-7244).
type LinkModule struct{ netEnv }

func NewLinkModule(env *Env, _ []string) (Monitor, error) {
	if env.AppConf == nil {
		return nil, errors.New("link_module needs the application's configuration")
	}
	return &LinkModule{netEnv{env}}, nil
}

func (m *LinkModule) Check(context.Context) (int, string) {
	as, _, err := m.addrs()
	if err != nil {
		return 2, err.Error()
	}
	for _, a := range as {
		l, err := appnet.LinkWith(a.Prefix.Addr())
		if err != nil {
			return 1, a.Prefix.Addr().String() + " on no card"
		}
		if !carrier(l) {
			return 1, l.Attrs().Name
		}
	}
	return 0, ""
}

func carrier(l netlink.Link) bool {
	return l.Attrs().RawFlags&unix.IFF_LOWER_UP != 0 && l.Attrs().Flags&unix.IFF_UP != 0
}

// IPMove puts each application address on a working card of its network
// (§24.4.4, L7246-7250). It remembers the cards it moved to and does not
// go back to one used in the last MoveWindow; more than MaxMoves moves in
// that window answer rc 1 ("the Failover action should occur").
type IPMove struct {
	netEnv
	now   func() time.Time
	mu    sync.Mutex // guards moves
	moves []move
}

type move struct {
	at   time.Time
	from string
}

const (
	MoveWindow = 10 * time.Minute
	MaxMoves   = 3
)

func NewIPMove(env *Env, _ []string) (Monitor, error) {
	if env.AppConf == nil {
		return nil, errors.New("ip_move_interface needs the application's configuration")
	}
	return &IPMove{netEnv: netEnv{env}, now: time.Now}, nil
}

func (m *IPMove) Check(context.Context) (int, string) {
	as, _, err := m.addrs()
	if err != nil {
		return 1, err.Error()
	}
	node, ok := m.env.Cluster.Node(m.env.Me)
	if !ok {
		return 1, "not a node"
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	recent := m.moves[:0]
	for _, mv := range m.moves {
		if now.Sub(mv.at) < MoveWindow {
			recent = append(recent, mv)
		}
	}
	m.moves = recent
	for _, a := range as {
		cur, err := appnet.LinkWith(a.Prefix.Addr())
		if err == nil && carrier(cur) {
			continue
		}
		if len(m.moves) >= MaxMoves {
			return 1, fmt.Sprintf("%d address moves in %v", len(m.moves), MoveWindow)
		}
		var cards []string
		for _, nw := range node.Networks {
			if nw.Name == a.Net {
				cards = nw.Cards
			}
		}
		target := ""
		for _, c := range cards {
			if cur != nil && c == cur.Attrs().Name || m.usedRecently(c) {
				continue
			}
			if l, err := netlink.LinkByName(c); err == nil && carrier(l) {
				target = c
				break
			}
		}
		if target == "" {
			return 1, "no working card on network " + a.Net
		}
		from := ""
		if cur != nil {
			from = cur.Attrs().Name
			appnet.Remove(a)
		}
		l, _ := netlink.LinkByName(target)
		if err := appnet.AddOn(l, a); err != nil {
			return 1, err.Error()
		}
		m.moves = append(m.moves, move{now, from})
		m.env.Log.Warnf("Moved %s of %s from %q to %s.", a.Prefix.Addr(), m.env.App, from, target)
	}
	return 0, ""
}

func (m *IPMove) usedRecently(card string) bool {
	for _, mv := range m.moves {
		if mv.from == card {
			return true
		}
	}
	return false
}

func (m *IPMove) Stat() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var s []string
	for _, mv := range m.moves {
		s = append(s, fmt.Sprintf("%d:%s", mv.at.Unix(), mv.from))
	}
	return strings.Join(s, ",")
}
