// Package volumes holds an application's replicated volumes as the
// cluster's tools see them: the DRBD resources or filesync syncer built
// from its fsmap, resource flags and recorded topology, each volume's
// state as clstat and Lems report it, and a way to run drbd_tool for
// them. The drbd_tool command (package drbdtool) and everything else
// that starts, watches or reports volumes use it.
package volumes

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/linuxha-ng/linuxha/pkg/config"
	"github.com/linuxha-ng/linuxha/pkg/layout"
	"github.com/linuxha-ng/linuxha/pkg/remote"
	"github.com/linuxha-ng/linuxha/pkg/state"
	"github.com/linuxha-ng/linuxha/pkg/storage/drbd"
	"github.com/linuxha-ng/linuxha/pkg/storage/filesync"
)

// Volume is one fsmap entry with its DRBD resource.
type Volume struct {
	FS  state.FsEntry
	Res drbd.Resource
}

// Of builds the DRBD resources of app from the fsmap, the resource
// flags and the recorded topology; vg and lv, when set, select one.
func Of(l layout.Layout, cfg *config.Cluster, app, vg, lv string) ([]Volume, error) {
	fs, err := state.ReadFsmap(l.Fsmap(app))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("application %s has not been built: no %s", app, l.Fsmap(app))
	}
	if err != nil {
		return nil, err
	}
	top, err := state.ReadTopology(l.Topology())
	if err != nil {
		return nil, fmt.Errorf("no recorded topology (run clbuild): %w", err)
	}
	rate := 1000
	if a, _, err := config.LoadApp(l.AppConf(app)); err == nil {
		rate = a.SyncRate
	}
	var hosts [2]drbd.Host
	for i, n := range cfg.Nodes {
		hosts[i].Name = n.Name
		for _, ca := range top.Addrs(n.Name) {
			if ca.Network == cfg.DRBDNetwork {
				hosts[i].Addr = ca.Prefix.Addr()
				break
			}
		}
	}
	var out []Volume
	for _, e := range fs {
		if vg != "" && e.VG != vg || lv != "" && e.LV != lv {
			continue
		}
		o := state.Owner{App: app, VG: e.VG, LV: e.LV}
		minor, ok1, err := state.Pool{Dir: l.DrbdDir()}.Lookup(o)
		if err != nil {
			return nil, err
		}
		port, ok2, err := state.Pool{Dir: l.PortsDir()}.Lookup(o)
		if err != nil {
			return nil, err
		}
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("no DRBD device or port allocated to %s (run clbuildapp --build)", o)
		}
		out = append(out, Volume{FS: e, Res: drbd.Resource{App: app, VG: e.VG, LV: e.LV, Minor: minor, Port: port,
			Protocol: cfg.DataProtocol, RateKB: rate, Hosts: hosts, Secret: cfg.DRBDSecret(app + "_" + e.VG + "_" + e.LV)}})
	}
	// An application with no volumes at all (resources only) has
	// nothing to act on; a selection that matches nothing is an error.
	if len(out) == 0 && (vg != "" || lv != "") {
		return nil, fmt.Errorf("no volume of %s matches", app)
	}
	return out, nil
}

// SyncerTitle is the process title of an application's filesync syncer.
func SyncerTitle(app string) string { return "filesync-" + app }

// NewSyncer builds the filesync syncer of app from the fsmap, replicating
// to the peer's address on the drbd network (the replication channel, as
// for DRBD).
func NewSyncer(l layout.Layout, cfg *config.Cluster, app string) (*filesync.Syncer, error) {
	fs, err := state.ReadFsmap(l.Fsmap(app))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("application %s has not been built: no %s", app, l.Fsmap(app))
	}
	if err != nil {
		return nil, err
	}
	host := cfg.ThisNode()
	peer, ok := cfg.Peer(host)
	if !ok {
		return nil, fmt.Errorf("this host (%s) is not a node of cluster %s", host, cfg.Name)
	}
	addr := peer.Name
	if top, err := state.ReadTopology(l.Topology()); err == nil {
		for _, ca := range top.Addrs(peer.Name) {
			if ca.Network == cfg.DRBDNetwork {
				addr = ca.Prefix.Addr().String()
				break
			}
		}
	}
	s := &filesync.Syncer{Host: addr, PeerNode: peer.Name, StatusDir: l.StatusDir(app),
		SSH: []string{"ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=5"}, Period: 30 * time.Second}
	for _, e := range fs {
		s.Dirs = append(s.Dirs, filesync.Dir{VG: e.VG, LV: e.LV, Path: e.MountPoint})
	}
	return s, nil
}

