// Package clstat reports the state of the cluster (Reference §11.3,
// L2971-3073): "Cluster <name> is not running." when no cluster daemon
// answers on this node (L1824), otherwise the cluster and node table of
// L1865-1874 and the application table of L2985-2991.
package clstat

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/linuxha-ng/linuxha/pkg/clitool"
	"github.com/linuxha-ng/linuxha/pkg/config"
	"github.com/linuxha-ng/linuxha/pkg/daemonapi"
	"github.com/linuxha-ng/linuxha/pkg/jsonout"
	"github.com/linuxha-ng/linuxha/pkg/layout"
	"github.com/linuxha-ng/linuxha/pkg/progress"
)

// Status is what clstat prints, also as JSON.
type Status struct {
	Cluster string       `json:"cluster"`
	State   string       `json:"state"` // UP or DOWN
	Nodes   []NodeStatus `json:"nodes,omitempty"`
	Apps    []AppRow     `json:"applications,omitempty"`
}

// AppRow is one row of the application table (L2987-2991).
type AppRow struct {
	App      string        `json:"application"`
	Node     string        `json:"node,omitempty"`
	State    string        `json:"state"`
	Running  time.Duration `json:"running,omitempty"`
	Monitor  bool          `json:"monitor"`
	Stale    int           `json:"stale"`
	Failover string        `json:"failover"`
}

// NodeStatus is one row of the node table.
type NodeStatus struct {
	Node   string `json:"node"`
	Status string `json:"status"` // UP, DOWN, DIED or "No daemon"
}

// NewApp builds the clstat command.
func NewApp(stdout, stderr io.Writer) *cli.App {
	return &cli.App{
		Name:            "clstat",
		Usage:           "show the state of the cluster, its nodes and its applications",
		UsageText:       "clstat [--application A] [--json]",
		Writer:          stdout,
		ErrWriter:       stderr,
		HideHelpCommand: true,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "print the status as JSON"},
			&cli.StringFlag{Name: "application", Aliases: []string{"A"}, Usage: "show one application: its node, state, file systems and monitors"},
			&cli.DurationFlag{Name: "timeout", Value: 2 * time.Second, Usage: "how long to wait for the cluster daemon"},
			&cli.BoolFlag{Name: "watch", Aliases: []string{"w"}, Usage: "keep showing the status: redrawn in place on a terminal, appended when it changes otherwise (one JSON object per line with --json)"},
			&cli.Float64Flag{Name: "interval", Value: 2, Usage: "with --watch, look every `SECONDS`"},
		},
		Action: func(c *cli.Context) error {
			l := layout.FromEnv()
			cfg, err := clitool.LoadBuiltCluster(l, false)
			if err != nil {
				return err
			}
			if c.Bool("watch") {
				iv := time.Duration(c.Float64("interval") * float64(time.Second))
				if iv < 100*time.Millisecond {
					return clitool.Usagef("--interval %v: at least 0.1 seconds", c.Float64("interval"))
				}
				look := func() view {
					return lookAt(c.Context, l, cfg, c.String("application"), c.Bool("json"), c.Duration("timeout"))
				}
				asJSON := c.Bool("json")
				return watch(c.Context, stdout, !asJSON && progress.IsTerminal(stdout), asJSON, iv, time.Now, look)
			}
			if app := c.String("application"); app != "" {
				st, err := QueryApp(c.Context, l, cfg, app, c.Duration("timeout"))
				if err != nil {
					return err
				}
				if c.Bool("json") {
					return jsonout.Write(stdout, st.Doc())
				}
				PrintApp(stdout, st)
				return nil
			}
			st := Query(c.Context, l, cfg, c.Duration("timeout"))
			if c.Bool("json") {
				if err := jsonout.Write(stdout, st.Doc()); err != nil {
					return err
				}
				if st.State != "UP" {
					return cli.Exit("", clitool.ExitNotRunning)
				}
				return nil
			}
			if st.State != "UP" {
				return clitool.NotRunningf("Cluster %s is not running.", cfg.Name)
			}
			printStatus(stdout, st)
			return nil
		},
	}
}

