package clbuildapp

import (
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/linuxha-ng/linuxha/pkg/daemonapi"
	"github.com/linuxha-ng/linuxha/pkg/layout"
	"github.com/linuxha-ng/linuxha/pkg/state"
	"github.com/linuxha-ng/linuxha/pkg/storage/volumes"
)

// rebuild is what --build --force knows of an application that is built
// already (§18, L4859-5770). The volumes the fsmap lists are compared with
// what is mounted: a volume mounted on its own logical volume is added, one
// no longer mounted is removed (L5433), one whose volume grew is grown.
// When the application runs here (its file systems are on their DRBD
// devices) the changes are made at once, without stopping it (§18.1.1,
// §18.2.1, §18.3.1); off-line, only the fsmap and the resources change and
// --sync --forcesync replicates (§18.1.2, §18.2.2).
type rebuild struct {
	old    []state.FsEntry
	live   bool              // running here: changes are made on-line
	keep   bool              // off-line without --fsmap: the fsmap stays
	device map[string]string // "vg/lv" -> DRBD device, for the old entries
	mounts map[string]mountInfo

	added, removed, grown []state.FsEntry
}

func volKey(vg, lv string) string { return vg + "/" + lv }

// entry is the old fsmap's entry for vg/lv; a nil rebuild (a first build)
// has none.
func (rb *rebuild) entry(vg, lv string) (state.FsEntry, bool) {
	if rb == nil {
		return state.FsEntry{}, false
	}
	i := slices.IndexFunc(rb.old, func(e state.FsEntry) bool { return e.VG == vg && e.LV == lv })
	if i < 0 {
		return state.FsEntry{}, false
	}
	return rb.old[i], true
}

// planRebuild finds out whether the application runs here. st and node
// are the cluster's view of it ("" without a cluster daemon).
func (b *builder) planRebuild(old []state.FsEntry, st, node string) (*rebuild, error) {
	rb := &rebuild{old: old, device: map[string]string{}}
	if b.filesync() {
		// Directories: the fsmap follows appconf.xml; while the syncer
		// runs here it is restarted with the new list.
		rb.live = volumes.SyncerRunning(b.l, b.name)
		return rb, nil
	}
	rb.mounts = localMounts()
	vols, err := volumes.Of(b.l, b.cfg, b.name, "", "")
	if err != nil {
		return nil, err
	}
	for _, v := range vols {
		rb.device[volKey(v.FS.VG, v.FS.LV)] = v.Res.Device()
		if rb.mounts[v.Res.Device()].dir == v.FS.MountPoint {
			rb.live = true
		}
	}
	switch {
	case rb.live:
		b.log.Warnf("Application rebuild selected for running application.")
	case (st == daemonapi.AppStarted || st == daemonapi.AppStarting) && node != "" && node != b.me:
		return nil, fmt.Errorf("Application %s is running on %s: rebuild it there", b.name, node)
	case !b.fsmapFlag:
		rb.keep = true
	}
	return rb, nil
}

// mountsOr is the mount table planRebuild read, else read now: a first
// build has no rebuild, and a filesync one reads none.
func (rb *rebuild) mountsOr(read func() map[string]mountInfo) map[string]mountInfo {
	if rb == nil || rb.mounts == nil {
		return read()
	}
	return rb.mounts
}

// diff sorts the new fsmap's changes into added, removed and grown.
func (rb *rebuild) diff(fsmap []state.FsEntry) {
	for _, e := range fsmap {
		prev, ok := rb.entry(e.VG, e.LV)
		switch {
		case !ok:
			rb.added = append(rb.added, e)
		case e.SizeKB > prev.SizeKB:
			rb.grown = append(rb.grown, e)
		}
	}
	for _, o := range rb.old {
		if !slices.ContainsFunc(fsmap, func(e state.FsEntry) bool { return e.VG == o.VG && e.LV == o.LV }) {
			rb.removed = append(rb.removed, o)
		}
	}
}

