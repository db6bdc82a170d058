package clstat

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/linuxha-ng/linuxha/internal/golden"
	"github.com/linuxha-ng/linuxha/pkg/clitool"
	"github.com/linuxha-ng/linuxha/pkg/daemonapi"
	"github.com/linuxha-ng/linuxha/pkg/jsonout"
	"github.com/urfave/cli/v2"
)

// clstat --json's documents (issue 19): a schema name first, seconds for
// durations, RFC 3339 for times, null for what is absent (no node, no
// running time, no resync), empty lists rather than null where the
// cluster answered.
func TestJSONGolden(t *testing.T) {
	golden.JSON(t, "status.json", Status{Cluster: "cluster1", State: "UP",
		Nodes: []NodeStatus{{Node: "servera", Status: "UP"}, {Node: "serverb", Status: "DOWN"}},
		Apps: []AppRow{{App: "apache", Node: "servera", State: "STARTED", Running: 3723500 * time.Millisecond, Monitor: true, Failover: "No"},
			{App: "samba", State: "DOWN", Stale: 2, Failover: "N/A"}}}.Doc())
	golden.JSON(t, "status-down.json", Status{Cluster: "cluster1", State: "DOWN"}.Doc())
	reset := time.Date(2026, 12, 3, 17, 4, 0, 0, time.FixedZone("CET", 3600))
	golden.JSON(t, "application.json", AppStatus{Cluster: "cluster1", State: "UP", App: "apache", Node: "servera", AppState: "STARTED",
		Running: 90 * time.Second, Monitor: "Running", Stale: 1, Failover: "Yes",
		FS: []daemonapi.Volume{{MountPoint: "/apache/data", Valid: "both", Type: "drbd", State: "Syncing", Percent: 42.5, ETA: 75 * time.Second},
			{MountPoint: "/apache/logs", Valid: "both", Type: "drbd", State: "Sync"}},
		Procs:   []ProcMonitor{{Name: "httpd", Status: "Running", Restarts: 3, Current: 1, ResetAt: reset}, {Name: "cron", Status: "Stopped", Restarts: 3}},
		General: []GeneralMonitor{{Type: "Network", Name: "ip", Status: "Running"}},
		Resources: []Resource{{Name: "www", Kind: "ocf", What: "ocf:heartbeat:apache", State: "Started", Monitor: "Running", Restarts: 3, Current: 1, ResetAt: reset},
			{Name: "jobs", Kind: "crontab", What: "crontab jobs", State: "Started", Monitor: "None", Restarts: 3}}}.Doc())
	golden.JSON(t, "application-down.json", AppStatus{Cluster: "cluster1", State: "UP", App: "apache", AppState: "DOWN", Monitor: "Not running", Failover: "N/A"}.Doc())
}

// A failure in JSON mode is a JSON document on standard output with the
// exit code, and nothing on standard error.
func TestJSONError(t *testing.T) {
	var out, errb bytes.Buffer
	app := NewApp(&out, &errb)
	app.Action = func(*cli.Context) error { return clitool.NotRunning(errors.New("Cluster cluster1 is not running.")) }
	code := clitool.Run(context.Background(), app, []string{"clstat", "--json"})
	if code != clitool.ExitNotRunning || errb.Len() != 0 || !jsonout.Valid(out.Bytes()) ||
		!strings.Contains(out.String(), `"schema": "linuxha.error/v1"`) || !strings.Contains(out.String(), `"exit_code": 4`) {
		t.Fatalf("%d\nstdout %s\nstderr %s", code, out.String(), errb.String())
	}
}
