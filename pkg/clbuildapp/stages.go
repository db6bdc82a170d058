// Package clbuildapp takes an application's file systems into replicated
// storage in the Reference's four stages (§8.3-8.7, L2064-2316; samples
// L3896-4151): --check, --vgbuild, --build and --sync. Each stage records
// or verifies a checksum of appconf.xml, so that stages run in order and a
// changed configuration is rebuilt before it is used (L2137, L2889-2894).
package clbuildapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/linuxha-ng/linuxha/pkg/backup"
	"github.com/linuxha-ng/linuxha/pkg/clitool"
	"github.com/linuxha-ng/linuxha/pkg/config"
	"github.com/linuxha-ng/linuxha/pkg/daemonapi"
	"github.com/linuxha-ng/linuxha/pkg/layout"
	"github.com/linuxha-ng/linuxha/pkg/logx"
	"github.com/linuxha-ng/linuxha/pkg/nodefacts"
	"github.com/linuxha-ng/linuxha/pkg/progress"
	"github.com/linuxha-ng/linuxha/pkg/remote"
	"github.com/linuxha-ng/linuxha/pkg/state"
	"github.com/linuxha-ng/linuxha/pkg/storage"
	"github.com/linuxha-ng/linuxha/pkg/storage/lvm"
)

// MetaKB is the size of each DRBD meta-data volume "<lv>_meta" (L1459, L2143).
const MetaKB = 128 * 1024

type builder struct {
	ctx       context.Context
	l         layout.Layout
	cfg       *config.Cluster
	name      string
	app       *config.App
	log       *logx.Logger
	force     bool
	forcesync bool
	fsmapFlag bool // --fsmap: an off-line rebuild rewrites the fsmap
	me, peer  string
	p         *remote.Peer
	local     storage.Runner
	remote    storage.Runner
	client    *daemonapi.Client
	appSum    string
	show      *progress.Printer // --sync's progress; nil shows none
}

func newBuilder(ctx context.Context, l layout.Layout, name string, log *logx.Logger, force, forcesync bool) (*builder, error) {
	log.Infof("Backups directory defaulted to /clbackup")
	cfg, err := clitool.LoadBuiltCluster(l, false)
	if err != nil {
		return nil, err
	}
	log.Infof("Global section configuration validation complete")
	client, err := daemonapi.NewClient(l, cfg)
	if err != nil {
		return nil, err
	}
	if client.Me == "" {
		return nil, fmt.Errorf("this host is not a node of cluster %s", cfg.Name)
	}
	client.Timeout = time.Second
	b := &builder{ctx: ctx, l: l, cfg: cfg, name: name, log: log, force: force, forcesync: forcesync,
		me: client.Me, peer: client.Peer(), local: storage.Exec{}, client: client}
	b.p = remote.ToNode(l.Topology(), b.peer, log.Infof)
	b.remote = remote.Runner{P: b.p}
	data, err := os.ReadFile(l.AppConf(name))
	if err != nil {
		return nil, clitool.ConfigError(fmt.Errorf("Could not find appconf.xml for %s", name))
	}
	b.appSum = state.Checksum(data)
	app, warns, err := config.ParseApp(l.AppConf(name), data)
	if err != nil {
		return nil, clitool.ConfigError(err)
	}
	for _, w := range warns {
		log.Warnf("%s", w.Error())
	}
	if app.Name != name {
		return nil, clitool.ConfigError(app.Problemf("global/name", "%q but the directory is %q", app.Name, name))
	}
	b.app = app
	return b, nil
}

// status asks the cluster daemons about the application; "" when no
// cluster daemon runs.
func (b *builder) status() (state, node string) {
	s, _, err := b.client.AnyAppStatus(b.ctx, b.name, daemonapi.StatusOptions{})
	var refused *daemonapi.Refused
	if errors.As(err, &refused) {
		return refused.Reply, ""
	}
	if err != nil {
		return "", ""
	}
	return s.State, s.Node
}

