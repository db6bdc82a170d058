package clbuild

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/linuxha-ng/linuxha/pkg/backup"
	"github.com/linuxha-ng/linuxha/pkg/clitool"
	"github.com/linuxha-ng/linuxha/pkg/config"
	"github.com/linuxha-ng/linuxha/pkg/daemonapi"
	"github.com/linuxha-ng/linuxha/pkg/layout"
	"github.com/linuxha-ng/linuxha/pkg/logx"
	"github.com/linuxha-ng/linuxha/pkg/nodefacts"
	"github.com/linuxha-ng/linuxha/pkg/probe"
	"github.com/linuxha-ng/linuxha/pkg/remote"
	"github.com/linuxha-ng/linuxha/pkg/state"
)

// Builder runs clbuild on the node where clconf.xml was written.
type Builder struct {
	L     layout.Layout
	Log   *logx.Logger
	Force bool
	Exe   string // this program, run on the peer for "probe", "apply" and "backup"
	Now   func() time.Time
}

// Run checks and builds. A refusal returns an error whose text is the one
// line to print; nothing has been changed on either node then.
func (b *Builder) Run(ctx context.Context) error {
	conf := b.L.Clconf()
	st, err := os.Stat(conf)
	if err != nil {
		return clitool.ConfigError(fmt.Errorf("Cluster configuration file %s does not exist", conf))
	}
	if err := clitool.CheckOwner(conf, st); err != nil {
		return clitool.ConfigError(err)
	}
	b.Log.Infof("Checking for required global entries")
	cfg, warns, err := config.LoadCluster(conf)
	if err != nil {
		return clitool.ConfigError(err)
	}
	if err := config.CheckKey(cfg.Key); err != nil {
		return clitool.ConfigError(fmt.Errorf("%s:%d: %w", conf, keyLine(conf), err))
	}
	if cfg.Membership.Etcd() {
		return b.buildEtcd(ctx, conf, cfg)
	}
	b.Log.Infof("Optional dataprotocol setting validated.")
	b.Log.Infof("Checking global Port Pool details")
	b.Log.Infof("Checking global Maximum block devices")
	b.Log.Infof("Checking configuration file version information")
	b.Log.Infof("Checking data detail value (and dependent required values)")
	b.Log.Infof("Checking type of data required")
	b.Log.Infof("Global section configuration validation complete")

	host := cfg.ThisNode()
	me, ok := cfg.Node(host)
	if !ok {
		return fmt.Errorf("This host (%s) is not one of the nodes in %s (%s)", host, conf, strings.Join(cfg.NodeNames(), ", "))
	}
	peerNode, _ := cfg.Peer(me.Name)
	args := func(n *config.Node) nodefacts.ProbeArgs {
		return nodefacts.ProbeArgs{Port: cfg.Port, DataDetail: cfg.DataDetail, Cards: n.Cards(), Names: cfg.NodeNames(), LoadDRBD: cfg.DataDetail == "drbd"}
	}
	local := nodefacts.Probe(ctx, b.L, args(me))
	local.Host = me.Name
	// C11 before C12: ssh to a name that does not resolve says less.
	if err := resolveCheck(cfg, local); err != nil {
		return err
	}

	peer := &remote.Peer{Node: peerNode.Name, OnSelect: func(a remote.Addr) {
		// Name the address and its network as L1851-1853 do.
		if a.Network == "" {
			if ip := local.Resolve[a.Host]; ip != "" {
				a = remote.Addr{Host: ip, Network: networkOf(me, local, ip)}
			}
		}
		b.Log.Infof("SSH communication to %s will be: %s", peerNode.Name, a)
	}}
	if top, err := state.ReadTopology(b.L.Topology()); err == nil {
		for _, ca := range top.Addrs(peerNode.Name) {
			peer.Addrs = append(peer.Addrs, remote.Addr{Host: ca.Prefix.Addr().String(), Network: ca.Network})
		}
	}
	pa := args(peerNode)
	pa.SSHBack = me.Name
	pf, err := b.remoteProbe(ctx, peer, pa)
	if err != nil {
		return err
	}
	pf.Host = peerNode.Name

	reach := pingAll(ctx, local, pf)
	res := Check(Input{Cfg: cfg, Warnings: warns, Local: local, Peer: pf, Reach: reach, Force: b.Force})
	for _, l := range res.Lines {
		b.Log.Log(l.Level, l.Text)
	}
	if res.Err != nil {
		return res.Err
	}
	warnings := res.Warnings

	// Every check passed: from here on, change things. The peer's files
	// are at their real paths there.
	peerL := layout.Layout{}
	if local.Built || pf.ClconfMD5 != "" {
		if name, err := backup.Backup(b.L, b.now()); err != nil {
			return fmt.Errorf("archive configuration on %s: %w", me.Name, err)
		} else if name != "" {
			b.Log.Infof("Archived previous configuration on %s to %s", me.Name, name)
		}
		if out, err := peer.Output(ctx, b.Exe, "backup"); err != nil {
			return fmt.Errorf("archive configuration on %s: %w", peerNode.Name, err)
		} else if s := strings.TrimSpace(string(out)); s != "" {
			b.Log.Infof("Archived previous configuration on %s to %s", peerNode.Name, s)
		}
	}
	if err := state.WriteTopology(b.L.Topology(), res.Topology); err != nil {
		return err
	}
	if err := peer.WriteFile(ctx, peerL.Topology(), res.Topology.Marshal(), 0o644); err != nil {
		return err
	}
	b.Log.Infof("Successfully copied network configuration to %s.", peerNode.Name)
	data, err := os.ReadFile(conf)
	if err != nil {
		return err
	}
	if err := peer.WriteFile(ctx, peerL.Clconf(), data, 0o600); err != nil {
		return err
	}
	for _, extra := range []string{b.L.Cllocks(), b.L.Clstartup()} {
		if d, err := os.ReadFile(extra); err == nil {
			if err := peer.WriteFile(ctx, filepath.Join(peerL.ClusterDir(), filepath.Base(extra)), d, 0o644); err != nil {
				return err
			}
			b.Log.Infof("Copied %s to %s", filepath.Base(extra), peerNode.Name)
		}
	}

	lr, err := Apply(b.L, cfg)
	if err != nil {
		return fmt.Errorf("create resources on %s: %w", me.Name, err)
	}
	warnings += b.report(me.Name, lr)
	out, err := peer.Output(ctx, b.Exe, "apply")
	if err != nil {
		return fmt.Errorf("create resources on %s: %w", peerNode.Name, err)
	}
	var rr Applied
	if err := json.Unmarshal(out, &rr); err != nil {
		return fmt.Errorf("create resources on %s: bad answer %q", peerNode.Name, out)
	}
	warnings += b.report(peerNode.Name, rr)

	sum, err := state.WriteChecksum(b.L.BuildChecksum(), conf)
	if err != nil {
		return err
	}
	b.Log.Infof("Transferring cluster build checksum to %s", peerNode.Name)
	if err := peer.WriteFile(ctx, peerL.BuildChecksum(), []byte(sum+"\n"), 0o600); err != nil {
		return err
	}
	b.Log.Infof("Successfully copied clconf.xml to %s", peerNode.Name)
	if b.Force {
		b.reconfigure(ctx, cfg)
	}
	b.Log.Infof("")
	if warnings == 0 {
		b.Log.Infof("Clbuild has completed without errors or warnings")
	} else {
		b.Log.Infof("Clbuild has completed with %d warning(s)", warnings)
	}
	b.Log.Infof("")
	return nil
}

