package volctl

import (
	"context"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"

	"github.com/linuxha-ng/linuxha/pkg/config"
	"github.com/linuxha-ng/linuxha/pkg/daemonize"
	"github.com/linuxha-ng/linuxha/pkg/jsonout"
	"github.com/linuxha-ng/linuxha/pkg/layout"
	"github.com/linuxha-ng/linuxha/pkg/logx"
	"github.com/linuxha-ng/linuxha/pkg/storage/filesync"
	"github.com/linuxha-ng/linuxha/pkg/storage/volumes"
)

// fsTool is drbd_tool for datadetail filesync: the directories need no
// devices, so start/set_primary run the syncer and down stops it (after
// its final pass).
type fsTool struct {
	l    layout.Layout
	cfg  *config.Cluster
	app  string
	log  *logx.Logger
	out  io.Writer
	json bool // status as JSON
}

func (t *fsTool) do(ctx context.Context, action string, noprimary bool) error {
	s, err := volumes.NewSyncer(t.l, t.cfg, t.app)
	if err != nil {
		return err
	}
	switch action {
	case "start", "set_primary", "mount":
		for _, d := range s.Dirs {
			if err := os.MkdirAll(d.Path, 0o755); err != nil {
				return err
			}
		}
		if action == "mount" || noprimary || volumes.SyncerPid(t.l, t.app) != 0 {
			return nil
		}
		if _, err := daemonize.DetachExe(layout.Bin("drbd_tool"), volumes.SyncerTitle(t.app), []string{"syncd", "--application", t.app}, 30*time.Second); err != nil {
			return fmt.Errorf("start filesync for %s: %w", t.app, err)
		}
		t.log.Infof("Started filesync replication of %s to %s", t.app, s.PeerNode)
	case "down":
		pid := volumes.SyncerPid(t.l, t.app)
		if pid == 0 {
			return nil
		}
		syscall.Kill(pid, syscall.SIGTERM)
		for deadline := time.Now().Add(3 * time.Minute); volumes.SyncerPid(t.l, t.app) == pid; {
			if time.Now().After(deadline) {
				syscall.Kill(pid, syscall.SIGKILL)
				return fmt.Errorf("filesync for %s did not finish its last pass in 3 minutes; killed", t.app)
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.log.Infof("Stopped filesync replication of %s", t.app)
	case "invalidate_remote":
		if asked, err := volumes.SyncNow(t.l, t.app); asked || err != nil {
			return err
		}
		return s.SyncAll(ctx, true)
	case "unmount", "create_md", "resize":
		// Directories are neither mounted, nor have meta-data or a size.
	case "status":
		st, err := filesync.ReadState(t.l.StatusDir(t.app))
		running := volumes.SyncerPid(t.l, t.app) != 0
		if t.json {
			doc := StatusDoc{Schema: StatusSchema, Application: t.app, Replication: "filesync", Volumes: []VolStatus{}}
			for _, d := range s.Dirs {
				var vs *filesync.VolState
				for i, v := range st.Vols {
					if err == nil && v.VG == d.VG && v.LV == d.LV {
						vs = &st.Vols[i]
					}
				}
				doc.Volumes = append(doc.Volumes, filesyncStatus(d, running, vs))
			}
			return jsonout.Write(t.out, doc)
		}
		for _, d := range s.Dirs {
			line := fmt.Sprintf("%s/%s %s filesync async", d.VG, d.LV, d.Path)
			if !running {
				line += " stopped"
			} else {
				line += " running"
			}
			if err == nil {
				for _, v := range st.Vols {
					if v.VG == d.VG && v.LV == d.LV {
						line += " " + describe(v)
					}
				}
			}
			fmt.Fprintln(t.out, line)
		}
	default:
		return fmt.Errorf("unknown action %q", action)
	}
	return nil
}

func describe(v filesync.VolState) string {
	switch {
	case v.Syncing:
		return "syncing"
	case v.LastErr != "":
		return "failed: " + v.LastErr
	case v.Complete && !v.Pending:
		return "current (last pass " + v.LastOK.Format("15:04:05") + ")"
	default:
		return "pending"
	}
}
