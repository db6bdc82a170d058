package clstat

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/linuxha-ng/linuxha/lems"
	"github.com/linuxha-ng/linuxha/lems/monitors"
	"github.com/linuxha-ng/linuxha/pkg/clitool"
	"github.com/linuxha-ng/linuxha/pkg/config"
	"github.com/linuxha-ng/linuxha/pkg/daemonapi"
	"github.com/linuxha-ng/linuxha/pkg/layout"
	"github.com/linuxha-ng/linuxha/pkg/state"
)

// AppStatus is clstat --application (L2999-3073).
type AppStatus struct {
	Cluster  string             `json:"cluster"`
	State    string             `json:"cluster_state"`
	App      string             `json:"application"`
	Node     string             `json:"node,omitempty"`
	AppState string             `json:"state"`
	Running  time.Duration      `json:"running,omitempty"`
	Monitor  string             `json:"monitor"`
	Stale    int                `json:"stale"`
	Failover string             `json:"failover"`
	FS       []daemonapi.Volume `json:"file_systems"`
	Procs    []ProcMonitor      `json:"process_monitors"`
	General  []GeneralMonitor   `json:"general_monitors"`
	// Resources are the <resources> members: DRCM's cm_stat reports
	// each resource with its state.
	Resources []Resource `json:"resources"`
}

// Resource is a row of Resources.
type Resource struct {
	Name     string    `json:"name"`
	Kind     string    `json:"kind"`    // crontab, service, user, mount or ocf
	What     string    `json:"what"`    // ocf:heartbeat:apache, service apache2, ...
	State    string    `json:"state"`   // Started (where the application runs) or Stopped
	Monitor  string    `json:"monitor"` // Running, Stopped (its Lems check), or None
	Restarts int       `json:"restarts"`
	Current  int       `json:"current"`
	ResetAt  time.Time `json:"reset_at,omitempty"`
}

// ProcMonitor is a row of Process Monitors (L3054-3062).
type ProcMonitor struct {
	Name     string    `json:"name"`
	Status   string    `json:"status"`   // Running or Stopped
	Restarts int       `json:"restarts"` // before fail-over
	Current  int       `json:"current"`
	ResetAt  time.Time `json:"reset_at,omitempty"`
}

// GeneralMonitor is a row of General Monitors (L3064-3073).
type GeneralMonitor struct {
	Type   string `json:"type"`
	Name   string `json:"name"`
	Status string `json:"status"`
}

// monitors fills the monitor sections from the application's Lems.
func (st *AppStatus) monitors(ctx context.Context, l layout.Layout, cfg *config.Cluster, timeout time.Duration) {
	reply, err := lems.Send(ctx, l, cfg, st.App, st.Node, "GET_VSTAT", timeout)
	if err != nil {
		return
	}
	st.Monitor = "Running"
	for _, m := range lems.ParseStat(reply) {
		status := "Running"
		if m.NextRun == 0 {
			status = "Stopped"
		}
		if m.Module() == "resource" {
			st.resourceMonitor(m, status)
			continue
		}
		if m.Module() != "procmon" {
			st.General = append(st.General, GeneralMonitor{Type: monitors.Kind(m.Module()), Name: m.Name, Status: status})
			continue
		}
		p := ProcMonitor{Name: m.Name, Status: status}
		p.Restarts, p.Current, p.ResetAt = restartStat(m)
		st.Procs = append(st.Procs, p)
	}
}

// restartStat reads procmon's and the resource monitor's detail,
// "<max restarts>,<current>,<reset at unix or 0>".
func restartStat(m lems.MonitorStat) (max, current int, resetAt time.Time) {
	if len(m.Detail) > 0 {
		f := strings.Split(m.Detail[0], ",")
		if len(f) == 3 {
			max, _ = strconv.Atoi(f[0])
			current, _ = strconv.Atoi(f[1])
			if at, _ := strconv.ParseInt(f[2], 10, 64); at > 0 {
				resetAt = time.Unix(at, 0)
			}
		}
	}
	return max, current, resetAt
}

// resourceMonitor puts a "resource NAME" check's state on its row.
func (st *AppStatus) resourceMonitor(m lems.MonitorStat, status string) {
	f := strings.Fields(m.Command)
	for i := range st.Resources {
		if r := &st.Resources[i]; len(f) == 2 && r.Name == f[1] {
			r.Monitor = status
			r.Restarts, r.Current, r.ResetAt = restartStat(m)
		}
	}
}

// resources lists the application's members from its appconf.xml.
func (st *AppStatus) resources(l layout.Layout) {
	a, _, err := config.LoadApp(l.AppConf(st.App))
	if err != nil {
		return
	}
	for _, r := range a.Resources {
		row := Resource{Name: r.Name, Kind: r.Kind, What: r.ID(), State: "Stopped", Monitor: "None", Restarts: r.Restarts}
		if st.AppState == daemonapi.AppStarted {
			row.State = "Started"
		}
		st.Resources = append(st.Resources, row)
	}
}