// notRunning refuses a running application without --force; it returns
// the cluster's view of it for the stage to use.
func (b *builder) notRunning() (st, node string, err error) {
	st, node = b.status()
	if st == "" {
		b.log.Infof("Cluster is not running - application status not checked.")
		return "", "", nil
	}
	b.log.Infof("Current status of application %s is: %s", b.name, st)
	if (st == daemonapi.AppStarted || st == daemonapi.AppStarting || st == daemonapi.AppStopping) && !b.force {
		return st, node, fmt.Errorf("Application %s is %s in the cluster; use --force to rebuild a running application", b.name, st)
	}
	return st, node, nil
}

// stageDone checks the checksum the previous stage recorded.
func (b *builder) stageDone(prev, this string) error {
	var sumFile string
	switch prev {
	case "build":
		sumFile = b.l.AppChecksum(b.name)
	default:
		sumFile = b.l.StageChecksum(b.name, prev)
	}
	if !state.SumMatches(sumFile, b.appSum) {
		return errors.New(state.AppChangedMessage(prev, this))
	}
	return nil
}

func (b *builder) both(f func(node string, r storage.Runner) error) error {
	if err := f(b.me, b.local); err != nil {
		return err
	}
	return f(b.peer, b.remote)
}

func (b *builder) vgs(r storage.Runner) (map[string]lvm.VG, error) {
	list, err := lvm.VGs(b.ctx, r)
	if err != nil {
		return nil, err
	}
	m := map[string]lvm.VG{}
	for _, v := range list {
		m[v.Name] = v
	}
	return m, nil
}

// filesync reports whether the cluster replicates directories with rsync
// (datadetail filesync) rather than logical volumes with DRBD.
func (b *builder) filesync() bool { return b.cfg.DataDetail == "filesync" }

func (b *builder) checkVGs() error {
	if b.filesync() {
		for _, vg := range b.app.VGs {
			for _, d := range vg.Dirs {
				if st, err := os.Stat(d.Path); err != nil || !st.IsDir() {
					return b.app.Problemf("vg "+vg.Name+"/lv "+d.LV, "Directory %s does not exist on %s", d.Path, b.me)
				}
			}
		}
		b.log.Infof("Checked replicated directories exist on %s", b.me)
		return nil
	}
	return b.both(func(node string, r storage.Runner) error {
		vgs, err := b.vgs(r)
		if err != nil {
			return err
		}
		for _, vg := range b.app.VGs {
			if _, ok := vgs[vg.Name]; !ok {
				return b.app.Problemf("vg "+vg.Name, "Volume group %s does not exist on %s", vg.Name, node)
			}
		}
		b.log.Infof("Checked volume groups exist on %s", node)
		return nil
	})
}

func (b *builder) statusDirs() error {
	if err := os.MkdirAll(b.l.StatusDir(b.name), 0o755); err != nil {
		return err
	}
	b.log.Infof("Validated/created status directory on %s", b.me)
	if _, err := b.p.Output(b.ctx, "mkdir", "-p", layout.Layout{}.StatusDir(b.name)); err != nil {
		return err
	}
	b.log.Infof("Validated/created status directory on %s", b.peer)
	return nil
}

