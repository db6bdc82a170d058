package clnetd

import (
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/linuxha-ng/linuxha/pkg/clitool"
	"github.com/linuxha-ng/linuxha/pkg/config"
	"github.com/linuxha-ng/linuxha/pkg/layout"
	"github.com/linuxha-ng/linuxha/pkg/logx"
	"github.com/linuxha-ng/linuxha/pkg/netd"
	"github.com/linuxha-ng/linuxha/pkg/wire"
)

// NewApp builds the clnetd command.
func NewApp(stdout, stderr io.Writer) *cli.App {
	return &cli.App{
		Name:      "clnetd",
		Usage:     "the cluster network daemon: move addresses off cards that lose their link",
		UsageText: `clnetd [--detach] [--verbose] [--file F|-] | clnetd --msg "REREAD|STATUS|ABORT"`,
		Description: "Started by cldaemon when it is not running. Watches the link of every card of this node's\n" +
			"topology (netlink link events; ethtool polled 5 times a second where events are missing).\n" +
			"When a card holding addresses loses its carrier, every address on it moves to a working\n" +
			"card of the same network (never used before if possible, else the one used longest ago;\n" +
			"a card that failed is not reused for 60 s) and is announced with gratuitous ARP. With no\n" +
			"working card left it tells cldaemon the network failed and stops watching that network\n" +
			"until --msg REREAD. Networks with attribute=\"crossover\" are not checked. Runs as\n" +
			"\"clnetd-<cluster>\" and logs to /var/log/cluster/clnetd.log.",
		Writer:          stdout,
		ErrWriter:       stderr,
		HideHelpCommand: true,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "detach", Usage: "run as a daemon in the background"},
			&cli.BoolFlag{Name: "verbose", Value: true, Usage: "log INFO lines"},
			&cli.StringFlag{Name: "file", Usage: "log to `FILE` (- = standard output)"},
			&cli.StringFlag{Name: "msg", Usage: "send a request to the running clnetd and print the reply"},
			&cli.BoolFlag{Name: "nochecksums", Usage: "ignore configuration checksums (last resort)"},
		},
		Action: func(c *cli.Context) error {
			l := layout.FromEnv()
			load := func() (*config.Cluster, error) { return clitool.LoadBuiltCluster(l, c.Bool("nochecksums")) }
			cfg, err := load()
			if err != nil {
				return err
			}
			if cfg.ClnetdPort == 0 {
				return fmt.Errorf("global/clnetdport is not set: network monitoring is disabled")
			}
			if m := c.String("msg"); m != "" {
				return send(c.Context, cfg, m, stdout)
			}
			logFile := c.String("file")
			if logFile == "" {
				logFile = l.Path(cfg.LogDir) + "/clnetd.log"
			}
			host := cfg.ThisNode()
			return clitool.RunDaemon(c.Context, clitool.Daemon{
				Title: "clnetd-" + cfg.Name, Node: cfg.ThisNode(), Detach: c.Bool("detach"), LogFile: logFile, Verbose: c.Bool("verbose"), Stdout: stdout,
				Run: func(ctx context.Context, log *logx.Logger, ready func(error)) error {
					d := &netd.Daemon{Cfg: cfg, Node: host, Log: log, Reload: load}
					return d.Run(ctx, ready)
				},
			})
		},
	}
}

func send(ctx context.Context, cfg *config.Cluster, msg string, out io.Writer) error {
	host := cfg.ThisNode()
	codec, err := wire.NewCodec(wire.FramingOf(cfg.Framing), cfg.Name, cfg.Key, wire.WithFrom(wire.Svc(host, "clnetd-msg")))
	if err != nil {
		return err
	}
	reply, _, err := wire.Call(ctx, codec, wire.Svc(host, wire.SvcNet), []string{net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.ClnetdPort))}, msg, 5*time.Second)
	if err != nil {
		return fmt.Errorf("network daemon not running on this node: %w", err)
	}
	fmt.Fprintln(out, reply)
	return nil
}