// QueryApp asks the daemon of the node running app (or this node's when
// it runs nowhere) for the application line and its volumes.
func QueryApp(ctx context.Context, l layout.Layout, cfg *config.Cluster, app string, timeout time.Duration) (AppStatus, error) {
	st := AppStatus{Cluster: cfg.Name, State: "DOWN", App: app, Monitor: "Not running"}
	c, err := daemonapi.NewClient(l, cfg)
	if err != nil {
		return st, err
	}
	c.Timeout = timeout
	// One request answers it all unless the application runs on the
	// other node, whose daemon alone knows its volumes' sync state.
	o := daemonapi.StatusOptions{Failover: true, Volumes: true}
	as, _, err := c.AppStatusWhereRunning(ctx, "", app, o)
	if errors.Is(err, daemonapi.ErrNoDaemon) {
		return st, clitool.NotRunningf("Cluster %s is not running.", cfg.Name)
	}
	st.State = "UP"
	if err != nil {
		var r *daemonapi.Refused
		if errors.As(err, &r) {
			return st, fmt.Errorf("Application %s: %s", app, r.Reply)
		}
		return st, fmt.Errorf("Application %s: %w", app, err)
	}
	st.AppState, st.Node, st.Failover, st.FS = as.State, as.Node, as.FailoverWord(), as.Volumes
	st.Running = as.Running(time.Now())
	st.resources(l)
	if st.Node != "" {
		st.monitors(ctx, l, cfg, timeout)
	}
	st.Stale = staleCount(as, localStale(l, app))
	return st, nil
}

// localStale lists the application's STALE flags on this node.
func localStale(l layout.Layout, app string) []state.Stale {
	flags, _ := state.ListStale(l.StatusDir(app))
	return flags
}

// staleCount is the Stale column: how many file systems are "not fully
// synchronised on the two nodes" (L2996). While the application runs,
// its node's daemon reports each volume: one whose copies are not both
// valid, or that is out of step (a DRBD resync under way counts, as the
// copies differ until it ends; a filesync pass does not, the copy being
// asynchronous by design), is stale, whichever node is asked. Stopped,
// the volumes have no sync state and only the STALE flags this node
// holds say, one per file system.
func staleCount(as daemonapi.AppStatus, flags []state.Stale) int {
	if as.Node != "" && len(as.Volumes) > 0 {
		n := 0
		for _, v := range as.Volumes {
			if v.Valid != "both" || v.State == "Unsync" || v.State == "Syncing" && v.Type == "drbd" {
				n++
			}
		}
		return n
	}
	fs := map[[2]string]bool{}
	for _, f := range flags {
		fs[[2]string{f.VG, f.LV}] = true
	}
	return len(fs)
}

func clock(d time.Duration) string {
	s := int64(d.Seconds())
	return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
}

// PrintApp writes the Reference's layout (L3013-3035).
func PrintApp(w io.Writer, st AppStatus) {
	fmt.Fprintf(w, "Cluster: %s - %s\n\n", st.Cluster, st.State)
	fmt.Fprintf(w, "Application\tNode\tState\tRunning\tMonitor\tStale\tFail-over?\n")
	node, running := st.Node, "N/A"
	if node == "" {
		node = "N/A"
	}
	if st.AppState == "STARTED" {
		running = clock(st.Running)
	}
	fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n\n", st.App, node, st.AppState, running, st.Monitor, st.Stale, st.Failover)
	fmt.Fprintf(w, "File Systems\n\nMount Point\tValid\tType\tState\t%% Complete\tCompletion\n")
	for _, v := range st.FS {
		pct, eta := "", ""
		if v.State == "Syncing" && v.Type == "drbd" {
			pct, eta = fmt.Sprintf("%.1f", v.Percent), clock(v.ETA)
		}
		typ := v.Type
		if typ == "filesync" {
			typ = "filesync (async)"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", v.MountPoint, v.Valid, typ, v.State, pct, eta)
	}
	fmt.Fprintf(w, "\nProcess Monitors\n\nName\tStatus\tRestarts\tCurrent\tReset at\n")
	for _, p := range st.Procs {
		at := "N/A"
		if p.Current > 0 && !p.ResetAt.IsZero() {
			at = p.ResetAt.Format("02/01/2006-15:04") // L4517
		}
		fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%s\n", p.Name, p.Status, p.Restarts, p.Current, at)
	}
	fmt.Fprintf(w, "\nGeneral Monitors\n\nType\tName\tStatus\n")
	for _, g := range st.General {
		fmt.Fprintf(w, "%s\t%s\t%s\n", g.Type, g.Name, g.Status)
	}
	if len(st.Resources) == 0 {
		return
	}
	fmt.Fprintf(w, "\nResources\n\nName\tKind\tWhat\tState\tMonitor\tRestarts\tCurrent\n")
	for _, r := range st.Resources {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%d\t%d\n", r.Name, r.Kind, r.What, r.State, r.Monitor, r.Restarts, r.Current)
	}
}