// SyncerPid returns the pid of the application's running syncer, 0 if none.
func SyncerPid(l layout.Layout, app string) int {
	b, err := os.ReadFile(filesync.PidFile(l.StatusDir(app)))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	if pid <= 0 {
		return 0
	}
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil || !strings.HasPrefix(SyncerTitle(app), strings.TrimSpace(string(comm))) {
		return 0
	}
	return pid
}

// SyncerRunning reports whether app's filesync syncer runs on this node:
// the application is active here.
func SyncerRunning(l layout.Layout, app string) bool { return SyncerPid(l, app) != 0 }

// SyncNow asks app's filesync syncer on this node for a pass at once, a
// checksum one (SIGUSR1, as drbd_tool invalidate_remote sends); false
// when no syncer runs here.
func SyncNow(l layout.Layout, app string) (bool, error) {
	pid := SyncerPid(l, app)
	if pid == 0 {
		return false, nil
	}
	if err := syscall.Kill(pid, syscall.SIGUSR1); err != nil {
		return false, fmt.Errorf("filesync syncer of %s (pid %d): %w", app, pid, err)
	}
	return true, nil
}

// State is one volume as this node sees it (APP_STATUS's lvinfo carries
// it as daemonapi.Volume, a conversion away).
type State struct {
	MountPoint string
	Valid      string // both, local, remote or none: seen from this node
	Type       string // drbd or filesync (asynchronous)
	State      string // Sync, Syncing or Unsync
	Percent    float64
	ETA        time.Duration
}

// States reports each volume of app as this node sees it: from the
// replication driver while it runs, else from the STALE flags.
func States(ctx context.Context, l layout.Layout, cfg *config.Cluster, app, me, peer string) ([]State, error) {
	fs, err := state.ReadFsmap(l.Fsmap(app))
	if err != nil {
		return nil, err
	}
	flags := func(e state.FsEntry) string {
		_, errL := os.Stat(l.StaleFile(app, e.VG, e.LV, me))
		_, errR := os.Stat(l.StaleFile(app, e.VG, e.LV, peer))
		switch {
		case errL != nil && errR != nil:
			return "both"
		case errL != nil:
			return "local"
		case errR != nil:
			return "remote"
		}
		return "none"
	}
	var out []State
	if cfg.DataDetail == "filesync" {
		st, stErr := filesync.ReadState(l.StatusDir(app))
		running := SyncerPid(l, app) != 0
		for _, e := range fs {
			v := State{MountPoint: e.MountPoint, Type: "filesync", Valid: flags(e), State: "Unsync"}
			if stErr == nil && running {
				for _, s := range st.Vols {
					if s.VG != e.VG || s.LV != e.LV {
						continue
					}
					switch {
					case s.LastErr != "":
					case s.Syncing || s.Pending:
						v.State = "Syncing"
					case s.Complete:
						v.State = "Sync"
					}
				}
			}
			out = append(out, v)
		}
		return out, nil
	}
	vols, err := Of(l, cfg, app, "", "")
	if err != nil {
		return nil, err
	}
	d := &drbd.Driver{ConfDir: l.DrbdConfDir()}
	for _, vol := range vols {
		v := State{MountPoint: vol.FS.MountPoint, Type: "drbd", Valid: flags(vol.FS), State: "Unsync"}
		if s, err := d.Status(ctx, vol.Res); err == nil {
			local, remote := s.Disk == "UpToDate", s.PeerDisk == "UpToDate"
			switch {
			case local && remote:
				v.Valid = "both"
			case local:
				v.Valid = "local"
			case remote:
				v.Valid = "remote"
			}
			switch {
			case s.Syncing:
				v.State, v.Percent, v.ETA = "Syncing", s.Percent, s.ETA
			case s.Synced():
				v.State = "Sync"
			}
		}
		out = append(out, v)
	}
	return out, nil
}

// Invoke runs the drbd_tool command for app on this node (p nil) or on the peer, as
// the build and start tools do; the error carries the tool's output.
func Invoke(ctx context.Context, p *remote.Peer, app string, args ...string) error {
	argv := append([]string{"--application", app}, args...)
	if p == nil {
		out, err := exec.CommandContext(ctx, layout.Bin("drbd_tool"), argv...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("drbd_tool %s: %s", strings.Join(args, " "), strings.TrimSpace(string(out)))
		}
		return nil
	}
	_, err := p.Output(ctx, append([]string{layout.Bin("drbd_tool")}, argv...)...)
	return err
}
