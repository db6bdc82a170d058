package volctl

import (
	"github.com/linuxha-ng/linuxha/pkg/jsonout"
	"github.com/linuxha-ng/linuxha/pkg/storage/drbd"
	"github.com/linuxha-ng/linuxha/pkg/storage/filesync"
)

// StatusSchema names StatusDoc.
const StatusSchema = "linuxha.drbd_tool.status/v1"

// StatusDoc is drbd_tool --action status --json: each volume of the
// application on this node. A DRBD volume fills the drbd fields and
// leaves the filesync ones null; a filesync directory the other way
// round.
type StatusDoc struct {
	Schema      string      `json:"schema"`
	Application string      `json:"application"`
	Replication string      `json:"replication"` // drbd or filesync
	Volumes     []VolStatus `json:"volumes"`
}

// VolStatus is one volume's replication on this node.
type VolStatus struct {
	VG         string  `json:"vg"`
	LV         string  `json:"lv"`
	MountPoint *string `json:"mount_point"` // filesync: the directory
	// DRBD (drbd_* names as drbd-reactor's exporter has them).
	Device     *string          `json:"device"`
	Connection *string          `json:"connection"` // Connected, WFConnection, SyncSource ... Unconfigured
	Role       *string          `json:"role"`
	PeerRole   *string          `json:"peer_role"`
	Disk       *string          `json:"disk"`
	PeerDisk   *string          `json:"peer_disk"`
	OutOfSync  *int64           `json:"out_of_sync_bytes"`
	Percent    *float64         `json:"percent"`     // while resynchronising
	ETASeconds *jsonout.Seconds `json:"eta_seconds"` // likewise
	// filesync.
	Syncer    *string `json:"syncer"` // running or stopped
	State     *string `json:"state"`  // syncing, current, pending or failed
	LastOK    *string `json:"last_ok"`
	LastError *string `json:"last_error"`
}

// drbdStatus is a DRBD volume's line.
func drbdStatus(vg, lv, mount, device string, st drbd.State) VolStatus {
	v := VolStatus{VG: vg, LV: lv, MountPoint: jsonout.String(mount), Device: jsonout.String(device),
		Connection: jsonout.String(st.Connection), Role: jsonout.String(st.Role), PeerRole: jsonout.String(st.PeerRole),
		Disk: jsonout.String(st.Disk), PeerDisk: jsonout.String(st.PeerDisk)}
	if st.Connection != "Unconfigured" {
		oos := st.OutOfSync
		v.OutOfSync = &oos
	}
	if st.Syncing {
		p := st.Percent
		v.Percent, v.ETASeconds = &p, jsonout.Duration(st.ETA)
	}
	return v
}

// filesyncStatus is a filesync directory's line; st is nil when the
// syncer has written no state yet.
func filesyncStatus(d filesync.Dir, running bool, st *filesync.VolState) VolStatus {
	syncer := "stopped"
	if running {
		syncer = "running"
	}
	v := VolStatus{VG: d.VG, LV: d.LV, MountPoint: jsonout.String(d.Path), Syncer: &syncer}
	if st == nil {
		return v
	}
	state := "pending"
	switch {
	case st.Syncing:
		state = "syncing"
	case st.LastErr != "":
		state = "failed"
	case st.Complete && !st.Pending:
		state = "current"
	}
	v.State, v.LastOK, v.LastError = &state, jsonout.Time(st.LastOK), jsonout.String(st.LastErr)
	return v
}