// printStatus writes plain clstat's tables (L2979-2991).
func printStatus(w io.Writer, st Status) {
	fmt.Fprintf(w, "Cluster: %s - %s\n\nNode\tStatus\n", st.Cluster, st.State)
	for _, n := range st.Nodes {
		fmt.Fprintf(w, "%s\t%s\n", n.Node, n.Status)
	}
	printApps(w, st.Apps)
}

// lookAt is one view of the cluster for --watch: plain clstat's, or
// clstat -A app's, as text or as a JSON line.
func lookAt(ctx context.Context, l layout.Layout, cfg *config.Cluster, app string, asJSON bool, timeout time.Duration) view {
	if app != "" {
		st, err := QueryApp(ctx, l, cfg, app, timeout)
		return render(func(w io.Writer, times bool) {
			if err != nil {
				fmt.Fprintf(w, "%v\n", err)
				return
			}
			s := st
			if !times {
				s.Running = 0
			}
			if asJSON {
				jsonout.Line(w, s.Doc())
				return
			}
			PrintApp(w, s)
		})
	}
	st := Query(ctx, l, cfg, timeout)
	return render(func(w io.Writer, times bool) {
		s := st
		if !times {
			s.Apps = slices.Clone(st.Apps)
			for i := range s.Apps {
				s.Apps[i].Running = 0
			}
		}
		switch {
		case asJSON:
			jsonout.Line(w, s.Doc())
		case s.State != "UP":
			fmt.Fprintf(w, "Cluster %s is not running.\n", cfg.Name)
		default:
			printStatus(w, s)
		}
	})
}

// Query asks the cluster daemons for the state of the cluster: the local
// one, or the other node's when this node has none (a node whose daemon
// died still shows the cluster, L5933-5937).
func Query(ctx context.Context, l layout.Layout, cfg *config.Cluster, timeout time.Duration) Status {
	st := Status{Cluster: cfg.Name, State: "DOWN"}
	c, err := daemonapi.NewClient(l, cfg)
	if err != nil {
		return st
	}
	c.Timeout = timeout
	if c.Me == "" {
		c.Me = cfg.Nodes[0].Name
	}
	_, via, err := c.Any(ctx, daemonapi.Req(daemonapi.Echo, "check", "y"))
	if err != nil {
		return st
	}
	st.State = "UP"
	for _, n := range cfg.NodeNames() {
		reply, err := c.NodeState(ctx, via, n)
		if err != nil {
			reply = "No daemon"
		}
		st.Nodes = append(st.Nodes, NodeStatus{Node: n, Status: strings.TrimSpace(reply)})
	}
	st.Apps = apps(ctx, l, c, via)
	return st
}

// apps reads every registered application's line, each from the daemon
// of the node that runs it (only it knows whether its Lems runs).
func apps(ctx context.Context, l layout.Layout, c *daemonapi.Client, via string) []AppRow {
	list, err := c.Apps(ctx, via)
	if err != nil {
		return nil
	}
	o := daemonapi.StatusOptions{Failover: true, Volumes: true}
	var rows []AppRow
	for _, name := range list {
		st, _, err := c.AppStatusWhereRunning(ctx, via, name, o)
		if err != nil {
			continue
		}
		rows = append(rows, AppRow{App: name, State: st.State, Node: st.Node, Monitor: st.Monitor,
			Failover: st.FailoverWord(), Running: st.Running(time.Now()), Stale: staleCount(st, localStale(l, name))})
	}
	return rows
}

// printApps writes the application table (L2987-2991): N/A where an
// application that is not running has no value.
func printApps(w io.Writer, rows []AppRow) {
	if len(rows) == 0 {
		return
	}
	fmt.Fprintf(w, "\nApplication\tNode\tState\tStarted\tMonitor\tStale\tFail-over?\n")
	for _, r := range rows {
		node, started, monitor, stale := "N/A", "N/A", "N/A", "N/A"
		if r.Node != "" {
			node = r.Node
		}
		if r.State == "STARTED" {
			started, stale = clock(r.Running), strconv.Itoa(r.Stale)
			monitor = "Not running"
			if r.Monitor {
				monitor = "Running"
			}
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.App, node, r.State, started, monitor, stale, r.Failover)
	}
}
