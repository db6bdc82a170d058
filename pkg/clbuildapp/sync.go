package clbuildapp

import (
	"fmt"
	"os"
	"os/exec"
	"path"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/linuxha-ng/linuxha/pkg/layout"
	"github.com/linuxha-ng/linuxha/pkg/progress"
	"github.com/linuxha-ng/linuxha/pkg/remote"
	"github.com/linuxha-ng/linuxha/pkg/state"
	"github.com/linuxha-ng/linuxha/pkg/storage"
	"github.com/linuxha-ng/linuxha/pkg/storage/drbd"
	"github.com/linuxha-ng/linuxha/pkg/storage/filesync"
	"github.com/linuxha-ng/linuxha/pkg/storage/volumes"
)

// Alloc is one volume's port and DRBD minor; -1 = none.
type Alloc struct {
	Port  int `json:"port"`
	Minor int `json:"minor"`
}

// Resources is what a node has free, and what the application holds.
type Resources struct {
	FreePorts  []int            `json:"free_ports"`
	FreeMinors []int            `json:"free_minors"`
	Owned      map[string]Alloc `json:"owned"` // "app.vg.lv" -> allocation
}

func resourcesOf(l layout.Layout, app string) Resources {
	r := Resources{Owned: map[string]Alloc{}}
	r.FreePorts, _ = state.Pool{Dir: l.PortsDir()}.Free()
	r.FreeMinors, _ = state.Pool{Dir: l.DrbdDir()}.Free()
	for i, dir := range []string{l.PortsDir(), l.DrbdDir()} {
		es, _ := state.Pool{Dir: dir}.List()
		for _, e := range es {
			if e.Free || e.Owner.App != app {
				continue
			}
			a, ok := r.Owned[e.Owner.String()]
			if !ok {
				a = Alloc{Port: -1, Minor: -1}
			}
			if i == 0 {
				a.Port = e.N
			} else {
				a.Minor = e.N
			}
			r.Owned[e.Owner.String()] = a
		}
	}
	return r
}

// mountPoint creates dir on the peer and warns when a component's
// permissions or owner differ between the nodes (L4097-4110).
func (b *builder) mountPoint(dir string) error {
	if _, err := b.p.Output(b.ctx, "test", "-d", dir); err != nil {
		b.log.Warnf("Mount point %s did not exist on %s - created it.", dir, b.peer)
	}
	if _, err := b.p.Output(b.ctx, "mkdir", "-p", dir); err != nil {
		return err
	}
	var probs []string
	for p := dir; p != "/" && p != "."; p = path.Dir(p) {
		st, err := os.Stat(p)
		if err != nil {
			continue
		}
		out, err := b.p.Output(b.ctx, "stat", "-c", "%a %u %g", p)
		if err != nil {
			continue
		}
		sys := st.Sys().(*syscall.Stat_t)
		f := strings.Fields(string(out))
		if len(f) != 3 {
			continue
		}
		local := fmt.Sprintf("%04o", st.Mode().Perm())
		remote, _ := strconv.ParseUint(f[0], 8, 32)
		if local != fmt.Sprintf("%04o", remote) {
			probs = append(probs, fmt.Sprintf("Permissions differ for %s [local=%s,remote=%04o]", p, local, remote))
		}
		if f[1] != strconv.Itoa(int(sys.Uid)) || f[2] != strconv.Itoa(int(sys.Gid)) {
			probs = append(probs, fmt.Sprintf("Ownership differs for %s [local=%d:%d,remote=%s:%s]", p, sys.Uid, sys.Gid, f[1], f[2]))
		}
	}
	if len(probs) > 0 {
		b.log.Warnf("Following problems for path %s consistency:", dir)
		for _, p := range probs {
			b.log.Warnf("%s", p)
		}
		return nil
	}
	b.log.Infof("Validated file system mount point %s", dir)
	return nil
}

func (b *builder) drbdTool(node string, args ...string) error {
	var p *remote.Peer
	if node != b.me {
		p = b.p
	}
	if err := volumes.Invoke(b.ctx, p, b.name, args...); err != nil {
		return fmt.Errorf("%s: %w", node, err)
	}
	return nil
}

