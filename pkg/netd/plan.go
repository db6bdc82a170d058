// Package netd is the cluster network daemon, clnetd (Reference §5.6
// L830-864, §21.2.1 L6251-6327): it watches the link state of every card
// of this node's topology, moves all addresses of a card that lost its
// carrier to a standby card of the same network and announces them with
// gratuitous ARP, and tells cldaemon when a network has no working card
// left.
//
// Plan is the pure decision; Daemon is the I/O shell around it.
package netd

import (
	"fmt"
	"net/netip"
	"sort"
	"time"

	"github.com/linuxha-ng/linuxha/pkg/config"
)

// Link is one card as the kernel reports it.
type Link struct {
	Name    string
	Exists  bool
	Carrier bool
	Addrs   []netip.Prefix // IPv4 addresses it holds
}

// Snapshot is every watched card, by name.
type Snapshot map[string]Link

// Kind of action.
type Kind int

const (
	Move      Kind = 1 + iota // move Addrs from card From to card To
	NetFailed                 // no usable card left on Network: tell cldaemon
)

// Action is one thing the shell must do, with its reason for the log.
type Action struct {
	Kind    Kind
	Network string
	From    string
	To      string
	Addrs   []netip.Prefix
	Reason  string
}

func (a Action) String() string {
	switch a.Kind {
	case Move:
		return fmt.Sprintf("move %v from %s to %s (%s)", a.Addrs, a.From, a.To, a.Reason)
	case NetFailed:
		return fmt.Sprintf("network %s failed (%s)", a.Network, a.Reason)
	}
	return "unknown"
}

// DefaultFaulty is how long a card that lost its carrier is not chosen
// again (the Reference leaves the period unstated, L854, L6269).
const DefaultFaulty = 60 * time.Second

// Plan holds what the daemon remembers between events: when each card
// was last made active, when each last failed, and which networks it has
// stopped watching (until REREAD, L858-861).
type Plan struct {
	Networks []config.Network
	Faulty   time.Duration

	lastUsed map[string]time.Time
	failedAt map[string]time.Time
	stopped  map[string]bool
	prev     Snapshot
}

// NewPlan watches the networks of one node. Crossover networks are not
// link-checked (FAQ 3.3): a dead peer looks like a cut cable there.
func NewPlan(n *config.Node, faulty time.Duration) *Plan {
	p := &Plan{Faulty: faulty, lastUsed: map[string]time.Time{}, failedAt: map[string]time.Time{}, stopped: map[string]bool{}}
	for _, nw := range n.Networks {
		if !nw.Crossover {
			p.Networks = append(p.Networks, nw)
		}
	}
	return p
}

// Cards lists every card the plan watches.
func (p *Plan) Cards() []string {
	var out []string
	for _, nw := range p.Networks {
		out = append(out, nw.Cards...)
	}
	return out
}

// Stopped reports whether the plan no longer watches network.
func (p *Plan) Stopped(network string) bool { return p.stopped[network] }

// Resume watches every network again (REREAD).
func (p *Plan) Resume() { p.stopped = map[string]bool{} }

// Step compares cur with the previous snapshot and decides. The first
// snapshot only records: addresses on cards already down at start are
// moved too, since nothing else will move them.
func (p *Plan) Step(now time.Time, cur Snapshot) []Action {
	var acts []Action
	first := p.prev == nil
	for _, nw := range p.Networks {
		if p.stopped[nw.Name] {
			continue
		}
		for _, card := range nw.Cards {
			c := cur[card]
			was, seen := p.prev[card]
			lost := (!c.Carrier || !c.Exists) && (first || !seen || was.Carrier && was.Exists)
			if !lost {
				if c.Carrier && len(c.Addrs) > 0 && p.lastUsed[card].IsZero() {
					p.lastUsed[card] = now
				}
				continue
			}
			p.failedAt[card] = now
			if len(c.Addrs) == 0 {
				continue
			}
			to, ok := p.standby(now, nw, card, cur)
			if !ok {
				acts = append(acts, Action{Kind: NetFailed, Network: nw.Name, From: card, Addrs: c.Addrs,
					Reason: fmt.Sprintf("card %s lost its link and no other card of network %s works", card, nw.Name)})
				p.stopped[nw.Name] = true
				break
			}
			acts = append(acts, Action{Kind: Move, Network: nw.Name, From: card, To: to, Addrs: c.Addrs,
				Reason: fmt.Sprintf("card %s lost its link", card)})
			p.lastUsed[to] = now
			// What was on the failed card is on the target now.
			t := cur[to]
			t.Addrs = append(append([]netip.Prefix(nil), t.Addrs...), c.Addrs...)
			cur[to] = t
			c.Addrs = nil
			cur[card] = c
		}
	}
	p.prev = cur
	return acts
}

// standby picks the card to take over from failed: a working card of the
// same network, never used before if there is one, else the one used
// longest ago; never one that failed within the faulty period (L840-854).
func (p *Plan) standby(now time.Time, nw config.Network, failed string, cur Snapshot) (string, bool) {
	var cands []string
	for _, c := range nw.Cards {
		l := cur[c]
		if c == failed || !l.Exists || !l.Carrier {
			continue
		}
		if f, ok := p.failedAt[c]; ok && now.Sub(f) < p.Faulty {
			continue
		}
		cands = append(cands, c)
	}
	if len(cands) == 0 {
		return "", false
	}
	sort.SliceStable(cands, func(i, j int) bool {
		return p.lastUsed[cands[i]].Before(p.lastUsed[cands[j]]) // zero (never used) sorts first
	})
	return cands[0], true
}
