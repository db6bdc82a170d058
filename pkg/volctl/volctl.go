// Package volctl carries out drbd_tool's actions on an application's
// replicated volumes on this node — DRBD devices over logical volumes, or
// filesync directories — for drbd_tool itself and, in their own process,
// for the tools that start and stop applications (Reference L2228-2270,
// §18.3.2-18.3.3).
package volctl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/linuxha-ng/linuxha/pkg/config"
	"github.com/linuxha-ng/linuxha/pkg/jsonout"
	"github.com/linuxha-ng/linuxha/pkg/layout"
	"github.com/linuxha-ng/linuxha/pkg/logx"
	"github.com/linuxha-ng/linuxha/pkg/storage"
	"github.com/linuxha-ng/linuxha/pkg/storage/drbd"
	"github.com/linuxha-ng/linuxha/pkg/storage/volumes"
)

// Request is one drbd_tool action on this node's volumes of an
// application; Log and Out take what drbd_tool prints.
type Request struct {
	L                      layout.Layout
	Cfg                    *config.Cluster
	App, Action, VG, LV    string
	NoPrimary, Force, JSON bool
	// ReallyForce promotes even a copy DRBD holds Inconsistent
	// (drbd.PromoteForce); it implies Force.
	ReallyForce bool
	Log         *logx.Logger
	Out         io.Writer
}

func (r Request) Do(ctx context.Context) error {
	if r.Cfg.DataDetail == "filesync" {
		t := &fsTool{l: r.L, cfg: r.Cfg, app: r.App, log: r.Log, out: r.Out, json: r.JSON}
		return t.do(ctx, r.Action, r.NoPrimary)
	}
	vols, err := volumes.Of(r.L, r.Cfg, r.App, r.VG, r.LV)
	if err != nil {
		return err
	}
	t := &tool{d: &drbd.Driver{ConfDir: r.L.DrbdConfDir()}, log: r.Log, out: r.Out, app: r.App, json: r.JSON}
	return t.do(ctx, r.Action, vols, r.NoPrimary, forcing{r.Force || r.ReallyForce, r.ReallyForce})
}

// forcing is what the caller allows a promotion: DRBD's --force, and
// --force even on an Inconsistent copy (drbd.PromoteForce).
type forcing struct{ on, really bool }

// Local carries out action (start, mount, down, ...) on this node's
// volumes of app inside the calling process, as drbd_tool --action would:
// clstartapp, clhaltapp and cldaemon's takeover call it rather than
// starting a drbd_tool process (about 17 ms each, twice per start, on a
// fail-over's critical path). What drbd_tool would print is discarded,
// as the tools did with its output; errors are returned.
func Local(ctx context.Context, l layout.Layout, cfg *config.Cluster, app, action string, noprimary, force, reallyForce bool) error {
	err := Request{L: l, Cfg: cfg, App: app, Action: action, NoPrimary: noprimary, Force: force, ReallyForce: reallyForce,
		Log: logx.New(io.Discard), Out: io.Discard}.Do(ctx)
	if err != nil {
		return fmt.Errorf("drbd_tool %s: %w", action, err)
	}
	return nil
}

// primary promotes v, with DRBD's --force only where drbd.PromoteForce
// allows it for the volume's state now.
func (t *tool) primary(ctx context.Context, v volumes.Volume, force forcing) error {
	useForce := false
	if force.on {
		st, err := t.d.Status(ctx, v.Res)
		if err != nil {
			return fmt.Errorf("%s/%s: %w", v.FS.VG, v.FS.LV, err)
		}
		if useForce, err = drbd.PromoteForce(st, force.on, force.really); err != nil {
			return fmt.Errorf("%s/%s: %w", v.FS.VG, v.FS.LV, err)
		}
	}
	return t.d.Primary(ctx, v.Res, useForce)
}

type tool struct {
	d    *drbd.Driver
	log  *logx.Logger
	out  io.Writer
	app  string
	json bool // status as JSON
}

