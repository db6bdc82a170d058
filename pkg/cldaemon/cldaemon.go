package cldaemon

import (
	"context"
	"io"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/linuxha-ng/linuxha/pkg/clitool"
	"github.com/linuxha-ng/linuxha/pkg/cluster"
	"github.com/linuxha-ng/linuxha/pkg/layout"
	"github.com/linuxha-ng/linuxha/pkg/logx"
)

// NewApp builds the cldaemon command.
func NewApp(stdout, stderr io.Writer) *cli.App {
	return &cli.App{
		Name:  "cldaemon",
		Usage: "the cluster daemon: form or join the cluster and watch the other node",
		UsageText: "cldaemon --form|--join [--force] [--verbose] [--detach] [--file F|-] [--timeout N]\n" +
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
			if c.Bool("form") == c.Bool("join") {
				return clitool.Usagef("exactly one of --form and --join is required")
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
