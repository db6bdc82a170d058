package volctl

import (
	"testing"
	"time"

	"github.com/linuxha-ng/linuxha/internal/golden"
	"github.com/linuxha-ng/linuxha/pkg/storage/drbd"
	"github.com/linuxha-ng/linuxha/pkg/storage/filesync"
)

// drbd_tool status --json (issue 19): a DRBD volume resynchronising and
// one in step, read from the Reference's /proc/drbd (L3079-3093 shows
// the same fields); filesync directories current, failing and not yet
// passed.
func TestStatusDocGolden(t *testing.T) {
	proc := `version: 8.4.11 (api:1/proto:86-101)
 0: cs:SyncSource ro:Primary/Secondary ds:UpToDate/Inconsistent C r-----
    ns:1048576 nr:0 dw:0 dr:1049000 al:0 bm:0 lo:0 pe:2 ua:0 ap:0 ep:1 wo:f oos:786432
	[====>...............] sync'ed: 25.1% (768/1024)M
	finish: 0:01:30 speed: 8,704 (8,704) K/sec
 1: cs:Connected ro:Primary/Secondary ds:UpToDate/UpToDate C r-----
`
	syncing, _ := drbd.Parse84(proc, 0)
	inStep, _ := drbd.Parse84(proc, 1)
	golden.JSON(t, "status-drbd.json", StatusDoc{Schema: StatusSchema, Application: "apache", Replication: "drbd", Volumes: []VolStatus{
		drbdStatus("apachevg", "data", "/apache/data", "/dev/drbd0", syncing),
		drbdStatus("apachevg", "logs", "/apache/logs", "/dev/drbd1", inStep),
		drbdStatus("apachevg", "tmp", "/apache/tmp", "/dev/drbd2", drbd.State{Connection: "Unconfigured"}),
	}})
	ok := time.Date(2026, 12, 3, 16, 0, 0, 0, time.UTC)
	golden.JSON(t, "status-filesync.json", StatusDoc{Schema: StatusSchema, Application: "apache", Replication: "filesync", Volumes: []VolStatus{
		filesyncStatus(filesync.Dir{VG: "apachevg", LV: "data", Path: "/apache/data"}, true, &filesync.VolState{LastOK: ok, Complete: true}),
		filesyncStatus(filesync.Dir{VG: "apachevg", LV: "logs", Path: "/apache/logs"}, true, &filesync.VolState{LastOK: ok, LastErr: "rsync: connection refused", Pending: true}),
		filesyncStatus(filesync.Dir{VG: "apachevg", LV: "tmp", Path: "/apache/tmp"}, false, nil),
	}})
}
