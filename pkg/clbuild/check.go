package clbuild

import (
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/linuxha-ng/linuxha/pkg/config"
	"github.com/linuxha-ng/linuxha/pkg/logx"
	"github.com/linuxha-ng/linuxha/pkg/nodefacts"
	"github.com/linuxha-ng/linuxha/pkg/state"
)

// Line is one line of the build log.
type Line struct {
	Level logx.Level
	Text  string
}

// Input is everything the checks look at.
type Input struct {
	Cfg      *config.Cluster
	Warnings config.Problems // from parsing clconf.xml
	Local    nodefacts.Facts
	Peer     nodefacts.Facts
	Reach    map[string]bool // topology address -> answered a ping (C13)
	Force    bool
}

// Result of the checks: the log lines in the Reference's order, the
// topology found, and the first refusal (nil when the build may go on).
type Result struct {
	Lines    []Line
	Topology state.Topology
	Warnings int
	Err      error
}

type checker struct {
	r Result
}

func (c *checker) info(format string, a ...any) {
	c.r.Lines = append(c.r.Lines, Line{logx.Info, fmt.Sprintf(format, a...)})
}
func (c *checker) warn(format string, a ...any) {
	c.r.Warnings++
	c.r.Lines = append(c.r.Lines, Line{logx.Warn, fmt.Sprintf(format, a...)})
}

// refuse ends the checks with one line naming the problem.
func (c *checker) refuse(format string, a ...any) Result {
	c.r.Err = fmt.Errorf(format, a...)
	return c.r
}

