// Package clform forms the cluster from either node, or brings a node
// back into a running cluster (Reference §10.3 L2666-2704, §13.4
// L3538-3554, §19.3 L5895-5967).
package clform

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/linuxha-ng/linuxha/pkg/clitool"
	"github.com/linuxha-ng/linuxha/pkg/config"
	"github.com/linuxha-ng/linuxha/pkg/daemonapi"
	"github.com/linuxha-ng/linuxha/pkg/layout"
	"github.com/linuxha-ng/linuxha/pkg/logx"
	"github.com/linuxha-ng/linuxha/pkg/remote"
)

// NewApp builds the clform command.
func NewApp(stdout, stderr io.Writer) *cli.App {
	return &cli.App{
		Name:      "clform",
		Usage:     "form the cluster on both nodes, or make a node rejoin it",
		UsageText: "clform [--noapps] [--force] [--join] [--timeout N] [--nolocking] [--nochecksums] [--config F]",
		Description: "Run on either node. clform starts cldaemon on this node and, over ssh, on the other,\n" +
			"detached and verbose, and waits until both agree the cluster is UP. It exits 0 only\n" +
			"when the cluster formed (or the node joined); otherwise it prints why, replaying the\n" +
			"cluster daemon's log when it failed to start.",
		Writer:          stdout,
		ErrWriter:       stderr,
		HideHelpCommand: true,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "noapps", Usage: "do not start autostart applications"},
			&cli.BoolFlag{Name: "force", Usage: "form alone if the other node does not answer, and despite a clock difference over 10 minutes"},
			&cli.BoolFlag{Name: "join", Usage: "the cluster runs on one node: start the other one's daemon so that it joins"},
			&cli.DurationFlag{Name: "timeout", Usage: "forming time-out instead of timings/clusterform, e.g. 60s"},
			&cli.BoolFlag{Name: "nolocking", Usage: "daemons and applications do not use the lock daemon"},
			&cli.BoolFlag{Name: "nochecksums", Usage: "ignore checksum errors (last resort)"},
			&cli.StringFlag{Name: "config", Usage: "alternative cluster configuration `FILE` (testing)"},
		},
		Action: func(c *cli.Context) error {
			l := layout.FromEnv()
			log := logx.New(stdout)
			cfg, err := clitool.LoadClusterFile(l, c.String("config"), c.Bool("nochecksums"))
			if err != nil {
				return err
			}
			log.Infof("Validated checksum for cluster configuration")
			client, err := daemonapi.NewClient(l, cfg)
			if err != nil {
				return err
			}
			if client.Me == "" {
				return fmt.Errorf("this host is not a node of cluster %s", cfg.Name)
			}
			f := &former{l: l, cfg: cfg, log: log, c: client, ctx: c.Context,
				peer:    remote.ToNode(l.Topology(), client.Peer(), log.Infof),
				force:   c.Bool("force"),
				timeout: c.Duration("timeout"),
			}
			for _, o := range []string{"nolocking", "nochecksums"} {
				if c.Bool(o) {
					f.extra = append(f.extra, "--"+o)
				}
			}
			f.c.Timeout = time.Second
			if c.Bool("join") {
				return f.join()
			}
			if err := f.form(); err != nil {
				return err
			}
			if !c.Bool("noapps") {
				f.autostart()
			}
			return nil
		},
	}
}

type former struct {
	l       layout.Layout
	cfg     *config.Cluster
	log     *logx.Logger
	c       *daemonapi.Client
	ctx     context.Context
	peer    *remote.Peer
	force   bool
	timeout time.Duration
	extra   []string
}

func (f *former) formTimeout() time.Duration {
	if f.timeout > 0 {
		return f.timeout
	}
	return f.cfg.ClusterForm
}

func (f *former) daemonArgs(mode string) []string {
	args := []string{mode, "--detach", "--verbose"}
	if f.force {
		args = append(args, "--force")
	}
	if f.timeout > 0 {
		args = append(args, "--timeout", f.timeout.String())
	}
	return append(args, f.extra...)
}

// start runs cldaemon on node, here or over ssh.
func (f *former) start(node string, args []string) error {
	bin := layout.Bin("cldaemon")
	if node == f.c.Me {
		out, err := exec.CommandContext(f.ctx, bin, args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("cldaemon on %s: %s", node, firstLine(out, err))
		}
		return nil
	}
	res, err := f.peer.Run(f.ctx, append([]string{bin}, args...)...)
	if err != nil {
		return err
	}
	if res.Code != 0 {
		return fmt.Errorf("cldaemon on %s: %s", node, firstLine(res.Stderr, fmt.Errorf("exit status %d", res.Code)))
	}
	return nil
}

func firstLine(b []byte, err error) string {
	s := strings.TrimSpace(string(b))
	if s == "" {
		return err.Error()
	}
	return strings.Split(s, "\n")[0]
}

func (f *former) state(node, of string) string {
	reply, err := f.c.NodeState(f.ctx, node, of)
	if err != nil {
		return ""
	}
	return reply
}

func (f *former) echo(node string) string {
	reply, err := f.c.Echo(f.ctx, node)
	if err != nil {
		return ""
	}
	return reply
}

