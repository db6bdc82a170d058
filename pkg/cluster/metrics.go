package cluster

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/linuxha-ng/linuxha/lems"
	api "github.com/linuxha-ng/linuxha/pkg/daemonapi"
	"github.com/linuxha-ng/linuxha/pkg/membership"
	"github.com/linuxha-ng/linuxha/pkg/state"
	"github.com/linuxha-ng/linuxha/pkg/storage/drbd"
	"github.com/linuxha-ng/linuxha/pkg/storage/volumes"
)

// metrics is what cldaemon exports to Prometheus (global/metrics): the
// counters of what it did, and a collector that reads its state at each
// scrape, as drbd-reactor's exporter does.
type metrics struct {
	reg                      *prometheus.Registry
	failovers, takeovers     prometheus.Counter
	tocs, partitions         prometheus.Counter
	fenceAttempts, fenceFail prometheus.Counter
	takeoverTime             prometheus.Histogram
	takeoverAddrs            prometheus.Histogram
	// The time between two heartbeats on a network: its tail against
	// warn and dead is the margin of the timing profile (jitter under
	// load, bench-soak).
	hbInterval *prometheus.HistogramVec
}

func newMetrics(d *Daemon) *metrics {
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: "linuxha_" + name, Help: help})
	}
	m := &metrics{
		reg:           prometheus.NewRegistry(),
		failovers:     counter("failovers_total", "Software fail-overs this daemon carried out (Lems FAILOVER, a failed network)."),
		takeovers:     counter("takeovers_total", "Applications this node took over from a dead node."),
		tocs:          counter("tocs_total", "Resets (TOC) this daemon asked for: both nodes ran an application."),
		partitions:    counter("partitions_judged_total", "Silences of the other node judged to be a partition rather than a death."),
		fenceAttempts: counter("fence_attempts_total", "Runs of the fencing command."),
		fenceFail:     counter("fence_failures_total", "Runs of the fencing command that failed."),
		takeoverTime: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "linuxha_takeover_duration_seconds",
			Help:    "From the verdict that the other node is dead to its applications started here (fencing included).",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}}),
		takeoverAddrs: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "linuxha_takeover_addresses_seconds",
			Help:    "From the verdict that the other node is dead to the addresses of its applications up here, before their start scripts.",
			Buckets: []float64{.005, .01, .02, .03, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}}),
		hbInterval: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "linuxha_heartbeat_interval_seconds",
			Help:    "Time between two heartbeats received from the other node on the network.",
			Buckets: []float64{.005, .01, .025, .05, .075, .1, .15, .2, .3, .5, 1, 2, 3, 5, 7, 10, 15, 30}}, []string{"network"}),
	}
	m.reg.MustRegister(m.failovers, m.takeovers, m.tocs, m.partitions, m.fenceAttempts, m.fenceFail, m.takeoverTime, m.takeoverAddrs, m.hbInterval, collector{d})
	return m
}