func (t *tool) do(ctx context.Context, action string, vols []volumes.Volume, noprimary bool, force forcing) error {
	switch action {
	case "start":
		// Each volume is its own DRBD resource with its own
		// configuration file: they start side by side.
		return each(len(vols), func(i int) error {
			v := vols[i]
			if err := activate(ctx, v); err != nil {
				return err
			}
			if err := t.d.Prepare(v.Res); err != nil {
				return err
			}
			if _, err := t.d.Up(ctx, v.Res); err != nil {
				return err
			}
			t.log.Infof("Started DRBD device %s for %s/%s", v.Res.Device(), v.FS.VG, v.FS.LV)
			if !noprimary {
				if !force.on {
					// Without --force DRBD only promotes a disk it knows is
					// current: give the connection to the peer time to
					// settle first.
					t.waitConnected(ctx, v.Res, 15*time.Second)
				}
				return t.primary(ctx, v, force)
			}
			return nil
		})
	case "create_md":
		for _, v := range vols {
			if err := t.d.Prepare(v.Res); err != nil {
				return err
			}
			if err := t.d.CreateMD(ctx, v.Res); err != nil {
				return err
			}
		}
	case "set_primary":
		for _, v := range vols {
			if err := t.primary(ctx, v, force); err != nil {
				return err
			}
		}
	case "mount":
		mps := make([]string, len(vols))
		for i, v := range vols {
			mps[i] = v.FS.MountPoint
		}
		for _, wave := range mountWaves(mps) {
			err := each(len(wave), func(k int) error {
				v := vols[wave[k]]
				if err := mount(ctx, v); err != nil {
					return err
				}
				t.log.Infof("Mounted %s on %s", v.Res.Device(), v.FS.MountPoint)
				return nil
			})
			if err != nil {
				return err
			}
		}
	case "unmount":
		for i := len(vols) - 1; i >= 0; i-- {
			if err := unmount(ctx, vols[i]); err != nil {
				return err
			}
		}
	case "down":
		for _, v := range vols {
			if err := t.d.Down(ctx, v.Res); err != nil {
				return err
			}
		}
	case "resize":
		for _, v := range vols {
			if err := t.d.Resize(ctx, v.Res); err != nil {
				return err
			}
		}
	case "invalidate_remote":
		for _, v := range vols {
			if err := t.d.InvalidateRemote(ctx, v.Res); err != nil {
				return err
			}
		}
	case "verify", "verify_tail":
		// Online verify of both copies (the whole volume, or only the
		// end DRBD 8.4 may lose track of: drbd.TailBytes), then a
		// resynchronisation of whatever differed.
		for _, v := range vols {
			var found int64
			var err error
			if action == "verify" {
				if found, err = t.d.Verify(ctx, v.Res, 0, 0); err == nil && found > 0 {
					err = t.d.Resync(ctx, v.Res)
				}
			} else {
				found, err = t.d.CheckTail(ctx, v.Res)
			}
			if err != nil {
				return fmt.Errorf("%s/%s: %w", v.FS.VG, v.FS.LV, err)
			}
			if found > 0 {
				t.log.Warnf("%s/%s: the two copies differ in %d KiB: resynchronising them", v.FS.VG, v.FS.LV, found>>10)
				fmt.Fprintf(t.out, "%s/%s %s: %d KiB differed, resynchronising\n", v.FS.VG, v.FS.LV, v.Res.Device(), found>>10)
			} else {
				fmt.Fprintf(t.out, "%s/%s %s: identical\n", v.FS.VG, v.FS.LV, v.Res.Device())
			}
		}
	case "status":
		doc := StatusDoc{Schema: StatusSchema, Application: t.app, Replication: "drbd", Volumes: []VolStatus{}}
		for _, v := range vols {
			st, err := t.d.Status(ctx, v.Res)
			if err != nil {
				return err
			}
			if t.json {
				doc.Volumes = append(doc.Volumes, drbdStatus(v.FS.VG, v.FS.LV, v.FS.MountPoint, v.Res.Device(), st))
				continue
			}
			sync := ""
			if st.Syncing {
				sync = fmt.Sprintf(" %.1f%% ETA %v", st.Percent, st.ETA)
			}
			fmt.Fprintf(t.out, "%s/%s %s cs:%s ro:%s/%s ds:%s/%s%s\n", v.FS.VG, v.FS.LV, v.Res.Device(),
				st.Connection, st.Role, st.PeerRole, st.Disk, st.PeerDisk, sync)
		}
		if t.json {
			return jsonout.Write(t.out, doc)
		}
	default:
		return fmt.Errorf("unknown action %q", action)
	}
	return nil
}

// Parallel bounds how many volumes start or mount at once: each is a few
// processes (drbdadm, fsck, mount) that mostly wait for the kernel and
// the disk, and thirty at once would only queue for the CPU.
const Parallel = 8

