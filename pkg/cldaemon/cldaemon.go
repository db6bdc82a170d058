package cldaemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/linuxha-ng/linuxha/pkg/clitool"
	"github.com/linuxha-ng/linuxha/pkg/cluster"
	"github.com/linuxha-ng/linuxha/pkg/config"
	"github.com/linuxha-ng/linuxha/pkg/daemonapi"
	"github.com/linuxha-ng/linuxha/pkg/layout"
	"github.com/linuxha-ng/linuxha/pkg/logx"
	"github.com/linuxha-ng/linuxha/pkg/membership"
)

// NewApp builds the cldaemon command.
func NewApp(stdout, stderr io.Writer) *cli.App {
	return &cli.App{
		Name:  "cldaemon",
		Usage: "the cluster daemon: form or join the cluster and watch the other node",
		UsageText: "cldaemon --form|--join|--startup [--force] [--verbose] [--detach] [--file F|-] [--timeout N]\n" +
			"         [--nolocking] [--nochecksums] [--config F]",
		Description: "Usually started on both nodes by clform(8). It starts cllockd and clnetd when they\n" +
			"are not running, listens on Global.port, forms the cluster with the other node (or joins\n" +
			"it), sends heartbeats on every network each keepalive, and declares the other node dead\n" +
			"only when every network has been silent for dead seconds and the node does not answer\n" +
			"an echo. It runs as \"cldaemon-<cluster>\" and logs to /var/log/cluster/cldaemon-<cluster>.log.",
		Writer:          stdout,
		ErrWriter:       stderr,
		HideHelpCommand: true,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "form", Usage: "form a new cluster with the other node"},
			&cli.BoolFlag{Name: "join", Usage: "join the cluster the other node runs"},
			&cli.BoolFlag{Name: "startup", Usage: "join the cluster when the other node runs it, else form it, as /etc/cluster/clstartup.xml says (linuxha-cldaemon.service)"},
			&cli.BoolFlag{Name: "force", Usage: "form alone when the other node does not answer in time, and despite a clock difference over 10 minutes"},
			&cli.BoolFlag{Name: "verbose", Usage: "log INFO lines as well as warnings and errors"},
			&cli.BoolFlag{Name: "detach", Usage: "run as a daemon in the background"},
			&cli.StringFlag{Name: "file", Usage: "log to `FILE` (- = standard output)"},
			&cli.DurationFlag{Name: "timeout", Usage: "forming time-out (default timings/clusterform), e.g. 30s"},
			&cli.BoolFlag{Name: "nolocking", Usage: "do not start or use the lock daemon"},
			&cli.BoolFlag{Name: "nochecksums", Usage: "ignore configuration checksums (last resort)"},
			&cli.StringFlag{Name: "config", Usage: "alternative cluster configuration `FILE` (testing)"},
		},
		Action: func(c *cli.Context) error {
			if n := countTrue(c.Bool("form"), c.Bool("join"), c.Bool("startup")); n != 1 {
				return clitool.Usagef("exactly one of --form, --join and --startup is required")
			}
			l := layout.FromEnv()
			cfg, err := clitool.LoadClusterFile(l, c.String("config"), c.Bool("nochecksums"))
			if err != nil {
				return err
			}
			title := "cldaemon-" + cfg.Name
			logFile := c.String("file")
			if logFile == "" {
				logFile = l.Path(cfg.LogDir) + "/" + title + ".log"
			}
			return clitool.RunDaemon(c.Context, clitool.Daemon{
				Title: title, Node: cfg.ThisNode(), Detach: c.Bool("detach"), LogFile: logFile, Verbose: c.Bool("verbose"), Stdout: stdout,
				Run: func(ctx context.Context, log *logx.Logger, ready func(error)) error {
					host := cfg.ThisNode()
					o := cluster.Options{
						Form: c.Bool("form"), Join: c.Bool("join"), Force: c.Bool("force"),
						Timeout: c.Duration("timeout"), NoLocking: c.Bool("nolocking"), NoChecksums: c.Bool("nochecksums"),
					}
					if c.Bool("startup") {
						if err := decideStartup(ctx, l, cfg, log, &o); err != nil {
							ready(err)
							return err
						}
					}
					if n := newSDNotifier(log, os.Getenv("NOTIFY_SOCKET")); n != nil {
						o.Notify = n
					}
					d, err := cluster.New(l, cfg, log, o, host)
					if err != nil {
						ready(err)
						return err
					}
					return d.Run(ctx, ready)
				},
			})
		},
	}
}

func countTrue(bs ...bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

// decideStartup sets --form or --join (and --force, and the time-out)
// as clstartup would (membership.Boot): systemd starts and restarts the
// daemon this way, so a daemon restarted after a crash joins the cluster
// its peer kept running. Without clstartup.xml it joins a running
// cluster and forms with the other node otherwise, never alone.
func decideStartup(ctx context.Context, l layout.Layout, cfg *config.Cluster, log *logx.Logger, o *cluster.Options) error {
	st := &config.Startup{JoinExistingCluster: true}
	if data, err := os.ReadFile(l.Clstartup()); err == nil {
		if st, err = config.ParseStartup(l.Clstartup(), data); err != nil {
			return err
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("cldaemon --startup: %w", err)
	}
	client, err := daemonapi.NewClient(l, cfg)
	if err != nil {
		return err
	}
	client.Timeout = time.Second
	plan := membership.Boot(client.Up(ctx, client.Peer()), st.JoinExistingCluster, st.AllowSingleNode)
	if plan.Mode == "" {
		return fmt.Errorf("Start-up: %s.", plan.Why)
	}
	log.Infof("Start-up: %s.", plan.Why)
	o.Form, o.Join, o.Force = plan.Mode == "form", plan.Mode == "join", o.Force || plan.Force
	if o.Timeout == 0 {
		o.Timeout = st.Timeout
	}
	return nil
}
