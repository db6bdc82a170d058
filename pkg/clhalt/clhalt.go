// Package clhalt stops the cluster daemons on both nodes, or one node's
// (Reference §13, L3375-3554). It never stops replication: halting a node
// leaves its DRBD devices running (L3486).
package clhalt

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/linuxha-ng/linuxha/pkg/clitool"
	"github.com/linuxha-ng/linuxha/pkg/config"
	"github.com/linuxha-ng/linuxha/pkg/daemonapi"
	"github.com/linuxha-ng/linuxha/pkg/layout"
	"github.com/linuxha-ng/linuxha/pkg/logx"
)

// NewApp builds the clhalt command.
func NewApp(stdout, stderr io.Writer) *cli.App {
	return &cli.App{
		Name:      "clhalt",
		Usage:     "stop the cluster daemons on both nodes, or on one node",
		UsageText: "clhalt [--force] [--node N|--local [--action error|halt|failover|move]]",
		Description: "Without --node, clhalt refuses while an application runs unless --force, which halts\n" +
			"the applications first; then it asks both cluster daemons to abort. With --node it\n" +
			"removes one node from the cluster; --action says what happens to the applications\n" +
			"running there: error (refuse, the default), halt them, or fail them over to the other\n" +
			"node; move fails them over when the other node is in the cluster and halts them\n" +
			"when it is not (what shutdown wants: linuxha-cldaemon.service's ExecStop is\n" +
			"clhalt --local --action move). --local names this node. Output always goes to\n" +
			"standard output.",
		Writer:          stdout,
		ErrWriter:       stderr,
		HideHelpCommand: true,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "force", Usage: "halt running applications first"},
			&cli.StringFlag{Name: "node", Usage: "remove only this node from the cluster"},
			&cli.BoolFlag{Name: "local", Usage: "remove this node from the cluster (--node with this node's name)"},
			&cli.StringFlag{Name: "action", Value: "error", Usage: "with --node or --local: error, halt, failover or move"},
		},
		Action: func(c *cli.Context) error {
			l := layout.FromEnv()
			log := logx.New(stdout)
			cfg, err := clitool.LoadBuiltCluster(l, false)
			if err != nil {
				return err
			}
			log.Infof("Validated checksum for cluster configuration.")
			client, err := daemonapi.NewClient(l, cfg)
			if err != nil {
				return err
			}
			h := &halter{ctx: c.Context, cfg: cfg, log: log, c: client}
			log.Infof("Attempting to halt cluster %s...", cfg.Name)
			n := c.String("node")
			if c.Bool("local") {
				if n != "" {
					return clitool.Usagef("--local and --node %s: give one", n)
				}
				if n = client.Me; n == "" {
					return fmt.Errorf("this host is not a node of cluster %s", cfg.Name)
				}
			}
			if n != "" {
				if _, ok := cfg.Node(n); !ok {
					return fmt.Errorf("%s is not a node of cluster %s", n, cfg.Name)
				}
				switch a := c.String("action"); a {
				case "error", "halt", "failover", "move":
					return h.node(n, a)
				default:
					return clitool.Usagef("--action %q: use error, halt, failover or move", a)
				}
			}
			return h.all(c.Bool("force"))
		},
	}
}

type halter struct {
	ctx context.Context
	cfg *config.Cluster
	log *logx.Logger
	c   *daemonapi.Client
}

// running lists the applications running, on node if node != "".
func (h *halter) running(via, node string) []string {
	apps, err := h.c.Apps(h.ctx, via)
	if err != nil {
		return nil
	}
	var out []string
	for _, app := range apps {
		st, err := h.c.AppStatus(h.ctx, via, app, daemonapi.StatusOptions{})
		if err == nil && st.State != daemonapi.AppDown && (node == "" || st.Node == node) {
			out = append(out, app+"@"+st.Node)
		}
	}
	return out
}

func (h *halter) all(force bool) error {
	h.log.Infof("Attempting to contact a cluster daemon...")
	_, via, err := h.c.Any(h.ctx, daemonapi.Req(daemonapi.Echo, "check", "y"))
	if err != nil {
		return clitool.NotRunningf("Cluster %s is not running.", h.cfg.Name)
	}
	h.log.Infof("Connecting to cluster daemon via host %s", via)
	if apps := h.running(via, ""); len(apps) > 0 {
		if !force {
			what := fmt.Sprintf("%d applications are", len(apps))
			if len(apps) == 1 {
				what = "1 application is"
			}
			return fmt.Errorf("Unable to stop cluster - %s still running", what)
		}
		for _, an := range apps {
			app, node, _ := strings.Cut(an, "@")
			h.log.Infof("Attempting to stop application %q on %s...", app, node)
			if err := h.haltApp(app, node); err != nil {
				return err
			}
			h.log.Infof("Application %q has been halted successfully.", app)
		}
	}
	h.log.Infof("Asking cluster daemons to abort...")
	h.c.Call(h.ctx, via, daemonapi.Req(daemonapi.Abort, "forward", "yes"))
	for _, n := range h.cfg.NodeNames() {
		h.waitGone(n)
	}
	h.log.Infof("Cluster daemons aborted - cluster %s is DOWN.", h.cfg.Name)
	return nil
}