// Check is --check: K1-K13 (L2107-2121), output as L3911-3948.
func (b *builder) Check() error {
	for _, n := range b.cfg.NodeNames() {
		if _, err := net.LookupHost(n); err != nil {
			return fmt.Errorf("Node name %s does not resolve", n)
		}
	}
	b.log.Infof("Checked that node names resolve to IP addresses")
	if err := b.p.Reach(b.ctx); err != nil {
		return err
	}
	b.log.Infof("Successfully ssh'd from %s to %s", b.me, b.peer)
	if _, err := b.p.Output(b.ctx, "ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=5", b.me, "true"); err != nil {
		return fmt.Errorf("%s cannot ssh back to %s: %v", b.peer, b.me, err)
	}
	b.log.Infof("Successfully ssh'd from %s to %s", b.peer, b.me)
	if name, err := backup.Backup(b.l, time.Now()); err == nil && name != "" {
		b.log.Infof("Saved cluster configuration in %s on node %s", name, b.me)
	}
	if out, err := b.p.Output(b.ctx, layout.Bin("clbuild"), "backup"); err == nil && strings.TrimSpace(string(out)) != "" {
		b.log.Infof("Saved cluster configuration in %s on node %s", strings.TrimSpace(string(out)), b.peer)
	}
	local := nodefacts.Probe(b.ctx, b.l, nodefacts.ProbeArgs{DataDetail: b.cfg.DataDetail, LoadDRBD: true})
	out, err := b.p.Output(b.ctx, layout.Bin("clbuild"), "probe", "--datadetail", b.cfg.DataDetail, "--load-drbd")
	if err != nil {
		return fmt.Errorf("linuxha tools on %s: %w", b.peer, err)
	}
	var remoteF nodefacts.Facts
	if err := json.Unmarshal(out, &remoteF); err != nil {
		return fmt.Errorf("probe of %s: %w", b.peer, err)
	}
	for _, f := range []struct {
		node  string
		facts nodefacts.Facts
	}{{b.me, local}, {b.peer, remoteF}} {
		for _, c := range f.facts.Storage {
			if !c.Found {
				return fmt.Errorf("%s not available on %s (%s)", c.Name, f.node, c.Note)
			}
		}
	}
	if b.filesync() {
		b.log.Infof("rsync and ssh available on %s and %s (datadetail filesync).", b.me, b.peer)
	} else {
		b.log.Infof("DRBD kernel module loaded on %s and %s.", b.me, b.peer)
	}
	if local.ClconfMD5 != remoteF.ClconfMD5 {
		return fmt.Errorf("clconf.xml differs between %s and %s: run clbuild", b.me, b.peer)
	}
	b.log.Infof("Validated clconf.xml is consistent on both nodes")
	if v := b.app.Version; v != "0.1" && v != "0.2" {
		return clitool.ConfigError(b.app.Problemf("global/version", "%s is for a later software revision (0.1 and 0.2 are supported)", v))
	}
	b.log.Infof("Validated specified syncrate setting is sane.")
	if b.app.Autostart {
		b.log.Infof("Autostart parameter present and valid.")
	}
	if err := b.app.CheckAgainst(b.cfg); err != nil {
		return err
	}
	if b.app.PreferredNode != "" {
		b.log.Infof("Preferred_node parameter present and valid.")
	}
	for _, dep := range b.app.Dependencies {
		if state.VerifyChecksum(b.l.AppChecksum(dep), b.l.AppConf(dep)) == nil {
			b.log.Infof("Validated dependent application %s.", dep)
		} else {
			b.log.Warnf("Dependent application %s has no valid build.", dep)
		}
	}
	if _, _, err := b.notRunning(); err != nil {
		return err
	}
	if _, err := os.Stat(b.l.Fsmap(b.name)); err == nil && !b.force {
		return fmt.Errorf("Application %s appears to be built already (%s exists); use --force to rebuild it", b.name, b.l.Fsmap(b.name))
	}
	b.log.Infof("Number of networks to validate: %d", len(b.app.Networks))
	for _, n := range b.app.Networks {
		b.log.Infof("Validated network %s defined in cluster topology.", n.Net)
		if !n.Netmask.IsValid() {
			b.log.Warnf("Network %s missing netmask - will use default.", n.Net)
		}
		b.log.Infof("Validated network %s attributes.", n.Net)
	}
	if err := b.checkResources(); err != nil {
		return err
	}
	if err := b.checkVGs(); err != nil {
		return err
	}
	if err := b.statusDirs(); err != nil {
		return err
	}
	if err := state.WriteSum(b.l.StageChecksum(b.name, "check"), b.appSum); err != nil {
		return err
	}
	b.log.Infof("")
	b.log.Infof("Configuration checks for %s completed - now run with --vgbuild", b.name)
	b.log.Infof("")
	return nil
}

