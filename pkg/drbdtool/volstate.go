package drbdtool

import (
	"context"
	"os"

	api "github.com/linuxha-ng/linuxha/pkg/daemonapi"

	"github.com/linuxha-ng/linuxha/pkg/config"
	"github.com/linuxha-ng/linuxha/pkg/layout"
	"github.com/linuxha-ng/linuxha/pkg/state"
	"github.com/linuxha-ng/linuxha/pkg/storage/drbd"
	"github.com/linuxha-ng/linuxha/pkg/storage/filesync"
)

// VolumeStates reports each volume of app as this node sees it: from the
// replication driver while it runs, else from the STALE flags.
func VolumeStates(ctx context.Context, l layout.Layout, cfg *config.Cluster, app, me, peer string) ([]api.Volume, error) {
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
	var out []api.Volume
	if cfg.DataDetail == "filesync" {
		st, stErr := filesync.ReadState(l.StatusDir(app))
		running := syncerPid(l, app) != 0
		for _, e := range fs {
			v := api.Volume{MountPoint: e.MountPoint, Type: "filesync", Valid: flags(e), State: "Unsync"}
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
	vols, err := Volumes(l, cfg, app, "", "")
	if err != nil {
		return nil, err
	}
	d := &drbd.Driver{ConfDir: l.DrbdConfDir()}
	for _, vol := range vols {
		v := api.Volume{MountPoint: vol.FS.MountPoint, Type: "drbd", Valid: flags(vol.FS), State: "Unsync"}
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