func (f *former) form() error {
	me, peer := f.c.Me, f.c.Peer()
	peerReachable := true
	if err := f.peer.Reach(f.ctx); err != nil {
		if !f.force {
			return err
		}
		peerReachable = false
		f.log.Warnf("%v - forming without it (--force)", err)
	}
	f.log.Infof("Checking that the cluster is not already running...")
	if f.echo(me) == daemonapi.NodeUp || (peerReachable && f.echo(peer) == daemonapi.NodeUp) {
		return fmt.Errorf("Cluster %s is already running.", f.cfg.Name)
	}
	f.log.Infof("*** ATTEMPTING TO FORM CLUSTER %s ***", f.cfg.Name)
	logFile := f.l.Path(f.cfg.LogDir) + "/cldaemon-" + f.cfg.Name + ".log"
	var offset int64
	if st, err := os.Stat(logFile); err == nil {
		offset = st.Size()
	}
	f.log.Infof("Starting cldaemon on %s...", me)
	if err := f.start(me, f.daemonArgs("--form")); err != nil {
		return err
	}
	if peerReachable {
		f.log.Infof("Starting cldaemon on %s...", peer)
		if err := f.start(peer, f.daemonArgs("--form")); err != nil {
			if !f.force {
				return err
			}
			f.log.Warnf("%v - continuing (--force)", err)
		}
	}
	f.log.Infof("Waiting for cluster to form...")
	deadline := time.Now().Add(f.formTimeout() + 15*time.Second)
	for time.Now().Before(deadline) {
		st := f.echo(me)
		if st == "" {
			return f.failed(logFile, offset)
		}
		if st == daemonapi.NodeUp {
			// Both daemons must see each other UP, not only this one.
			ps := f.state(me, peer)
			if ps == daemonapi.NodeUp && peerReachable && f.state(peer, me) != daemonapi.NodeUp {
				ps = ""
			}
			if ps == daemonapi.NodeUp || f.force && ps != "" && ps != daemonapi.NodeUp {
				if ps != daemonapi.NodeUp {
					f.log.Warnf("Cluster %s formed without %s.", f.cfg.Name, peer)
				}
				f.log.Infof("Cluster %s started successfully.", f.cfg.Name)
				return nil
			}
		}
		select {
		case <-f.ctx.Done():
			return f.ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return fmt.Errorf("Cluster %s did not form within %v; see %s", f.cfg.Name, f.formTimeout(), logFile)
}

// failed replays what the daemon logged, each line wrapped in an ERROR
// line (L1877-1887).
func (f *former) failed(logFile string, offset int64) error {
	b, _ := os.ReadFile(logFile)
	if int64(len(b)) >= offset {
		b = b[offset:]
	}
	var lines []string
	lines = append(lines, "Cluster has failed to start. Log entries given below:", "")
	for _, l := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		if s := string(l); s != "" && !strings.Contains(s, "Added request") {
			lines = append(lines, s)
		}
	}
	return errors.New(strings.Join(lines, "\n"))
}

// join starts the daemon of the node that is not in the cluster
// (L3538-3554, L5949-5961).
func (f *former) join() error {
	me, peer := f.c.Me, f.c.Peer()
	if err := f.peer.Reach(f.ctx); err != nil {
		return err
	}
	f.log.Infof("Checking cluster status...")
	meUp, peerUp := f.echo(me) == daemonapi.NodeUp, f.echo(peer) == daemonapi.NodeUp
	var running, joining string
	switch {
	case meUp && peerUp:
		return errors.New("Both nodes are currently up - no action taken.")
	case !meUp && !peerUp:
		return fmt.Errorf("Neither node is running cluster %s - use clform to form it.", f.cfg.Name)
	case meUp:
		running, joining = me, peer
	default:
		running, joining = peer, me
	}
	f.log.Infof("%s is running - %s will attempt to join cluster.", running, joining)
	f.log.Infof("Forced Join of cldaemon on %s...", joining)
	if err := f.start(joining, f.daemonArgs("--join")); err != nil {
		return err
	}
	f.log.Infof("Waiting for %s to join the cluster...", joining)
	deadline := time.Now().Add(f.formTimeout() + 15*time.Second)
	for time.Now().Before(deadline) {
		if f.state(running, joining) == daemonapi.NodeUp && f.echo(joining) == daemonapi.NodeUp {
			f.log.Infof("Node %s successfully joined cluster.", joining)
			return nil
		}
		select {
		case <-f.ctx.Done():
			return f.ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return fmt.Errorf("Node %s did not join cluster %s within %v.", joining, f.cfg.Name, f.formTimeout())
}

// autostart starts the autostart applications through clrunapp (L5897).
func (f *former) autostart() {
	apps, err := f.c.Autostart(f.ctx, f.c.Me)
	if err != nil {
		return
	}
	for _, app := range apps {
		args := []string{"--application", app}
		if f.force {
			args = append(args, "--force")
		}
		out, err := exec.CommandContext(f.ctx, layout.Bin("clrunapp"), args...).CombinedOutput()
		if err != nil {
			f.log.Warnf("Unable to start autostart application %s: %s", app, firstLine(out, err))
			continue
		}
		f.log.Infof("Started autostart application %s.", app)
	}
}