// dataLVs lists the application's logical volumes in vg on this node:
// every LV but the meta volumes.
func (b *builder) dataLVs(r storage.Runner, vg string) ([]lvm.LV, map[string]lvm.LV, error) {
	all, err := lvm.LVs(b.ctx, r, vg)
	if err != nil {
		return nil, nil, err
	}
	m := map[string]lvm.LV{}
	var data []lvm.LV
	for _, lv := range all {
		m[lv.Name] = lv
		if !strings.HasSuffix(lv.Name, "_meta") {
			data = append(data, lv)
		}
	}
	sort.Slice(data, func(i, j int) bool { return data[i].Name < data[j].Name })
	return data, m, nil
}

// VGBuild is --vgbuild (L2139-2163, L4010-4031): the peer's volume group
// gets the same volumes, and both get a 128 MB meta volume per volume.
func (b *builder) VGBuild() error {
	if err := b.stageDone("check", "vgbuild"); err != nil {
		return err
	}
	if _, _, err := b.notRunning(); err != nil {
		return err
	}
	if err := b.statusDirs(); err != nil {
		return err
	}
	for _, vg := range b.app.VGs {
		if b.filesync() {
			for _, d := range vg.Dirs {
				if err := b.mountPoint(d.Path); err != nil {
					return err
				}
			}
			b.log.Infof("All directory checks on VG %s completed", vg.Name)
			continue
		}
		b.log.Infof("Getting list of defined volume groups on %s", b.peer)
		data, _, err := b.dataLVs(b.local, vg.Name)
		if err != nil {
			return err
		}
		_, remoteAll, err := b.dataLVs(b.remote, vg.Name)
		if err != nil {
			return err
		}
		// Room for everything on both nodes first: a stage that fails half
		// way would leave volumes behind.
		if err := b.room(vg.Name, data, remoteAll); err != nil {
			return err
		}
		for _, lv := range data {
			r, ok := remoteAll[lv.Name]
			switch {
			case !ok:
				b.log.Infof("VG %s does not contain LV %s on %s - creating...", vg.Name, lv.Name, b.peer)
				if err := b.create(b.peer, b.remote, vg.Name, lv.Name, lv.SizeKB); err != nil {
					return err
				}
			case r.SizeKB < lv.SizeKB:
				// A volume grown here (§18.3.1, L5558-5564): the same size there.
				b.log.Infof("LV %s/%s is %dKb on %s but %dKb on %s - extending...", vg.Name, lv.Name, lv.SizeKB, b.me, r.SizeKB, b.peer)
				if err := lvm.Extend(b.ctx, b.remote, vg.Name, lv.Name, lv.SizeKB); err != nil {
					return fmt.Errorf("Unable to extend %s/%s on %s: %w", vg.Name, lv.Name, b.peer, err)
				}
				b.log.Infof("VG/LV %s/%s extended to %dKb on %s", vg.Name, lv.Name, lv.SizeKB, b.peer)
			case r.SizeKB > lv.SizeKB:
				return fmt.Errorf("LV %s/%s is %d KB on %s but %d KB on %s: volumes cannot shrink; extend it on %s", vg.Name, lv.Name, lv.SizeKB, b.me, r.SizeKB, b.peer, b.me)
			}
		}
		if err := b.both(func(node string, r storage.Runner) error {
			_, all, err := b.dataLVs(r, vg.Name)
			if err != nil {
				return err
			}
			for _, lv := range data {
				meta, ok := all[lv.Name+"_meta"]
				if ok && meta.SizeKB >= MetaKB {
					b.log.Infof("Validated Meta volume exists for %s on %s (and is 128mb)", lv.Name, node)
					continue
				}
				if ok {
					return fmt.Errorf("Meta volume %s/%s_meta on %s is %d KB; 131072 KB are needed", vg.Name, lv.Name, node, meta.SizeKB)
				}
				b.log.Infof("VG %s does not contain LV %s_meta on %s - creating...", vg.Name, lv.Name, node)
				if err := b.create(node, r, vg.Name, lv.Name+"_meta", MetaKB); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return err
		}
		b.log.Infof("All LV checks on VG %s completed", vg.Name)
	}
	if err := state.WriteSum(b.l.StageChecksum(b.name, "vgbuild"), b.appSum); err != nil {
		return err
	}
	b.log.Infof("")
	b.log.Infof("Now run with the --build to ensure all required resources")
	b.log.Infof("are allocated on both nodes")
	b.log.Infof("")
	return nil
}

// room checks that each node's volume group can hold the volumes
// --vgbuild would create there.
func (b *builder) room(vg string, data []lvm.LV, remoteAll map[string]lvm.LV) error {
	return b.both(func(node string, r storage.Runner) error {
		_, all, err := b.dataLVs(r, vg)
		if err != nil {
			return err
		}
		var need int64
		var what []string
		for _, lv := range data {
			if have, ok := all[lv.Name]; node == b.peer && (!ok || have.SizeKB < lv.SizeKB) {
				need += lv.SizeKB - have.SizeKB
				what = append(what, lv.Name)
			}
			if _, ok := all[lv.Name+"_meta"]; !ok {
				need += MetaKB
				what = append(what, lv.Name+"_meta")
			}
		}
		if need == 0 {
			return nil
		}
		vgs, err := b.vgs(r)
		if err != nil {
			return err
		}
		if free := vgs[vg].FreeKB; free < need {
			return fmt.Errorf("No room for %s/%s on %s: %d KB needed, %d KB free in the volume group", vg, strings.Join(what, ","), node, need, free)
		}
		return nil
	})
}

func (b *builder) create(node string, r storage.Runner, vg, lv string, kb int64) error {
	vgs, err := b.vgs(r)
	if err != nil {
		return err
	}
	if free := vgs[vg].FreeKB; free < kb {
		return fmt.Errorf("No room for %s/%s on %s: %d KB needed, %d KB free in the volume group", vg, lv, node, kb, free)
	}
	if err := lvm.Create(b.ctx, r, vg, lv, kb); err != nil {
		return fmt.Errorf("Unable to create %s/%s on %s: %w", vg, lv, node, err)
	}
	b.log.Infof("VG/LV %s/%s of %dKb built on %s", vg, lv, kb, node)
	return nil
}

// mountInfo maps a block device (resolved) to its mount.
type mountInfo struct{ dir, fstype, opts string }

func localMounts() map[string]mountInfo {
	m := map[string]mountInfo{}
	data, err := os.ReadFile("/proc/mounts")
	if err != nil {
		return m
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[0], "/dev/") {
			continue
		}
		dev, err := filepath.EvalSymlinks(f[0])
		if err != nil {
			dev = f[0]
		}
		m[dev] = mountInfo{dir: f[1], fstype: f[2], opts: f[3]}
	}
	return m
}

// Build is --build: B1-B17 (L2167-2185), output as L4043-4095. With
// --force on a built application it is the rebuild of §18 (L4991-5069,
// L5355-5431): see rebuild.go.
func (b *builder) Build() error {
	if err := b.stageDone("vgbuild", "build"); err != nil {
		return err
	}
	b.log.Infof("Validated VG build run has completed against this configuration.")
	// fsmon on a running application starts the peer's copy of whatever
	// the fsmap lists; it must not do so for a volume this build is still
	// adding (before its meta-data exists, or at the same time as the
	// build's own start).
	release, err := state.HoldRebuild(b.l.RebuildLock(b.name))
	if err != nil {
		return err
	}
	defer release()
	old, oldErr := state.ReadFsmap(b.l.Fsmap(b.name))
	built := oldErr == nil
	if built && !b.force {
		return fmt.Errorf("Application %s is already built (%s exists); use --force to rebuild it", b.name, b.l.Fsmap(b.name))
	}
	if _, err := os.Stat(b.l.AppChecksum(b.name)); err == nil && !b.force {
		return fmt.Errorf("Application %s already has a build checksum; use --force to rebuild it", b.name)
	}
	st, node, err := b.notRunning()
	if err != nil {
		return err
	}
	var rb *rebuild
	if built {
		b.log.Infof("REBUILD: Original fsmap entry count: %d", len(old))
		if rb, err = b.planRebuild(old, st, node); err != nil {
			return err
		}
	}
	if err := b.checkVGs(); err != nil {
		return err
	}
	fsmap, err := b.newFsmap(rb)
	if err != nil {
		return err
	}
	if rb != nil {
		rb.diff(fsmap)
		// Everything that can refuse does so before anything changes.
		if err := b.takeOut(rb); err != nil {
			return err
		}
	}
	if err := b.allocateAll(fsmap); err != nil {
		return err
	}
	if !built {
		// B10: a fresh build has no last start time.
		os.Remove(b.l.TimeFile(b.name))
		b.p.Output(b.ctx, "rm", "-f", layout.Layout{}.TimeFile(b.name))
		b.log.Infof("Deleted TIME file from node %s", b.peer)
	}
	if err := b.statusDirs(); err != nil {
		return err
	}
	// B14: the application's configuration and monitor files to the peer.
	des, _ := os.ReadDir(b.l.AppDir(b.name))
	for _, de := range des {
		if de.IsDir() || !strings.HasSuffix(de.Name(), ".xml") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(b.l.AppDir(b.name), de.Name()))
		if err != nil {
			return err
		}
		if err := b.p.WriteFile(b.ctx, filepath.Join(layout.Layout{}.AppDir(b.name), de.Name()), data, 0o644); err != nil {
			return err
		}
		if de.Name() == "appconf.xml" {
			b.log.Infof("Copied config data for %s to %s", b.name, b.peer)
		} else {
			b.log.Infof("Transferring XML file %s to %s.", de.Name(), b.peer)
		}
	}
	// B15-B16: the fsmap on both nodes.
	if built {
		b.log.Infof("REBUILD: Current fsmap being replaced on %s.", b.me)
	}
	if err := state.WriteFsmap(b.l.Fsmap(b.name), fsmap); err != nil {
		return err
	}
	b.log.Infof("Created fsmap data for %s on %s", b.name, b.me)
	var fm strings.Builder
	for _, e := range fsmap {
		fm.WriteString(e.String() + "\n")
	}
	if err := b.p.WriteFile(b.ctx, layout.Layout{}.Fsmap(b.name), []byte(fm.String()), 0o644); err != nil {
		return err
	}
	b.log.Infof("Copied fsmap data for %s to %s", b.name, b.peer)
	if rb != nil {
		if err := b.takeIn(rb); err != nil {
			return err
		}
	}
	// B17: the build checksum on both nodes marks the build valid.
	if err := state.WriteSum(b.l.AppChecksum(b.name), b.appSum); err != nil {
		return err
	}
	if err := b.p.WriteFile(b.ctx, layout.Layout{}.AppChecksum(b.name), state.SumBytes(b.appSum), 0o600); err != nil {
		return err
	}
	if reply, _, err := b.client.Any(b.ctx, daemonapi.Req(daemonapi.RegApp, "app", b.name, "forward", "yes")); err == nil && reply == daemonapi.OK {
		b.log.Infof("Application %s now (re)registered with cluster.", b.name)
	}
	b.log.Infof("")
	b.log.Infof("Cluster build has completed successfully.")
	if built {
		b.log.Infof("The rebuild addition / removal of file systems has been")
		b.log.Infof("completed without problems. Please note that the new file systems")
		b.log.Infof("may still be in the process of being synchronised.")
	} else {
		b.log.Infof("Now use the --sync option to ensure that all")
		b.log.Infof("file systems on the other node are synchronised")
	}
	b.log.Infof("")
	return nil
}