// takeOut runs before the fsmap changes: new file systems leave their
// local mounts (a busy one refuses the rebuild with nothing changed), and
// removed ones stop replicating and give back their port and DRBD device
// on both nodes (L5401-5409).
func (b *builder) takeOut(rb *rebuild) error {
	if rb.live && !b.filesync() {
		for _, e := range rb.added {
			if out, err := exec.CommandContext(b.ctx, "umount", e.MountPoint).CombinedOutput(); err != nil {
				return fmt.Errorf("Unable to unmount local %s: %s (stop whatever uses it, then run --build again)", e.MountPoint, strings.TrimSpace(string(out)))
			}
			b.log.Infof("REBUILD: Un-mounted local %s.", e.MountPoint)
		}
		for _, e := range rb.removed {
			for _, n := range []string{b.me, b.peer} {
				if err := b.drbdTool(n, "--action", "down", "--vg", e.VG, "--lv", e.LV); err != nil {
					return err
				}
			}
			b.log.Infof("REBUILD: Stopped replication of %s/%s (%s) on both nodes.", e.VG, e.LV, rb.device[volKey(e.VG, e.LV)])
		}
	}
	if len(rb.added) == 0 {
		b.log.Infof("REBUILD: No new resources on %s required.", b.me)
	}
	for _, e := range rb.removed {
		o := state.Owner{App: b.name, VG: e.VG, LV: e.LV}
		port, minor, err := releaseVolume(b.l, o)
		if err != nil {
			return err
		}
		b.logReleased(b.me, o, port, minor)
		out, err := b.p.Output(b.ctx, layout.Bin("clbuildapp"), "release", "--application", b.name, "--vg", e.VG, "--lv", e.LV)
		if err != nil {
			return err
		}
		f := strings.Fields(string(out))
		if len(f) == 2 {
			port, _ = strconv.Atoi(f[0])
			minor, _ = strconv.Atoi(f[1])
			b.logReleased(b.peer, o, port, minor)
		}
	}
	b.clearStale(rb.removed)
	return nil
}

// clearStale removes both nodes' STALE flags of the volumes, on both
// nodes (one ssh for the peer).
func (b *builder) clearStale(es []state.FsEntry) {
	if len(es) == 0 {
		return
	}
	argv := []string{"rm", "-f"}
	for _, e := range es {
		for _, n := range []string{b.me, b.peer} {
			state.ClearStale(b.l.StatusDir(b.name), state.Stale{VG: e.VG, LV: e.LV, Node: n})
			argv = append(argv, layout.Layout{}.StaleFile(b.name, e.VG, e.LV, n))
		}
	}
	b.p.Output(b.ctx, argv...)
}

// releaseVolume frees o's port and DRBD device on this node; -1 for one it
// did not hold.
func releaseVolume(l layout.Layout, o state.Owner) (port, minor int, err error) {
	port, minor = -1, -1
	if n, ok, err := (state.Pool{Dir: l.PortsDir()}).ReleaseOwner(o); err != nil {
		return port, minor, err
	} else if ok {
		port = n
	}
	if n, ok, err := (state.Pool{Dir: l.DrbdDir()}).ReleaseOwner(o); err != nil {
		return port, minor, err
	} else if ok {
		minor = n
	}
	return port, minor, nil
}

func (b *builder) logReleased(node string, o state.Owner, port, minor int) {
	if port >= 0 {
		b.log.Infof("REBUILD: Removed port resource %d for %s/%s on host %s.", port, o.VG, o.LV, node)
	}
	if minor >= 0 {
		b.log.Infof("REBUILD: Removed DRBD resource %d for %s/%s on host %s.", minor, o.VG, o.LV, node)
	}
}

