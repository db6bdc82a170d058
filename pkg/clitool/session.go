package clitool

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/linuxha-ng/linuxha/pkg/config"
	"github.com/linuxha-ng/linuxha/pkg/layout"
	"github.com/linuxha-ng/linuxha/pkg/logx"
	"github.com/linuxha-ng/linuxha/pkg/remote"
	"github.com/linuxha-ng/linuxha/pkg/state"
)

// Peer returns an ssh handle on the other node that tries its topology
// addresses after its name and logs the address it settles on as
// L1851-1853 do ("SSH communication to serverb will be:" /
// "192.168.0.134 ("public" network)").
func Peer(l layout.Layout, cfg *config.Cluster, node string, log *logx.Logger) *remote.Peer {
	p := &remote.Peer{Node: node, ConnectTimeout: 2 * time.Second}
	top, _ := state.ReadTopology(l.Topology())
	for _, ca := range top.Addrs(node) {
		p.Addrs = append(p.Addrs, remote.Addr{Host: ca.Prefix.Addr().String(), Network: ca.Network})
	}
	p.OnSelect = func(a remote.Addr) {
		if a.Network == "" {
			// The name answered: say which address and network that is.
			for _, ca := range top.Addrs(node) {
				if addr, err := netip.ParseAddr(resolve(a.Host)); err == nil && ca.Prefix.Addr() == addr {
					a = remote.Addr{Host: addr.String(), Network: ca.Network}
				}
			}
		}
		log.Infof("SSH communication to %s will be:", node)
		log.Infof("%s", a)
	}
	return p
}

// Ensure the peer is reachable now, so the address is chosen and logged.
func Reach(ctx context.Context, p *remote.Peer) error {
	_, err := p.Output(ctx, "true")
	return err
}

// Bin returns the path of a sibling linuxha command.
func Bin(name string) string {
	exe, err := os.Executable()
	if err != nil {
		return name
	}
	return filepath.Join(filepath.Dir(exe), name)
}

// Plural renders "1 application" / "2 applications".
func Plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}