var (
	descNode = prometheus.NewDesc("linuxha_node_state", "State of each node as this daemon sees it (1 for the current state).",
		[]string{"node", "state"}, nil)
	descPathUp = prometheus.NewDesc("linuxha_heartbeat_path_up", "Whether heartbeats arrive from the other node on the network (0 after warn seconds of silence).",
		[]string{"network"}, nil)
	descPathAge = prometheus.NewDesc("linuxha_heartbeat_age_seconds", "Seconds since the last heartbeat from the other node on the network.",
		[]string{"network"}, nil)
	descApp = prometheus.NewDesc("linuxha_application_state", "State of each application (1 for the current state) and the node it is on.",
		[]string{"application", "state", "node"}, nil)
	descValid = prometheus.NewDesc("linuxha_application_valid_node", "The nodes each application may run on (SETVALIDNODES).",
		[]string{"application", "node"}, nil)
	descStale = prometheus.NewDesc("linuxha_application_stale_flags", "STALE flags this node holds for the application (copies out of step).",
		[]string{"application"}, nil)
	descVolState = prometheus.NewDesc("linuxha_volume_state", "Replication state of each volume of the applications running on this node (1 for the current state: Sync, Syncing or Unsync).",
		[]string{"application", "mount", "type", "state"}, nil)
	descVolValid = prometheus.NewDesc("linuxha_volume_valid", "Which copies of each volume are current, seen from this node (1 for both, local, remote or none).",
		[]string{"application", "mount", "valid"}, nil)
	descVolPercent = prometheus.NewDesc("linuxha_volume_sync_percent", "How far a DRBD resynchronisation of the volume has come (100 when in step).",
		[]string{"application", "mount"}, nil)

	// The Lems of each application running here (GET_VSTAT, GET_RESULTS).
	descLemsUp = prometheus.NewDesc("linuxha_lems_up", "Whether the application's Lems answers on this node.",
		[]string{"application"}, nil)
	descMonUp = prometheus.NewDesc("linuxha_monitor_up", "Whether the monitor is scheduled (0: stopped, paused, or the cluster is acting).",
		[]string{"application", "monitor", "module"}, nil)
	descMonRC = prometheus.NewDesc("linuxha_monitor_last_result", "The return code of the monitor's last check (0 is good).",
		[]string{"application", "monitor"}, nil)
	descMonAt = prometheus.NewDesc("linuxha_monitor_last_check_timestamp_seconds", "When the monitor last checked (Unix time).",
		[]string{"application", "monitor"}, nil)
	descMonChecks = prometheus.NewDesc("linuxha_monitor_checks_total", "Checks the monitor made since its Lems started.",
		[]string{"application", "monitor"}, nil)
	descMonFailed = prometheus.NewDesc("linuxha_monitor_failed_checks_total", "Checks of the monitor that returned non-zero since its Lems started.",
		[]string{"application", "monitor"}, nil)
	descMonRestarts = prometheus.NewDesc("linuxha_monitor_restarts", "Restarts of the process monitor's processes in its current window (procmon).",
		[]string{"application", "monitor"}, nil)
	descMonRestartLimit = prometheus.NewDesc("linuxha_monitor_restart_limit", "Restarts the process monitor allows in its window before it asks for a fail-over.",
		[]string{"application", "monitor"}, nil)

	// DRBD volumes of the applications running here, with drbd-reactor's
	// names and labels (its prometheus plugin, enums = true).
	descDRBDRole = prometheus.NewDesc("drbd_resource_role", "DRBD role of the resource (1 for the current role).",
		[]string{"name", "drbd_resource_role"}, nil)
	descDRBDConn = prometheus.NewDesc("drbd_connection_state", "DRBD connection state (1 for the current state).",
		[]string{"name", "conn_name", "drbd_connection_state"}, nil)
	descDRBDDisk = prometheus.NewDesc("drbd_device_state", "DRBD device (disk) state (1 for the current state).",
		[]string{"name", "volume", "minor", "drbd_device_state"}, nil)
	descDRBDSize = prometheus.NewDesc("drbd_device_size_bytes", "Device size in bytes.",
		[]string{"name", "volume", "minor"}, nil)
	descDRBDOOS = prometheus.NewDesc("drbd_peerdevice_outofsync_bytes", "Bytes out of sync with the peer, according to DRBD's bitmap.",
		[]string{"name", "conn_name", "volume"}, nil)
)

// collector reads the daemon's state at each scrape.
type collector struct{ d *Daemon }

func (collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descNode, descPathUp, descPathAge, descApp, descValid, descStale, descVolState, descVolValid, descVolPercent,
		descLemsUp, descMonUp, descMonRC, descMonAt, descMonChecks, descMonFailed, descMonRestarts, descMonRestartLimit,
		descDRBDRole, descDRBDConn, descDRBDDisk, descDRBDSize, descDRBDOOS} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	d := c.d
	d.mu.Lock()
	nodes := [][2]string{{d.me.Name, d.state}, {d.peer.Name, d.peerState}}
	var paths []membership.PathState
	alive := false
	if d.core != nil {
		paths, alive = d.core.Paths(time.Now()), d.core.Alive()
	}
	apps := make([]App, 0, len(d.apps))
	for _, a := range d.apps {
		apps = append(apps, *a)
	}
	d.mu.Unlock()

	gauge := func(desc *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, v, labels...)
	}
	for _, n := range nodes {
		gauge(descNode, 1, n[0], n[1])
	}
	for _, p := range paths {
		up := 0.0
		if alive && !p.Silent {
			up = 1
		}
		gauge(descPathUp, up, p.Name)
		gauge(descPathAge, p.Age.Seconds(), p.Name)
	}
	for _, a := range apps {
		gauge(descApp, 1, a.Name, a.State, a.Node)
		for _, n := range a.ValidNodes {
			gauge(descValid, 1, a.Name, n)
		}
		flags, _ := state.ListStale(d.L.StatusDir(a.Name))
		gauge(descStale, float64(len(flags)), a.Name)
		if a.Node != d.me.Name {
			continue // the node running it reports its volumes
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		vs, _ := volumes.States(ctx, d.L, d.Cfg, a.Name, d.me.Name, d.peer.Name)
		cancel()
		for _, v := range vs {
			gauge(descVolState, 1, a.Name, v.MountPoint, v.Type, v.State)
			gauge(descVolValid, 1, a.Name, v.MountPoint, v.Valid)
			pct := v.Percent
			if v.State == "Sync" {
				pct = 100
			}
			gauge(descVolPercent, pct, a.Name, v.MountPoint)
		}
		if d.Cfg.DataDetail == "drbd" {
			c.drbd(ch, a.Name)
		}
		if a.State == api.AppStarted {
			c.lems(ch, a.Name)
		}
	}
}