// newFsmap is the fsmap --build writes: every volume of the application
// with where it is mounted. A first build needs them all mounted here; a
// rebuild drops the ones that are not (§18.2, L5433).
func (b *builder) newFsmap(rb *rebuild) ([]state.FsEntry, error) {
	if rb != nil && rb.keep {
		b.log.Infof("REBUILD: fsmap kept as it is (--fsmap rebuilds it from the mounted file systems).")
		return rb.old, nil
	}
	mounts := rb.mountsOr(localMounts)
	var fsmap []state.FsEntry
	for _, vg := range b.app.VGs {
		if b.filesync() {
			for _, d := range vg.Dirs {
				fsmap = append(fsmap, state.FsEntry{VG: vg.Name, LV: d.LV, MountPoint: d.Path, FSType: FSTypeDir, Options: "filesync", SizeKB: duKB(d.Path)})
			}
			b.log.Infof("Checked %d directories for %s on %s", len(vg.Dirs), vg.Name, b.me)
			continue
		}
		data, _, err := b.dataLVs(b.local, vg.Name)
		if err != nil {
			return nil, err
		}
		b.log.Infof("Checked %d logical volumes for %s on %s", len(data), vg.Name, b.me)
		used := 0
		for _, lv := range data {
			if !lv.Active {
				return nil, fmt.Errorf("Logical volume %s/%s is not active on %s", vg.Name, lv.Name, b.me)
			}
			dev, _ := filepath.EvalSymlinks("/dev/" + vg.Name + "/" + lv.Name)
			mi, ok := mounts[dev]
			prev, known := rb.entry(vg.Name, lv.Name)
			if known {
				b.log.Infof("checking if %s/%s mounted as %s...", vg.Name, lv.Name, prev.MountPoint)
				if !ok && rb.live {
					mi, ok = mounts[rb.device[volKey(prev.VG, prev.LV)]]
				}
			} else if rb != nil {
				b.log.Infof("checking if %s/%s open...", vg.Name, lv.Name)
			}
			switch {
			case !ok && rb == nil:
				return nil, fmt.Errorf("Logical volume %s/%s is not mounted on %s; mount every file system of %s before --build", vg.Name, lv.Name, b.me, b.name)
			case !ok:
				continue
			case strings.Contains(mi.dir, ":"):
				return nil, fmt.Errorf("mount point %q contains ':'", mi.dir)
			}
			used++
			e := state.FsEntry{VG: vg.Name, LV: lv.Name, MountPoint: mi.dir, FSType: mi.fstype, Options: mi.opts, SizeKB: lv.SizeKB}
			if known {
				e.Options = prev.Options
			}
			fsmap = append(fsmap, e)
		}
		b.log.Infof("Completed volume group analysis on %s:", b.me)
		b.log.Infof("VG: %s Used LVs: %d Not Used LVs: %d", vg.Name, used, len(data)-used)
		_, remoteAll, err := b.dataLVs(b.remote, vg.Name)
		if err != nil {
			return nil, err
		}
		for _, e := range fsmap {
			if _, known := rb.entry(e.VG, e.LV); known {
				continue // DRBD holds the peer's copy open
			}
			if r, ok := remoteAll[e.LV]; ok && r.Open && e.VG == vg.Name {
				return nil, fmt.Errorf("LV %s/%s is in use on %s: file systems must not be mounted on the other node", e.VG, e.LV, b.peer)
			}
		}
	}
	if len(fsmap) == 0 && rb != nil {
		return nil, fmt.Errorf("No file system of %s is mounted on %s: nothing to rebuild the fsmap from", b.name, b.me)
	}
	sort.SliceStable(fsmap, func(i, j int) bool { return fsmap[i].MountPoint < fsmap[j].MountPoint })
	return fsmap, nil
}

