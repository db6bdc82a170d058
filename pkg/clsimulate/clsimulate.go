// Package clsimulate is the clsimulate command: the fail-over policy's
// what-if (Pacemaker's crm_simulate). It reads the views the daemons
// decide from - live, or saved with --save - takes an event, and prints
// the actions the policy would take and why. It changes nothing.
package clsimulate

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/linuxha-ng/linuxha/pkg/atomicfile"
	"github.com/linuxha-ng/linuxha/pkg/clitool"
	"github.com/linuxha-ng/linuxha/pkg/daemonapi"
	"github.com/linuxha-ng/linuxha/pkg/failover"
	"github.com/linuxha-ng/linuxha/pkg/jsonout"
	"github.com/linuxha-ng/linuxha/pkg/layout"
)

// NewApp builds the clsimulate command.
func NewApp(stdout, stderr io.Writer) *cli.App {
	return &cli.App{
		Name:      "clsimulate",
		Usage:     "show what the cluster would do about an event, changing nothing",
		UsageText: "clsimulate [--view FILE] [--json] {dies NODE|netfail NETWORK NODE|failover APP|heal}, or clsimulate --save FILE",
		Description: "Asks the fail-over policy - the same functions the cluster daemons call - what it\n" +
			"would do, from the views the daemons decide from: read from both cluster daemons (the\n" +
			"VIEW request), or from FILE written earlier by --save. Events: \"dies NODE\" (the node\n" +
			"crashes: the other node's verdict is DEAD), \"netfail NETWORK NODE\" (no working card is\n" +
			"left on NETWORK on NODE), \"failover APP\" (APP's Lems asks FAILOVER), \"heal\" (a\n" +
			"partition heals: each node compares its registry with the other's). It prints, for\n" +
			"each node that would act, the actions in order and the rule behind each. Nothing is\n" +
			"started, stopped or changed.",
		Writer:          stdout,
		ErrWriter:       stderr,
		HideHelpCommand: true,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "view", Usage: "read the views from `FILE` (written by --save) instead of the daemons"},
			&cli.StringFlag{Name: "save", Usage: "write the daemons' views to `FILE` and stop"},
			&cli.BoolFlag{Name: "json", Usage: "print the simulation as JSON"},
			&cli.DurationFlag{Name: "timeout", Value: 3 * time.Second, Usage: "how long to wait for each daemon"},
		},
		Action: func(c *cli.Context) error {
			if c.String("save") != "" {
				if c.NArg() > 0 || c.String("view") != "" {
					return clitool.Usagef("--save takes no event and no --view")
				}
				views, err := live(c.Context, c.Duration("timeout"))
				if err != nil {
					return err
				}
				b, err := json.MarshalIndent(views, "", "  ")
				if err != nil {
					return err
				}
				if err := atomicfile.WriteFile(c.String("save"), append(b, '\n'), 0o600); err != nil {
					return err
				}
				fmt.Fprintf(stdout, "Saved the views of %s to %s.\n", strings.Join(names(views), " and "), c.String("save"))
				return nil
			}
			ev, what, err := ParseEvent(c.Args().Slice())
			if err != nil {
				return clitool.UsageError(err)
			}
			var views map[string]failover.View
			from := "the cluster daemons"
			if f := c.String("view"); f != "" {
				if views, err = ReadViews(f); err != nil {
					return clitool.ConfigError(err)
				}
				from = f
			} else if views, err = live(c.Context, c.Duration("timeout")); err != nil {
				return err
			}
			steps, err := failover.Simulate(views, ev)
			if err != nil {
				return clitool.UsageError(err)
			}
			if c.Bool("json") {
				return jsonout.Write(stdout, struct {
					Schema string          `json:"schema"`
					Event  string          `json:"event"`
					Views  []string        `json:"views"`
					Steps  []failover.Step `json:"steps"`
				}{"linuxha.clsimulate/v1", what, names(views), steps})
			}
			Print(stdout, what, from, views, steps)
			return nil
		},
	}
}

// ParseEvent reads an event from the command line's words.
func ParseEvent(args []string) (ev any, what string, err error) {
	if len(args) == 0 {
		return nil, "", fmt.Errorf("no event: dies NODE, netfail NETWORK NODE, failover APP or heal")
	}
	want := map[string]int{"dies": 2, "netfail": 3, "failover": 2, "heal": 1}
	n, ok := want[args[0]]
	if !ok {
		return nil, "", fmt.Errorf("unknown event %q: dies NODE, netfail NETWORK NODE, failover APP or heal", args[0])
	}
	if len(args) != n {
		return nil, "", fmt.Errorf("event %s takes %d argument(s), got %d", args[0], n-1, len(args)-1)
	}
	switch args[0] {
	case "dies":
		return failover.NodeDies{Node: args[1]}, "node " + args[1] + " dies", nil
	case "netfail":
		return failover.NetworkFails{Net: args[1], Node: args[2]}, "network " + args[1] + " fails on " + args[2], nil
	case "failover":
		return failover.LemsFailover{App: args[1]}, "Lems asks FAILOVER for " + args[1], nil
	}
	return failover.PartitionHeals{}, "the partition heals", nil
}

// live asks each node's daemon for its view; a node whose daemon does
// not answer is left out (the simulation sees it through the other's).
func live(ctx context.Context, timeout time.Duration) (map[string]failover.View, error) {
	l := layout.FromEnv()
	cfg, err := clitool.LoadBuiltCluster(l, true)
	if err != nil {
		return nil, err
	}
	client, err := daemonapi.NewClient(l, cfg)
	if err != nil {
		return nil, err
	}
	client.Timeout = timeout
	views := map[string]failover.View{}
	for _, n := range cfg.NodeNames() {
		var v failover.View
		if err := client.CallJSON(ctx, n, daemonapi.PolicyView, &v); err == nil {
			views[n] = v
		}
	}
	if len(views) == 0 {
		return nil, clitool.NotRunningf("No cluster daemon of %s answered: start the cluster, or simulate from a saved view (--view).", cfg.Name)
	}
	return views, nil
}

// ReadViews reads a file written by --save.
func ReadViews(file string) (map[string]failover.View, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var views map[string]failover.View
	if err := json.Unmarshal(b, &views); err != nil {
		return nil, fmt.Errorf("%s: not a saved view: %w", file, err)
	}
	if len(views) == 0 {
		return nil, fmt.Errorf("%s: no view in it", file)
	}
	for n, v := range views {
		if v.Me != n || v.Peer == "" {
			return nil, fmt.Errorf("%s: view %q: me %q, peer %q: not a saved view", file, n, v.Me, v.Peer)
		}
	}
	return views, nil
}

func names(views map[string]failover.View) []string {
	out := make([]string, 0, len(views))
	for n := range views {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Print writes the simulation for a reader.
func Print(w io.Writer, what, from string, views map[string]failover.View, steps []failover.Step) {
	fmt.Fprintf(w, "Simulation: %s (views of %s from %s)\n", what, strings.Join(names(views), " and "), from)
	for _, s := range steps {
		fmt.Fprintf(w, "\n%s: %s\n", s.Node, s.Event)
		for i, a := range s.Actions {
			fmt.Fprintf(w, "  %d. %s - %s\n", i+1, a, a.Why)
		}
	}
	fmt.Fprintln(w, "\nNothing was changed.")
}