// Removal is what --action asks of each application running on the node
// leaving: "error" (refuse), "halt", or "failover" (halt, then start on
// the other node, L3515-3531). "move", this project's addition for
// shutdown, fails over when the other node is in the cluster and halts
// when it is not: a node going down must never leave an application
// running on it, and must not wait for a peer that is not there.
func Removal(action string, peerUp bool) string {
	if action == "move" {
		if peerUp {
			return "failover"
		}
		return "halt"
	}
	return action
}

func (h *halter) node(n, action string) error {
	if _, err := h.c.Echo(h.ctx, n); err != nil {
		return fmt.Errorf("No cluster daemon is running on %s.", n)
	}
	// The other node may start an application here while this one moves
	// its own (both nodes shutting down at once): look again until
	// nothing runs here.
	for round := 0; ; round++ {
		apps := h.running(n, n)
		if len(apps) == 0 {
			break
		}
		what := Removal(action, h.c.Up(h.ctx, h.other(n)))
		if what == "error" {
			return fmt.Errorf("Unable to remove node %s from cluster - it has\n%s still running.", n, clitool.Plural(len(apps), "application"))
		}
		if round == 3 {
			return fmt.Errorf("Unable to remove node %s from cluster - applications keep starting on it: %s", n, strings.Join(apps, ", "))
		}
		for _, an := range apps {
			app, _, _ := strings.Cut(an, "@")
			start := time.Now()
			h.log.Infof("Halting application %s on %s...", app, n)
			if err := h.haltApp(app, n); err != nil {
				return err
			}
			h.log.Infof("Application %s halted in %d seconds.", app, int(time.Since(start).Seconds()))
			if what == "failover" {
				if err := h.startOn(app, h.other(n)); err != nil {
					if action != "move" {
						return err
					}
					// Shutting down: the application stays halted.
					h.log.Warnf("%v - it stays halted.", err)
				}
			}
		}
	}
	h.log.Infof("Aborting cluster daemon on %s...", n)
	h.c.Call(h.ctx, n, daemonapi.Abort)
	h.waitGone(n)
	h.log.Infof("Cluster Daemon halted on %s.", n)
	return nil
}

// other is the node that is not n.
func (h *halter) other(n string) string {
	for _, m := range h.cfg.NodeNames() {
		if m != n {
			return m
		}
	}
	return ""
}

// startOn starts app on node with clrunapp, which runs clstartapp there
// (L3528-3531); dependencies were running already, with the node halted.
func (h *halter) startOn(app, node string) error {
	start := time.Now()
	h.log.Infof("Application %s starting on node %s...", app, node)
	out, err := exec.CommandContext(h.ctx, layout.Bin("clrunapp"), "--application", app, "--node", node, "--nodeps").CombinedOutput()
	if err != nil {
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		return fmt.Errorf("Unable to start application %s on %s: %s", app, node, lines[len(lines)-1])
	}
	h.log.Infof("Application %s started in %d seconds.", app, int(time.Since(start).Seconds()))
	return nil
}

// stopWait bounds the wait for a halt on the other node: the stop
// script's own limit (maxstoptime) ends it sooner.
const stopWait = 10 * time.Minute

func (h *halter) haltApp(app, node string) error {
	args := []string{"--application", app}
	if node != h.c.Me {
		reply, err := h.c.Call(h.ctx, node, daemonapi.Req(daemonapi.StopApp, "app", app))
		if err != nil || !strings.HasPrefix(reply, daemonapi.OK) {
			return fmt.Errorf("Unable to stop application %s on %s: %s", app, node, reply)
		}
		// STOP_APP only starts clhaltapp there: wait for it to finish.
		deadline := time.Now().Add(stopWait)
		for time.Now().Before(deadline) {
			st, err := h.c.AppStatus(h.ctx, node, app, daemonapi.StatusOptions{})
			if err == nil && st.State == daemonapi.AppDown {
				return nil
			}
			time.Sleep(200 * time.Millisecond)
		}
		return fmt.Errorf("Application %s did not stop on %s within %v (see its clhalt.%s.log there)", app, node, stopWait, app)
	}
	out, err := exec.CommandContext(h.ctx, layout.Bin("clhaltapp"), args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("Unable to stop application %s: %s", app, strings.TrimSpace(string(out)))
	}
	return nil
}

func (h *halter) waitGone(n string) {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := h.c.Echo(h.ctx, n); err != nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}
