package drbdtool

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/linuxha-ng/linuxha/pkg/config"
	"github.com/linuxha-ng/linuxha/pkg/layout"
	"github.com/linuxha-ng/linuxha/pkg/state"
	"github.com/linuxha-ng/linuxha/pkg/storage/drbd"
	"github.com/linuxha-ng/linuxha/pkg/storage/filesync"
)

// VolState is one line of clstat's File Systems section (L3079-3093).
type VolState struct {
	MountPoint string        `json:"mount_point"`
	Valid      string        `json:"valid"` // both, local, remote or none: seen from this node
	Type       string        `json:"type"`  // drbd or filesync (asynchronous)
	State      string        `json:"state"` // Sync, Syncing or Unsync
	Percent    float64       `json:"percent,omitempty"`
	ETA        time.Duration `json:"eta,omitempty"`
}

// Encode is the lvinfo form of APP_STATUS: fields separated by ':'.
func (v VolState) Encode() string {
	return fmt.Sprintf("%s:%s:%s:%s:%.1f:%d", v.MountPoint, v.Valid, v.Type, v.State, v.Percent, int64(v.ETA.Seconds()))
}

// DecodeVolState reverses Encode.
func DecodeVolState(s string) (VolState, error) {
	f := strings.Split(s, ":")
	if len(f) != 6 {
		return VolState{}, fmt.Errorf("lvinfo entry %q: want 6 fields", s)
	}
	pct, _ := strconv.ParseFloat(f[4], 64)
	eta, _ := strconv.ParseInt(f[5], 10, 64)
	return VolState{MountPoint: f[0], Valid: f[1], Type: f[2], State: f[3], Percent: pct, ETA: time.Duration(eta) * time.Second}, nil
}

// VolumeStates reports each volume of app as this node sees it: from the
// replication driver while it runs, else from the STALE flags.
func VolumeStates(ctx context.Context, l layout.Layout, cfg *config.Cluster, app, me, peer string) ([]VolState, error) {
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
	var out []VolState
	if cfg.DataDetail == "filesync" {
		st, stErr := filesync.ReadState(l.StatusDir(app))
		running := syncerPid(l, app) != 0
		for _, e := range fs {
			v := VolState{MountPoint: e.MountPoint, Type: "filesync", Valid: flags(e), State: "Unsync"}
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
		v := VolState{MountPoint: vol.FS.MountPoint, Type: "drbd", Valid: flags(vol.FS), State: "Unsync"}
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
