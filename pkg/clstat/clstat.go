// Package clstat reports the state of the cluster (Reference §11.3,
// L2971-3073): "Cluster <name> is not running." when no cluster daemon
// answers on this node (L1824), otherwise the cluster and node table of
// L1865-1874.
package clstat

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/linuxha-ng/linuxha/pkg/clitool"
	"github.com/linuxha-ng/linuxha/pkg/cluster"
	"github.com/linuxha-ng/linuxha/pkg/config"
	"github.com/linuxha-ng/linuxha/pkg/layout"
)

// Status is what clstat prints, also as JSON.
type Status struct {
	Cluster string       `json:"cluster"`
	State   string       `json:"state"` // UP or DOWN
	Nodes   []NodeStatus `json:"nodes,omitempty"`
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
		Usage:           "show the state of the cluster and its nodes",
		UsageText:       "clstat [--application A] [--json]",
		Writer:          stdout,
		ErrWriter:       stderr,
		HideHelpCommand: true,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "print the status as JSON"},
			&cli.StringFlag{Name: "application", Aliases: []string{"A"}, Usage: "show one application: its node, state, file systems and monitors"},
			&cli.DurationFlag{Name: "timeout", Value: 2 * time.Second, Usage: "how long to wait for the cluster daemon"},
		},
		Action: func(c *cli.Context) error {
			l := layout.FromEnv()
			cfg, err := clitool.LoadBuiltCluster(l, false)
			if err != nil {
				return err
			}
			if app := c.String("application"); app != "" {
				st, err := QueryApp(c.Context, l, cfg, app, c.Duration("timeout"))
				if err != nil {
					return err
				}
				if c.Bool("json") {
					enc := json.NewEncoder(stdout)
					enc.SetIndent("", "  ")
					return enc.Encode(st)
				}
				PrintApp(stdout, st)
				return nil
			}
			st := Query(c.Context, l, cfg, c.Duration("timeout"))
			if c.Bool("json") {
				enc := json.NewEncoder(stdout)
				enc.SetIndent("", "  ")
				if err := enc.Encode(st); err != nil {
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
			fmt.Fprintf(stdout, "Cluster: %s - %s\n\nNode\tStatus\n", st.Cluster, st.State)
			for _, n := range st.Nodes {
				fmt.Fprintf(stdout, "%s\t%s\n", n.Node, n.Status)
			}
			return nil
		},
	}
}

// Query asks the cluster daemons for the state of the cluster: the local
// one, or the other node's when this node has none (a node whose daemon
// died still shows the cluster, L5933-5937).
func Query(ctx context.Context, l layout.Layout, cfg *config.Cluster, timeout time.Duration) Status {
	st := Status{Cluster: cfg.Name, State: "DOWN"}
	c, err := cluster.NewClient(l, cfg)
	if err != nil {
		return st
	}
	c.Timeout = timeout
	if c.Me == "" {
		c.Me = cfg.Nodes[0].Name
	}
	_, via, err := c.Any(ctx, "ECHO check=y")
	if err != nil {
		return st
	}
	st.State = "UP"
	for _, n := range cfg.NodeNames() {
		reply, err := c.Call(ctx, via, "GET_NODE_STATE node="+n)
		if err != nil {
			reply = "No daemon"
		}
		st.Nodes = append(st.Nodes, NodeStatus{Node: n, Status: strings.TrimSpace(reply)})
	}
	return st
}