// reconfigure tells the running cluster daemons to re-read the new
// configuration, as a rebuild of a running cluster does (FAQ 4.2: it
// will "inform the running cluster daemons to reconfigure themselves").
func (b *Builder) reconfigure(ctx context.Context, cfg *config.Cluster) {
	c, err := daemonapi.NewClient(b.L, cfg)
	if err != nil {
		return
	}
	for _, n := range cfg.NodeNames() {
		reply, err := c.Call(ctx, n, daemonapi.Reconfigure)
		switch {
		case err != nil:
			// No daemon there: nothing to tell.
		case reply == daemonapi.OK:
			b.Log.Infof("Cluster daemon on %s reconfigured.", n)
		default:
			b.Log.Warnf("Cluster daemon on %s did not reconfigure: %s", n, reply)
		}
	}
}

func (b *Builder) now() time.Time {
	if b.Now != nil {
		return b.Now()
	}
	return time.Now()
}

func (b *Builder) report(node string, a Applied) int {
	if a.PortsDirCreated {
		b.Log.Infof("Created Port Resources directory on %s", node)
	}
	b.Log.Infof("Created %d port allocation files on %s", a.Ports, node)
	if a.DrbdDirCreated {
		b.Log.Infof("Created DRBD Resources directory on %s", node)
	}
	b.Log.Infof("Created %d DRBD allocation files on %s", a.Minors, node)
	for _, s := range a.Stranded {
		b.Log.Warnf("%s on %s is allocated but outside the configured pool; it is kept", s, node)
	}
	return len(a.Stranded)
}

