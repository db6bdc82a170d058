package cllockd

import (
	"context"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/linuxha-ng/linuxha/pkg/clitool"
	"github.com/linuxha-ng/linuxha/pkg/config"
	"github.com/linuxha-ng/linuxha/pkg/layout"
	"github.com/linuxha-ng/linuxha/pkg/locks"
	"github.com/linuxha-ng/linuxha/pkg/logx"
)

// NewApp builds the cllockd command.
func NewApp(stdout, stderr io.Writer) *cli.App {
	return &cli.App{
		Name:      "cllockd",
		Usage:     "the cluster lock daemon: named locks local to this node",
		UsageText: "cllockd [--detach] [--verbose] [--file F|-] [--nochecksums]",
		Description: "Started by cldaemon when it is not running. Serves the locks of /etc/cluster/cllocks.xml\n" +
			"(built in: NET 40 s, NBD_CLIENT 45 s, NBD_SERVER 45 s) on 127.0.0.1:Global.clport. A lock\n" +
			"is released by its holder, when the holder's connection drops, or after maxt seconds.\n" +
			"Runs as \"cllockd-<cluster>\" and logs to /var/log/cluster/cllockd.log.",
		Writer:          stdout,
		ErrWriter:       stderr,
		HideHelpCommand: true,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "detach", Usage: "run as a daemon in the background"},
			&cli.BoolFlag{Name: "verbose", Value: true, Usage: "log every grant and release"},
			&cli.StringFlag{Name: "file", Usage: "log to `FILE` (- = standard output)"},
			&cli.BoolFlag{Name: "nochecksums", Usage: "ignore configuration checksums (last resort)"},
		},
		Action: func(c *cli.Context) error {
			l := layout.FromEnv()
			cfg, err := clitool.LoadBuiltCluster(l, c.Bool("nochecksums"))
			if err != nil {
				return err
			}
			if cfg.ClPort == 0 {
				return errNoPort
			}
			lockCfg, err := config.LoadLocks(l.Cllocks())
			if err != nil {
				return err
			}
			logFile := c.String("file")
			if logFile == "" {
				logFile = l.Path(cfg.LogDir) + "/cllockd.log"
			}
			return clitool.RunDaemon(c.Context, clitool.Daemon{
				Title: "cllockd-" + cfg.Name, Node: cfg.ThisNode(), Detach: c.Bool("detach"), LogFile: logFile, Verbose: c.Bool("verbose"), Stdout: stdout,
				Run: func(ctx context.Context, log *logx.Logger, ready func(error)) error {
					return locks.Serve(ctx, cfg, lockCfg, log, ready)
				},
			})
		},
	}
}

var errNoPort = cliError("global/clport is not set: cluster locking is disabled")

type cliError string

func (e cliError) Error() string { return string(e) }