// Sync is --sync: S1-S11 (L2201-2213, L4124-4151). The local copy wins:
// the other node's volumes are resynchronised from it.
func (b *builder) Sync() error {
	fs, err := state.ReadFsmap(b.l.Fsmap(b.name))
	if err != nil {
		return fmt.Errorf("Application %s has not been built (no fsmap): run --build first", b.name)
	}
	if _, _, err := b.notRunning(); err != nil {
		return err
	}
	if err := b.stageDone("build", "sync"); err != nil {
		return err
	}
	// An application of resources only (DRCM's model: addresses, NFS
	// mounts, services) has nothing replicated: rather than start DRBD
	// and wait for a sync of nothing on both nodes, say so and stop.
	if len(fs) == 0 {
		b.log.Infof("Application %s has no replicated volumes: nothing to synchronise.", b.name)
		return nil
	}
	if b.filesync() {
		return b.syncDirs()
	}
	b.log.Infof("Loading details of file systems to unmount")
	for i := len(fs) - 1; i >= 0; i-- {
		if !storage.Mounted(fs[i].MountPoint) {
			continue
		}
		if out, err := exec.CommandContext(b.ctx, "umount", fs[i].MountPoint).CombinedOutput(); err != nil {
			return fmt.Errorf("Unable to unmount %s: %s", fs[i].MountPoint, strings.TrimSpace(string(out)))
		}
		b.log.Infof("File system %s un-mounted", fs[i].MountPoint)
	}
	b.log.Infof("All file systems un-mounted successfully.")
	// Meta-data is written once, or again with --forcesync: fresh
	// meta-data on both sides makes the first sync a full one.
	marker := b.l.StatusDir(b.name) + "/.drbd-md"
	_, statErr := os.Stat(marker)
	fresh := statErr != nil || b.forcesync
	if fresh {
		for _, n := range []string{b.peer, b.me} {
			b.drbdTool(n, "--action", "down")
			if err := b.drbdTool(n, "--action", "create_md"); err != nil {
				return err
			}
		}
		b.log.Infof("Created DRBD meta-data for %s on both nodes.", b.name)
	}
	if err := b.drbdTool(b.peer, "--action", "start", "--noprimary"); err != nil {
		return err
	}
	b.log.Infof("All drbd services now running on %s", b.peer)
	if err := b.drbdTool(b.me, "--action", "start", "--reallyforce"); err != nil {
		return err
	}
	b.log.Infof("All drbd services now running on %s", b.me)
	if b.forcesync && !fresh {
		if err := b.drbdTool(b.me, "--action", "invalidate_remote"); err != nil {
			return err
		}
	}
	b.log.Infof("Successfully started rebuild of DRBD devices for %s.", b.name)
	vols, err := volumes.Of(b.l, b.cfg, b.name, "", "")
	if err != nil {
		return err
	}
	d := &drbd.Driver{ConfDir: b.l.DrbdConfDir()}
	last := time.Time{}
	var meter progress.Meter
	for {
		synced, current := 0, ""
		var total, remaining int64
		for _, v := range vols {
			st, err := d.Status(b.ctx, v.Res)
			if err != nil {
				return err
			}
			total += v.Res.Size()
			if st.Synced() {
				synced++
				continue
			}
			remaining += st.OutOfSync
			if current == "" {
				current = fmt.Sprintf("Sync status: Currently syncing LV %s, %.1f%% completed", v.Res.Disk(), st.Percent)
			}
		}
		r := meter.Add(progress.Sample{At: time.Now(), Total: total, Remaining: remaining})
		if synced == len(vols) {
			r.Percent, r.Remaining = 100, 0
		}
		b.showProgress(fmt.Sprintf("%d of %d volumes in step", synced, len(vols)), r)
		if synced == len(vols) {
			break
		}
		if time.Since(last) >= 10*time.Second {
			b.endProgress()
			b.log.Infof("Sync status: Devices sync'ed: %d, Devices unsync'ed: %d", synced, len(vols)-synced)
			b.log.Infof("%s", current)
			last = time.Now()
		}
		select {
		case <-b.ctx.Done():
			return b.ctx.Err()
		case <-time.After(time.Second):
		}
	}
	b.endProgress()
	b.log.Infof("Sync status: Devices sync'ed: %d, Devices unsync'ed: 0", len(vols))
	if err := b.drbdTool(b.me, "--action", "down"); err != nil {
		return err
	}
	if err := b.drbdTool(b.peer, "--action", "down"); err != nil {
		return err
	}
	// Both copies are now the same: no STALE flag of either node holds.
	b.clearStale(fs)
	os.WriteFile(marker, nil, 0o644)
	b.p.Output(b.ctx, "touch", layout.Layout{}.StatusDir(b.name)+"/.drbd-md")
	b.log.Infof("Successfully Synchronised data from %s to %s", b.me, b.peer)
	return nil
}

// syncDirs is --sync for datadetail filesync: one full rsync pass of
// every directory to the other node (--forcesync compares contents).
func (b *builder) syncDirs() error {
	s, err := volumes.NewSyncer(b.l, b.cfg, b.name)
	if err != nil {
		return err
	}
	s.Logf = func(format string, args ...any) { b.log.Warnf(format, args...) }
	meters := map[string]*progress.Meter{}
	s.Progress = func(d filesync.Dir, p filesync.Progress) {
		m := meters[d.Path]
		if m == nil {
			m = &progress.Meter{}
			meters[d.Path] = m
		}
		total := p.Total()
		b.showProgress(d.Path, m.Add(progress.Sample{At: time.Now(), Total: total, Remaining: total - p.Done, Percent: p.Percent}))
	}
	b.log.Infof("Copying %d directories of %s to %s with rsync", len(s.Dirs), b.name, b.peer)
	err = s.SyncAll(b.ctx, b.forcesync)
	b.endProgress()
	if err != nil {
		return err
	}
	b.log.Infof("Successfully Synchronised data from %s to %s", b.me, b.peer)
	return nil
}

// showProgress shows how a copy goes, when the command line asked for it.
func (b *builder) showProgress(what string, r progress.Report) {
	if b.show != nil {
		b.show.Show(what, r)
	}
}

// endProgress ends the progress line before a log line.
func (b *builder) endProgress() {
	if b.show != nil {
		b.show.End()
	}
}