func (b *Builder) remoteProbe(ctx context.Context, peer *remote.Peer, a nodefacts.ProbeArgs) (nodefacts.Facts, error) {
	argv := []string{b.Exe, "probe", "--port", strconv.Itoa(a.Port), "--datadetail", a.DataDetail,
		"--cards", strings.Join(a.Cards, ","), "--names", strings.Join(a.Names, ","), "--ssh-back", a.SSHBack}
	if a.LoadDRBD {
		argv = append(argv, "--load-drbd")
	}
	res, err := peer.Run(ctx, argv...)
	if err != nil {
		return nodefacts.Facts{}, err
	}
	if res.Code == 126 || res.Code == 127 {
		return nodefacts.Facts{}, fmt.Errorf("linuxha is not installed on %s (%s not found)", peer.Node, b.Exe)
	}
	if res.Code != 0 {
		return nodefacts.Facts{}, fmt.Errorf("probe of %s failed: %s", peer.Node, strings.TrimSpace(string(res.Stderr)))
	}
	var f nodefacts.Facts
	if err := json.Unmarshal(res.Stdout, &f); err != nil {
		return nodefacts.Facts{}, fmt.Errorf("probe of %s: bad answer: %w", peer.Node, err)
	}
	return f, nil
}

// networkOf names the network of node n whose subnet holds ip, or "".
func networkOf(n *config.Node, f nodefacts.Facts, ip string) string {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return ""
	}
	for _, nw := range n.Networks {
		for _, c := range nw.Cards {
			for _, a := range f.Cards[c].Addrs {
				if p, err := netip.ParsePrefix(a); err == nil && p.Masked().Contains(addr) {
					return nw.Name
				}
			}
		}
	}
	return ""
}

// pingAll sends one ICMP echo to every topology address of both nodes
// at once (C13).
func pingAll(ctx context.Context, fs ...nodefacts.Facts) map[string]bool {
	var addrs []string
	for _, f := range fs {
		for _, c := range f.Cards {
			for _, a := range c.Addrs {
				addr, _, _ := strings.Cut(a, "/")
				addrs = append(addrs, addr)
			}
		}
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	out := map[string]bool{}
	for _, a := range addrs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok := probe.Ping(ctx, a, time.Second)
			mu.Lock()
			out[a] = ok
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

// Applied is what Apply did on one node.
type Applied struct {
	PortsDirCreated bool     `json:"ports_dir_created"`
	DrbdDirCreated  bool     `json:"drbd_dir_created"`
	Ports           int      `json:"ports"`
	Minors          int      `json:"minors"`
	Stranded        []string `json:"stranded,omitempty"`
}

// Apply creates the node's log directories and resource flag files from
// its clconf.xml; existing allocations are kept (L1742).
func Apply(l layout.Layout, cfg *config.Cluster) (Applied, error) {
	var a Applied
	for _, d := range []string{l.Path(cfg.LogDir), l.LemsLogDir(), l.FsmapDir(), l.Path("/etc/cluster/.status")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return a, err
		}
	}
	_, err := os.Stat(l.PortsDir())
	a.PortsDirCreated = errors.Is(err, fs.ErrNotExist)
	_, err = os.Stat(l.DrbdDir())
	a.DrbdDirCreated = errors.Is(err, fs.ErrNotExist)
	n, stranded, err := state.Pool{Dir: l.PortsDir()}.Ensure(cfg.PortPoolMin, cfg.PortPoolMax)
	if err != nil {
		return a, err
	}
	a.Ports = n
	for _, s := range stranded {
		a.Stranded = append(a.Stranded, fmt.Sprintf("Port %d (%s)", s.N, s.Owner))
	}
	n, stranded, err = state.Pool{Dir: l.DrbdDir()}.Ensure(0, cfg.MaxBlockDevs-1)
	if err != nil {
		return a, err
	}
	a.Minors = n
	for _, s := range stranded {
		a.Stranded = append(a.Stranded, fmt.Sprintf("DRBD device %d (%s)", s.N, s.Owner))
	}
	return a, nil
}
