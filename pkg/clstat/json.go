package clstat

import (
	"time"

	"github.com/linuxha-ng/linuxha/pkg/daemonapi"
	"github.com/linuxha-ng/linuxha/pkg/jsonout"
)

// The schemas of clstat --json (clstat(8), JSON OUTPUT).
const (
	StatusSchema = "linuxha.clstat/v1"
	AppSchema    = "linuxha.clstat.application/v1"
)

// StatusDoc is plain clstat as JSON: nodes and applications are null
// when the cluster is not running.
type StatusDoc struct {
	Schema       string       `json:"schema"`
	Cluster      string       `json:"cluster"`
	State        string       `json:"state"` // UP or DOWN
	Nodes        []NodeStatus `json:"nodes"`
	Applications []AppRowDoc  `json:"applications"`
}

// AppRowDoc is one row of the application table.
type AppRowDoc struct {
	Application    string           `json:"application"`
	Node           *string          `json:"node"` // null when it runs nowhere
	State          string           `json:"state"`
	RunningSeconds *jsonout.Seconds `json:"running_seconds"` // null unless STARTED
	Monitor        bool             `json:"monitor"`
	Stale          int              `json:"stale"`
	Failover       string           `json:"failover"`
}

// Doc is st as JSON.
func (st Status) Doc() StatusDoc {
	d := StatusDoc{Schema: StatusSchema, Cluster: st.Cluster, State: st.State, Nodes: st.Nodes}
	if st.State == "UP" {
		d.Applications = []AppRowDoc{}
		if d.Nodes == nil {
			d.Nodes = []NodeStatus{}
		}
	}
	for _, a := range st.Apps {
		d.Applications = append(d.Applications, AppRowDoc{Application: a.App, Node: jsonout.String(a.Node), State: a.State,
			RunningSeconds: running(a.State, a.Running), Monitor: a.Monitor, Stale: a.Stale, Failover: a.Failover})
	}
	return d
}

// running is how long a STARTED application has run (0 just after its
// start), null in any other state.
func running(state string, d time.Duration) *jsonout.Seconds {
	if state != daemonapi.AppStarted {
		return nil
	}
	s := jsonout.Seconds(d.Seconds())
	return &s
}

// AppDoc is clstat --application as JSON.
type AppDoc struct {
	Schema         string                `json:"schema"`
	Cluster        string                `json:"cluster"`
	ClusterState   string                `json:"cluster_state"`
	Application    string                `json:"application"`
	Node           *string               `json:"node"`
	State          string                `json:"state"`
	RunningSeconds *jsonout.Seconds      `json:"running_seconds"`
	Monitor        string                `json:"monitor"` // Running or Not running
	Stale          int                   `json:"stale"`
	Failover       string                `json:"failover"`
	FileSystems    []daemonapi.VolumeDoc `json:"file_systems"`
	ProcessMon     []ProcDoc             `json:"process_monitors"`
	GeneralMon     []GeneralMonitor      `json:"general_monitors"`
	Resources      []ResourceDoc         `json:"resources"`
}

// ResourceDoc is one member of the application's <resources>.
type ResourceDoc struct {
	Name     string  `json:"name"`
	Kind     string  `json:"kind"`
	What     string  `json:"what"`
	State    string  `json:"state"`   // Started or Stopped
	Monitor  string  `json:"monitor"` // Running, Stopped or None
	Restarts int     `json:"restarts"`
	Current  int     `json:"current"`
	ResetAt  *string `json:"reset_at"` // null while the count is 0
}

// ProcDoc is one process monitor.
type ProcDoc struct {
	Name     string  `json:"name"`
	Status   string  `json:"status"`   // Running or Stopped
	Restarts int     `json:"restarts"` // allowed before a fail-over
	Current  int     `json:"current"`
	ResetAt  *string `json:"reset_at"` // when the count goes back to 0; null when it is 0
}

// Doc is st as JSON.
func (st AppStatus) Doc() AppDoc {
	d := AppDoc{Schema: AppSchema, Cluster: st.Cluster, ClusterState: st.State, Application: st.App, Node: jsonout.String(st.Node),
		State: st.AppState, Monitor: st.Monitor, Stale: st.Stale, Failover: st.Failover,
		FileSystems: []daemonapi.VolumeDoc{}, ProcessMon: []ProcDoc{}, GeneralMon: []GeneralMonitor{}, Resources: []ResourceDoc{}}
	d.RunningSeconds = running(st.AppState, st.Running)
	for _, v := range st.FS {
		d.FileSystems = append(d.FileSystems, v.Doc())
	}
	for _, p := range st.Procs {
		pd := ProcDoc{Name: p.Name, Status: p.Status, Restarts: p.Restarts, Current: p.Current}
		if p.Current > 0 {
			pd.ResetAt = jsonout.Time(p.ResetAt)
		}
		d.ProcessMon = append(d.ProcessMon, pd)
	}
	d.GeneralMon = append(d.GeneralMon, st.General...)
	for _, r := range st.Resources {
		rd := ResourceDoc{Name: r.Name, Kind: r.Kind, What: r.What, State: r.State, Monitor: r.Monitor, Restarts: r.Restarts, Current: r.Current}
		if r.Current > 0 {
			rd.ResetAt = jsonout.Time(r.ResetAt)
		}
		d.Resources = append(d.Resources, rd)
	}
	return d
}