// Check runs C2-C19 and R1-R3 over both nodes' facts. It does no I/O.
func Check(in Input) Result {
	var c checker
	cfg := in.Cfg
	local, ok := cfg.Node(in.Local.Host)
	if !ok {
		return c.refuse("This host (%s) is not one of the nodes in %s (%s)", in.Local.Host, cfg.File, strings.Join(cfg.NodeNames(), ", "))
	}
	peer, _ := cfg.Peer(local.Name)
	for _, w := range in.Warnings {
		c.warn("%s", w.Error())
	}
	c.info("Checking cluster timing details")
	c.info("Checking node section details")
	c.info("Checking IP address resolution")
	for _, f := range []nodefacts.Facts{in.Local, in.Peer} {
		if err := resolveCheck(cfg, f); err != nil {
			c.r.Err = err
			return c.r
		}
	}
	c.info("Checking ssh capability between Primary IP addresses (node names).")
	if in.Peer.SSHBack != "" {
		return c.refuse("%s cannot ssh back to %s: %s", peer.Name, local.Name, in.Peer.SSHBack)
	}
	// Both nodes run each other's tools over ssh and speak one protocol:
	// the same build on both, as README's install section requires.
	if in.Local.Version != in.Peer.Version {
		pv := in.Peer.Version
		if pv == "" {
			pv = "unknown (older than 0.1)"
		}
		return c.refuse("linuxha versions differ: %s has %s, %s has %s; install the same version on both nodes", local.Name, in.Local.Version, peer.Name, pv)
	}
	c.info("linuxha version %s on both nodes.", in.Local.Version)

	nodes := []struct {
		n *config.Node
		f nodefacts.Facts
	}{{local, in.Local}, {peer, in.Peer}}
	for _, nd := range nodes {
		var names []string
		for _, nw := range nd.n.Networks {
			names = append(names, nw.Name)
		}
		c.info("Networks defined for %s: %s", nd.n.Name, strings.Join(names, " "))
	}
	subnets := map[string]map[netip.Prefix]string{} // node -> subnet -> network
	for _, nd := range nodes {
		subnets[nd.n.Name] = map[netip.Prefix]string{}
		for _, nw := range nd.n.Networks {
			var first string
			for _, card := range nw.Cards {
				cf := nd.f.Cards[card]
				if !cf.Exists {
					return c.refuse("Card %s of network %s does not exist on %s", card, nw.Name, nd.n.Name)
				}
				if !cf.Up {
					c.warn("Card %s of network %s on %s is not up; standby cards must be active", card, nw.Name, nd.n.Name)
				}
				for _, a := range cf.Addrs {
					p, err := netip.ParsePrefix(a)
					if err != nil {
						continue
					}
					if first == "" {
						first = card + " - " + p.Addr().String()
					}
					if other, dup := subnets[nd.n.Name][p.Masked()]; dup && other != nw.Name {
						return c.refuse("Networks %s and %s of %s are on the same subnet %s; every network needs its own subnet", other, nw.Name, nd.n.Name, p.Masked())
					}
					subnets[nd.n.Name][p.Masked()] = nw.Name
				}
				c.r.Topology = append(c.r.Topology, state.CardAddr{Node: nd.n.Name, Network: nw.Name, Card: card, Prefix: firstPrefix(cf.Addrs)})
			}
			switch {
			case first != "":
				c.info("Validated network IP for %s on %s: %s", nw.Name, nd.n.Name, first)
			case nw.Name == cfg.DRBDNetwork:
				return c.refuse("No card of the data replication network %s has an IP address on %s", nw.Name, nd.n.Name)
			default:
				c.warn("No card of network %s has an IP address on %s; it cannot carry heartbeats", nw.Name, nd.n.Name)
			}
		}
	}
	for _, nd := range nodes {
		c.info("Validated unique network/interfaces for %s:", nd.n.Name)
		var lines []string
		for _, ca := range c.r.Topology {
			if ca.Node == nd.n.Name && ca.Prefix.IsValid() {
				lines = append(lines, fmt.Sprintf("Interface %s is on network %s", ca.Card, ca.Prefix.Masked().Addr()))
			}
		}
		for _, l := range lines {
			c.info("%s", l)
		}
	}
	c.info("Validated data replication network is ok (%s).", cfg.DRBDNetwork)
	addrs := append(state.Topology(nil), c.r.Topology...)
	sort.SliceStable(addrs, func(i, j int) bool { return addrs[i].Network == cfg.DRBDNetwork && addrs[j].Network != cfg.DRBDNetwork })
	for _, ca := range addrs {
		if !ca.Prefix.IsValid() {
			continue
		}
		what := "IP address " + ca.Prefix.Addr().String() + " (" + ca.Network + ")"
		if ca.Network == cfg.DRBDNetwork {
			what = "DRBD Ip address " + ca.Prefix.Addr().String()
		}
		if in.Reach[ca.Prefix.Addr().String()] {
			c.info("Able to send ping to %s for %s", what, ca.Node)
		} else {
			c.warn("Unable to ping %s for %s", what, ca.Node)
		}
	}

	for _, nd := range nodes {
		switch {
		case !nd.f.DaemonRunning:
			c.info("Node %s is not running a cldaemon process (good)", nd.n.Name)
		case in.Force:
			c.info("Node %s is running a cldaemon process (continuing: --force)", nd.n.Name)
		default:
			return c.refuse("Node %s is running a cldaemon process; use --force to rebuild a running cluster", nd.n.Name)
		}
	}
	if in.Local.Built && !in.Force {
		return c.refuse("The cluster has already been built on %s; use --force to build it again", local.Name)
	}
	if in.Peer.ClconfMD5 != "" && in.Peer.ClconfMD5 != in.Local.ClconfMD5 && !in.Force {
		return c.refuse("%s already has a different clconf.xml; use --force to replace it", peer.Name)
	}
	for _, nd := range nodes {
		for _, cp := range nd.f.Storage {
			if !cp.Found {
				return c.refuse("%s not available on %s (%s)", cp.Name, nd.n.Name, cp.Note)
			}
			c.info("%s found on %s.", upperFirst(cp.Name), nd.n.Name)
		}
	}
	for _, nd := range nodes {
		if nd.f.LinkState {
			c.info("Physical network link state is readable on %s.", nd.n.Name)
		} else {
			c.warn("Physical network link state is not readable on %s; link monitoring will not work", nd.n.Name)
		}
	}
	return c.r
}

// resolveCheck is C11: every node name resolves on the node of f.
func resolveCheck(cfg *config.Cluster, f nodefacts.Facts) error {
	for _, n := range cfg.NodeNames() {
		if f.Resolve[n] == "" {
			return fmt.Errorf("Node name %s does not resolve to an IPv4 address on %s", n, f.Host)
		}
	}
	return nil
}

func firstPrefix(addrs []string) netip.Prefix {
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a); err == nil {
			return p
		}
	}
	return netip.Prefix{}
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// ErrRefused marks a build stopped by a check; nothing was changed.
var ErrRefused = errors.New("clbuild: refused")