// lems reads the application's Lems: its monitors, their last results
// and the process monitors' restart counts.
func (c collector) lems(ch chan<- prometheus.Metric, app string) {
	d := c.d
	ask := func(msg string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		return lems.Send(ctx, d.L, d.Cfg, app, d.me.Name, msg, 2*time.Second)
	}
	gauge := func(desc *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, v, labels...)
	}
	vstat, err := ask("GET_VSTAT")
	if err != nil {
		if errors.Is(err, lems.ErrNotRunning) || !errors.Is(err, os.ErrNotExist) {
			gauge(descLemsUp, 0, app)
		}
		return // no Lems configured: nothing to say
	}
	gauge(descLemsUp, 1, app)
	for _, m := range lems.ParseStat(vstat) {
		up := 0.0
		if m.NextRun != 0 {
			up = 1
		}
		gauge(descMonUp, up, app, m.Name, m.Module())
		if m.Module() == "procmon" && len(m.Detail) > 0 {
			if f := strings.Split(m.Detail[0], ","); len(f) == 3 {
				limit, _ := strconv.Atoi(f[0])
				cur, _ := strconv.Atoi(f[1])
				gauge(descMonRestarts, float64(cur), app, m.Name)
				gauge(descMonRestartLimit, float64(limit), app, m.Name)
			}
		}
	}
	results, err := ask("GET_RESULTS")
	if err != nil {
		return
	}
	for _, r := range lems.ParseResults(results) {
		ch <- prometheus.MustNewConstMetric(descMonChecks, prometheus.CounterValue, float64(r.Checks), app, r.Name)
		ch <- prometheus.MustNewConstMetric(descMonFailed, prometheus.CounterValue, float64(r.NonZero), app, r.Name)
		if r.LastAt != 0 {
			gauge(descMonRC, float64(r.LastRC), app, r.Name)
			gauge(descMonAt, float64(r.LastAt), app, r.Name)
		}
	}
}

// drbd reads the application's DRBD resources as drbd-reactor names them.
func (c collector) drbd(ch chan<- prometheus.Metric, app string) {
	d := c.d
	vols, err := volumes.Of(d.L, d.Cfg, app, "", "")
	if err != nil {
		return
	}
	gauge := func(desc *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, v, labels...)
	}
	drv := &drbd.Driver{ConfDir: d.L.DrbdConfDir()}
	for _, v := range vols {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		st, err := drv.Status(ctx, v.Res)
		cancel()
		if err != nil || st.Connection == "Unconfigured" {
			continue
		}
		name, minor := v.Res.Name(), strconv.Itoa(v.Res.Minor)
		gauge(descDRBDRole, 1, name, st.Role)
		gauge(descDRBDConn, 1, name, d.peer.Name, st.Connection)
		gauge(descDRBDDisk, 1, name, "0", minor, st.Disk)
		gauge(descDRBDOOS, float64(st.OutOfSync), name, d.peer.Name, "0")
		if size := v.Res.Size(); size > 0 {
			gauge(descDRBDSize, float64(size), name, "0", minor)
		}
	}
}

// serveMetrics serves /metrics on global/metrics until ctx ends.
func (d *Daemon) serveMetrics(ctx context.Context) error {
	ln, err := net.Listen("tcp", d.Cfg.Metrics)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(d.metrics.reg, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	d.loops.Go(func() {
		<-ctx.Done()
		srv.Close()
	})
	d.loops.Go(func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			d.Log.Warnf("Metrics server on %s: %v", d.Cfg.Metrics, err)
		}
	})
	d.Log.Infof("Serving metrics on http://%s/metrics", d.Cfg.Metrics)
	return nil
}