// takeIn runs once the new fsmap is on both nodes. On-line, a new file
// system goes onto a fresh DRBD device with this node's copy as the source
// of a background sync, and is mounted again where it was (L5051-5058); a
// grown one has its DRBD device and then its file system grown in place
// (§18.3.1, L5580-5582).
func (b *builder) takeIn(rb *rebuild) error {
	if !rb.live {
		if len(rb.added)+len(rb.grown) > 0 {
			b.log.Infof("REBUILD: %s is not running: now run --sync --forcesync to replicate the changes.", b.name)
		}
		return nil
	}
	if b.filesync() {
		// down makes a last pass of the old list; start passes the new one.
		for _, a := range []string{"down", "start"} {
			if err := b.drbdTool(b.me, "--action", a); err != nil {
				return err
			}
		}
		b.log.Infof("REBUILD: Restarted filesync replication of %s with %d directories.", b.name, len(rb.old)+len(rb.added)-len(rb.removed))
		return nil
	}
	for _, e := range rb.added {
		sel := []string{"--vg", e.VG, "--lv", e.LV}
		for _, n := range []string{b.peer, b.me} {
			if err := b.drbdTool(n, append([]string{"--action", "create_md"}, sel...)...); err != nil {
				return err
			}
		}
		if err := b.drbdTool(b.peer, append([]string{"--action", "start", "--noprimary"}, sel...)...); err != nil {
			return err
		}
		if err := b.drbdTool(b.me, append([]string{"--action", "start", "--reallyforce"}, sel...)...); err != nil {
			return err
		}
		// The other copy is not to be trusted until fsmon sees it in step.
		stale := state.Stale{VG: e.VG, LV: e.LV, Node: b.peer}
		if err := state.SetStale(b.l.StatusDir(b.name), stale); err != nil {
			return err
		}
		if err := b.p.WriteFile(b.ctx, layout.Layout{}.StaleFile(b.name, e.VG, e.LV, b.peer), nil, 0o644); err != nil {
			return err
		}
		b.log.Infof("REBUILD: DRBD device for %s started to synchronise.", e.MountPoint)
		if err := b.drbdTool(b.me, append([]string{"--action", "mount"}, sel...)...); err != nil {
			return err
		}
		b.log.Infof("REBUILD: File system %s mounted successfully.", e.MountPoint)
	}
	for _, e := range rb.grown {
		if err := b.grow(e, rb.device[volKey(e.VG, e.LV)]); err != nil {
			return err
		}
	}
	return nil
}

// grow lets the DRBD device take the grown volume, then grows the mounted
// file system to fill it.
func (b *builder) grow(e state.FsEntry, dev string) error {
	if err := b.drbdTool(b.me, "--action", "resize", "--vg", e.VG, "--lv", e.LV); err != nil {
		return err
	}
	sys := "/sys/block/" + strings.TrimPrefix(dev, "/dev/") + "/size"
	deadline := time.Now().Add(60 * time.Second)
	for {
		data, err := os.ReadFile(sys)
		sectors, _ := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
		if err == nil && sectors*512 >= e.SizeKB*1024 {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("DRBD device %s did not grow to %d KB within 60 s", dev, e.SizeKB)
		}
		select {
		case <-b.ctx.Done():
			return fmt.Errorf("growing %s: %w", dev, b.ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
	b.log.Infof("REBUILD: DRBD device %s for %s resized to %dKb.", dev, e.MountPoint, e.SizeKB)
	var argv []string
	switch {
	case strings.HasPrefix(e.FSType, "ext"):
		argv = []string{"resize2fs", dev}
	case e.FSType == "xfs":
		argv = []string{"xfs_growfs", e.MountPoint}
	default:
		b.log.Warnf("REBUILD: %s is %s: grow the file system by hand.", e.MountPoint, e.FSType)
		return nil
	}
	if out, err := exec.CommandContext(b.ctx, argv[0], argv[1:]...).CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %s", strings.Join(argv, " "), strings.TrimSpace(string(out)))
	}
	b.log.Infof("REBUILD: File system %s grown to %dKb.", e.MountPoint, e.SizeKB)
	return nil
}