// FSTypeDir is the fsmap file system type of a filesync directory.
const FSTypeDir = "dir"

// duKB is the size of a directory's contents (the fsmap's size field).
func duKB(dir string) int64 {
	var total int64
	filepath.WalkDir(dir, func(_ string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			if fi, err := e.Info(); err == nil {
				total += fi.Size()
			}
		}
		return nil
	})
	return (total + 1023) / 1024
}

// allocateAll gives every volume the same port and DRBD device on both
// nodes (B9, B12-B13); filesync directories only need their mount points.
func (b *builder) allocateAll(fsmap []state.FsEntry) error {
	if b.filesync() {
		for _, e := range fsmap {
			if err := b.mountPoint(e.MountPoint); err != nil {
				return err
			}
		}
		return nil
	}
	// B9: enough ports and minors on both nodes, counting reuse.
	localRes := resourcesOf(b.l, b.name)
	out, err := b.p.Output(b.ctx, layout.Bin("clbuildapp"), "resources", "--application", b.name)
	if err != nil {
		return err
	}
	var remoteRes Resources
	if err := json.Unmarshal(out, &remoteRes); err != nil {
		return fmt.Errorf("resources of %s: %w", b.peer, err)
	}
	b.log.Infof("%s available: PORTS: %d, DRBD: %d", b.me, len(localRes.FreePorts), len(localRes.FreeMinors))
	b.log.Infof("%s available: PORTS: %d, DRBD: %d", b.peer, len(remoteRes.FreePorts), len(remoteRes.FreeMinors))
	if need := len(fsmap); need > min(len(localRes.FreePorts)+len(localRes.Owned), len(remoteRes.FreePorts)+len(remoteRes.Owned)) ||
		need > min(len(localRes.FreeMinors)+len(localRes.Owned), len(remoteRes.FreeMinors)+len(remoteRes.Owned)) {
		return fmt.Errorf("Not enough ports or DRBD devices for %d file systems: raise portpool or maxblockdevs and run clbuild --force", need)
	}
	b.log.Infof("Validated enough resources available on both nodes")

	// B12: mount points on the peer, with the same permissions.
	for _, e := range fsmap {
		if err := b.mountPoint(e.MountPoint); err != nil {
			return err
		}
	}
	// B13: the same port and minor on both nodes; existing ones are kept.
	for _, e := range fsmap {
		o := state.Owner{App: b.name, VG: e.VG, LV: e.LV}
		have, ok := remoteRes.Owned[o.String()]
		if !ok {
			have = Alloc{Port: -1, Minor: -1}
		}
		port, err := b.allocate(o, "port", state.Pool{Dir: b.l.PortsDir()}, localRes.FreePorts, remoteRes.FreePorts, have.Port)
		if err != nil {
			return err
		}
		minor, err := b.allocate(o, "DRBD", state.Pool{Dir: b.l.DrbdDir()}, localRes.FreeMinors, remoteRes.FreeMinors, have.Minor)
		if err != nil {
			return err
		}
		if _, err := b.p.Output(b.ctx, layout.Bin("clbuildapp"), "claim", "--application", b.name, "--vg", e.VG, "--lv", e.LV,
			"--port", strconv.Itoa(port), "--minor", strconv.Itoa(minor)); err != nil {
			return err
		}
		b.log.Infof("Host/VG/LV %s/%s/%s allocated port %d", b.peer, e.VG, e.LV, port)
		b.log.Infof("Host/VG/LV %s/%s/%s allocated DRBD %d", b.peer, e.VG, e.LV, minor)
		taken := func(n int) func(int) bool { return func(x int) bool { return x == n } }
		localRes.FreePorts = slices.DeleteFunc(localRes.FreePorts, taken(port))
		localRes.FreeMinors = slices.DeleteFunc(localRes.FreeMinors, taken(minor))
		remoteRes.FreePorts = slices.DeleteFunc(remoteRes.FreePorts, taken(port))
		remoteRes.FreeMinors = slices.DeleteFunc(remoteRes.FreeMinors, taken(minor))
	}
	return nil
}

// allocate gives o the same number on both nodes: the one it already has
// (L1742, B13), or the lowest free on both. remoteHas is the peer's
// existing allocation, -1 for none.
func (b *builder) allocate(o state.Owner, what string, pool state.Pool, localFree, remoteFree []int, remoteHas int) (int, error) {
	n, ok, err := pool.Lookup(o)
	if err != nil {
		return 0, err
	}
	switch {
	case ok && remoteHas >= 0 && remoteHas != n:
		return 0, fmt.Errorf("%s has %s %d on %s but %d on %s: release the application (clremoveapp) and build again", o, what, n, b.me, remoteHas, b.peer)
	case ok:
	case remoteHas >= 0:
		n = remoteHas
	default:
		if n, err = state.FirstCommonFree(localFree, remoteFree); err != nil {
			return 0, fmt.Errorf("no %s number is free on both nodes for %s", what, o)
		}
	}
	if !ok {
		if err := pool.Claim(n, o); err != nil {
			return 0, err
		}
	}
	b.log.Infof("Host/VG/LV %s/%s/%s allocated %s %d", b.me, o.VG, o.LV, what, n)
	return n, nil
}
