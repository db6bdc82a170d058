// Package drbdtool is drbd_tool: manual control of an application's
// replicated volumes outside the cluster (Reference L2228-2270,
// §18.3.2-18.3.3), and the building block the build and start tools use.
package drbdtool

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/linuxha-ng/linuxha/pkg/clitool"
	"github.com/linuxha-ng/linuxha/pkg/jsonout"
	"github.com/linuxha-ng/linuxha/pkg/layout"
	"github.com/linuxha-ng/linuxha/pkg/logx"
	"github.com/linuxha-ng/linuxha/pkg/storage"
	"github.com/linuxha-ng/linuxha/pkg/storage/drbd"
	"github.com/linuxha-ng/linuxha/pkg/storage/volumes"
)

// NewApp builds the drbd_tool command.
func NewApp(stdout, stderr io.Writer) *cli.App {
	return &cli.App{
		Name:  "drbd_tool",
		Usage: "start, mount, unmount and stop an application's DRBD volumes by hand",
		UsageText: "drbd_tool --application A --action start|mount|unmount|down|set_primary|resize|invalidate_remote|create_md|status\n" +
			"          [--noprimary] [--force] [--vg V --lv L] [--json]",
		Description: "For changes outside the cluster (Reference §8.6.1): start (activate the logical volumes\n" +
			"if their volume group is inactive, configure and connect the\n" +
			"volumes, and make them primary unless --noprimary; --force makes them primary even\n" +
			"when the peer's copy is not known to be older), mount (fsck, then mount on the DRBD\n" +
			"devices with the fsmap options), unmount, down, set_primary [--force], resize (after\n" +
			"the logical volumes grew), invalidate_remote (full resync to the other node),\n" +
			"create_md (fresh meta-data; used by clbuildapp --sync) and status.",
		Writer:          stdout,
		ErrWriter:       stderr,
		HideHelpCommand: true,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "application", Aliases: []string{"A"}, Usage: "the application (required)"},
			&cli.StringFlag{Name: "action", Usage: "what to do (required)"},
			&cli.BoolFlag{Name: "noprimary", Usage: "with start: leave the volumes secondary"},
			&cli.BoolFlag{Name: "force", Usage: "with start or set_primary: force primary"},
			&cli.StringFlag{Name: "vg", Usage: "only this volume group"},
			&cli.StringFlag{Name: "lv", Usage: "only this logical volume"},
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"V"}},
			&cli.BoolFlag{Name: "nochecksums"},
			&cli.BoolFlag{Name: "json", Usage: "with status: print the volumes' state as JSON"},
		},
		Action: func(c *cli.Context) error {
			if c.String("application") == "" || c.String("action") == "" {
				return clitool.Usagef("--application and --action are required")
			}
			if c.Bool("json") && c.String("action") != "status" {
				return clitool.Usagef("--json goes with --action status only")
			}
			l := layout.FromEnv()
			cfg, err := clitool.LoadBuiltCluster(l, c.Bool("nochecksums"))
			if err != nil {
				return err
			}
			log := logx.New(stdout)
			log.SetVerbose(c.Bool("verbose"))
			if cfg.DataDetail == "filesync" {
				t := &fsTool{l: l, cfg: cfg, app: c.String("application"), log: log, out: stdout, json: c.Bool("json")}
				return t.do(c.Context, c.String("action"), c.Bool("noprimary"))
			}
			vols, err := volumes.Of(l, cfg, c.String("application"), c.String("vg"), c.String("lv"))
			if err != nil {
				return err
			}
			t := &tool{d: &drbd.Driver{ConfDir: l.DrbdConfDir()}, log: log, out: stdout, app: c.String("application"), json: c.Bool("json")}
			return t.do(c.Context, c.String("action"), vols, c.Bool("noprimary"), c.Bool("force"))
		},
		Commands: []*cli.Command{{
			Name: "syncd", Hidden: true, Usage: "the filesync replication process of an application",
			Flags: []cli.Flag{&cli.StringFlag{Name: "application", Required: true}},
			Action: func(c *cli.Context) error {
				return runSyncer(c.Context, layout.FromEnv(), c.String("application"))
			},
		}},
	}
}

type tool struct {
	d    *drbd.Driver
	log  *logx.Logger
	out  io.Writer
	app  string
	json bool // status as JSON
}

func (t *tool) do(ctx context.Context, action string, vols []volumes.Volume, noprimary, force bool) error {
	switch action {
	case "start":
		for _, v := range vols {
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
				if !force {
					// Without --force DRBD only promotes a disk it knows is
					// current: give the connection to the peer time to
					// settle first.
					t.waitConnected(ctx, v.Res, 15*time.Second)
				}
				if err := t.d.Primary(ctx, v.Res, force); err != nil {
					return err
				}
			}
		}
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
			if err := t.d.Primary(ctx, v.Res, force); err != nil {
				return err
			}
		}
	case "mount":
		for _, v := range vols {
			if err := mount(ctx, v); err != nil {
				return err
			}
			t.log.Infof("Mounted %s on %s", v.Res.Device(), v.FS.MountPoint)
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
// mounts it on the DRBD device with the fsmap options.
func mount(ctx context.Context, v volumes.Volume) error {
	if storage.Mounted(v.FS.MountPoint) {
		return nil
	}
	if err := os.MkdirAll(v.FS.MountPoint, 0o755); err != nil {
		return err
	}
	if strings.HasPrefix(v.FS.FSType, "ext") {
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
	_, err := (storage.Exec{}).Run(ctx, nil, "mount", "-t", v.FS.FSType, "-o", opts, v.Res.Device(), v.FS.MountPoint)
	return err
}

func unmount(ctx context.Context, v volumes.Volume) error {
	if !storage.Mounted(v.FS.MountPoint) {
		return nil
	}
	_, err := (storage.Exec{}).Run(ctx, nil, "umount", v.FS.MountPoint)
	return err
}
