package clmember

import (
	"context"
	"encoding/json"
	"io"
	"time"

	"github.com/urfave/cli/v2"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/linuxha-ng/linuxha/pkg/clitool"
	"github.com/linuxha-ng/linuxha/pkg/layout"
	"github.com/linuxha-ng/linuxha/pkg/logx"
)

// NewApp is the clmember command.
func NewApp(stdout, stderr io.Writer) *cli.App {
	noSums := &cli.BoolFlag{Name: "nochecksums", Usage: "ignore configuration checksums (last resort)"}
	return &cli.App{
		Name:      "clmember",
		Usage:     "the etcd membership mode's node daemon: etcd member, liveness and application ownership",
		UsageText: "clmember run [--detach] [--witness] [--file F|-] [--nochecksums]\nclmember status [--json] [--nochecksums]",
		Description: "Serves clusters whose clconf.xml has <membership mode=\"etcd\">; the Reference's two-node\n" +
			"clusters run cldaemon instead. \"run\" starts this host's voting etcd member (variants embedded\n" +
			"and witness; data in /var/lib/linuxha/etcd, ports 2379 and 2380 on the address the node's name\n" +
			"resolves to), registers the node as alive, and claims each application by an etcd election on\n" +
			"a lease: the application's start script runs only while this node holds its key, with the\n" +
			"election's revision in LINUXHA_TOKEN, and its stop script runs before the lease could lapse.\n" +
			"On the witness host (--witness) only the member runs. Logs to /var/log/cluster/clmember.log,\n" +
			"etcd's own log to /var/log/cluster/etcd.log. \"status\" prints the members, quorum, the nodes\n" +
			"alive and each application's owner and token.",
		Writer:          stdout,
		ErrWriter:       stderr,
		HideHelpCommand: true,
		Commands: []*cli.Command{{
			Name:  "run",
			Usage: "run this host's member and claims",
			Flags: []cli.Flag{
				&cli.BoolFlag{Name: "detach", Usage: "run as a daemon in the background"},
				&cli.BoolFlag{Name: "witness", Usage: "this host is the cluster's witness: run its etcd member only"},
				&cli.StringFlag{Name: "file", Usage: "log to `FILE` (- = standard output)"},
				noSums,
			},
			Action: func(c *cli.Context) error {
				l := layout.FromEnv()
				cfg, err := clitool.LoadMemberCluster(l, c.Bool("nochecksums"))
				if err != nil {
					return err
				}
				me := cfg.ThisNode()
				if c.Bool("witness") {
					me = cfg.Membership.Witness
				}
				logFile := c.String("file")
				if logFile == "" {
					logFile = l.Path(cfg.LogDir) + "/clmember.log"
				}
				return clitool.RunDaemon(c.Context, clitool.Daemon{
					Title: "clmember-" + cfg.Name, Node: me, Detach: c.Bool("detach"), LogFile: logFile, Verbose: true, Stdout: stdout,
					Run: func(ctx context.Context, log *logx.Logger, ready func(error)) error {
						d := &Daemon{L: l, Cluster: cfg, Me: me, Log: log}
						return d.Run(ctx, ready)
					},
				})
			},
		}, {
			Name:  "status",
			Usage: "print the members, quorum, nodes alive and owners",
			Flags: []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print a JSON document"}, noSums},
			Action: func(c *cli.Context) error {
				l := layout.FromEnv()
				cfg, err := clitool.LoadMemberCluster(l, c.Bool("nochecksums"))
				if err != nil {
					return err
				}
				ms, err := Members(cfg, Resolve)
				if err != nil {
					return err
				}
				cl, err := clientv3.New(clientv3.Config{Endpoints: Endpoints(cfg, ms, cfg.ThisNode()), DialTimeout: 2 * time.Second, Logger: zap.NewNop()})
				if err != nil {
					return err
				}
				defer cl.Close()
				ctx, cancel := context.WithTimeout(c.Context, 5*time.Second)
				defer cancel()
				s, err := Query(ctx, cl, cfg, ms)
				if err != nil {
					return err
				}
				if c.Bool("json") {
					e := json.NewEncoder(stdout)
					e.SetIndent("", "  ")
					return e.Encode(s)
				}
				s.Print(stdout)
				return nil
			},
		}},
	}
}