// each runs f(0..n-1), at most Parallel at a time, waits for all of them
// and returns the error of the lowest index that failed.
func each(n int, f func(i int) error) error {
	errs := make([]error, n)
	sem := make(chan struct{}, Parallel)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			errs[i] = f(i)
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// mountWaves orders mount points for mounting: one that lies under
// another mounts in a later wave than it, and the mount points of a wave
// are independent of each other (they mount together). The indexes are
// those of mps, in order within each wave.
func mountWaves(mps []string) [][]int {
	under := func(child, parent string) bool {
		c, p := filepath.Clean(child), filepath.Clean(parent)
		return c != p && (p == "/" || strings.HasPrefix(c, p+"/"))
	}
	level := make([]int, len(mps))
	for i := range mps {
		level[i] = -1
	}
	// "under" is strict, so the recursion climbs towards "/" and ends.
	var levelOf func(i int) int
	levelOf = func(i int) int {
		if level[i] >= 0 {
			return level[i]
		}
		l := 0
		for j := range mps {
			if under(mps[i], mps[j]) {
				l = max(l, levelOf(j)+1)
			}
		}
		level[i] = l
		return l
	}
	var waves [][]int
	for i := range mps {
		l := levelOf(i)
		for len(waves) <= l {
			waves = append(waves, nil)
		}
		waves[l] = append(waves[l], i)
	}
	return waves
}

// waitConnected waits until the resource is connected to its peer or its
// own disk is UpToDate, at most max.
func (t *tool) waitConnected(ctx context.Context, r drbd.Resource, max time.Duration) {
	deadline := time.Now().Add(max)
	for time.Now().Before(deadline) {
		st, err := t.d.Status(ctx, r)
		if err == nil && (st.Disk == "UpToDate" || st.Connection == "Connected" || strings.HasPrefix(st.Connection, "Sync")) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// activate makes the volume and its meta volume available, as an LVM
// resource agent does before using them: after a reboot without the
// distribution's auto-activation (or with it limited by a volume_list) the
// volume group is inactive and its /dev nodes are missing.
func activate(ctx context.Context, v volumes.Volume) error {
	if _, err := os.Stat(v.Res.Disk()); err == nil {
		if _, err := os.Stat(v.Res.MetaDisk()); err == nil {
			return nil
		}
	}
	if _, err := (storage.Exec{}).Run(ctx, nil, "lvchange", "-q", "-ay", v.FS.VG+"/"+v.FS.LV, v.FS.VG+"/"+v.FS.LV+"_meta"); err != nil {
		return fmt.Errorf("activate %s/%s: %w", v.FS.VG, v.FS.LV, err)
	}
	return nil
}

// mount checks the file system (fsck exit 4 or more aborts, L6937) and
// mounts it on the DRBD device with the fsmap options. An ext file
// system whose superblock says e2fsck -p would only report it clean is
// not handed to a fsck process (storage.ExtNeedsCheck): one process less
// per volume on a takeover's critical path.
func mount(ctx context.Context, v volumes.Volume) error {
	if storage.Mounted(v.FS.MountPoint) {
		return nil
	}
	if err := os.MkdirAll(v.FS.MountPoint, 0o755); err != nil {
		return err
	}
	if strings.HasPrefix(v.FS.FSType, "ext") && extNeedsCheck(v.Res.Device()) {
		if _, err := (storage.Exec{}).Run(ctx, nil, "fsck."+v.FS.FSType, "-p", v.Res.Device()); err != nil {
			var ee *storage.ExitError
			if !errors.As(err, &ee) || ee.Code >= 4 {
				return fmt.Errorf("file system check of %s failed: %w", v.Res.Device(), err)
			}
		}
	}
	opts := v.FS.Options
	if opts == "" {
		opts = "defaults"
	}
	return storage.Mount(ctx, v.FS.FSType, opts, v.Res.Device(), v.FS.MountPoint)
}

// extNeedsCheck reads dev's superblock: unreadable, or not clean, it
// goes to fsck.
func extNeedsCheck(dev string) bool {
	sb, err := storage.ReadSuperblock(dev)
	if err != nil {
		return true
	}
	need, _ := storage.ExtNeedsCheck(sb, time.Now())
	return need
}

func unmount(ctx context.Context, v volumes.Volume) error {
	if !storage.Mounted(v.FS.MountPoint) {
		return nil
	}
	return storage.Unmount(ctx, v.FS.MountPoint)
}
