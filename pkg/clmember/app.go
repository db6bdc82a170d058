package clmember

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/linuxha-ng/linuxha/pkg/clitool"
	"github.com/linuxha-ng/linuxha/pkg/config"
	"github.com/linuxha-ng/linuxha/pkg/layout"
	"github.com/linuxha-ng/linuxha/pkg/logx"
	"github.com/linuxha-ng/linuxha/pkg/pki"
)

// NewApp is the clmember command.
func NewApp(stdout, stderr io.Writer) *cli.App {
	return &cli.App{
		Name:      "clmember",
		Usage:     "the etcd membership mode's node daemon: etcd member, liveness and application ownership",
		UsageText: "clmember [--detach] [--witness] [--file F|-] [--nochecksums]\nclmember --status [--json] [--nochecksums]\nclmember --genca [--nochecksums]",
		Description: "Serves clusters whose clconf.xml has <membership mode=\"etcd\">; the Reference's two-node\n" +
			"clusters run cldaemon instead. Without --status it starts this host's voting etcd member\n" +
			"(variants embedded and witness; data in /var/lib/linuxha/etcd, ports 2379 and 2380 on the\n" +
			"address the node's name resolves to), registers the node as alive, and claims each application\n" +
			"by an etcd election on a lease: the application's start script runs only while this node holds\n" +
			"its key, with the election's revision in LINUXHA_TOKEN, and its stop script runs before the\n" +
			"lease could lapse. On the witness host (--witness) only the member runs. Logs to\n" +
			"/var/log/cluster/clmember.log, etcd's own log to /var/log/cluster/etcd.log. With --status it\n" +
			"prints the members, quorum, the nodes alive and each application's owner and token.\n" +
			"With a cluster CA in /etc/cluster/.etcd (--genca makes one; copy it to every host) the members\n" +
			"talk TLS and admit only certificates of that CA, which each host issues itself at start.",
		Writer:          stdout,
		ErrWriter:       stderr,
		HideHelpCommand: true,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "detach", Usage: "run as a daemon in the background"},
			&cli.BoolFlag{Name: "witness", Usage: "this host is the cluster's witness: run its etcd member only"},
			&cli.StringFlag{Name: "file", Usage: "log to `FILE` (- = standard output)"},
			&cli.BoolFlag{Name: "status", Usage: "print the members, quorum, nodes alive and owners, and exit"},
			&cli.BoolFlag{Name: "json", Usage: "with --status: print a JSON document"},
			&cli.BoolFlag{Name: "genca", Usage: "make the cluster's certificate authority in /etc/cluster/.etcd, and exit"},
			&cli.BoolFlag{Name: "nochecksums", Usage: "ignore configuration checksums (last resort)"},
		},
		Action: func(c *cli.Context) error {
			l := layout.FromEnv()
			cfg, err := clitool.LoadMemberCluster(l, c.Bool("nochecksums"))
			if err != nil {
				return err
			}
			if c.Bool("status") {
				return status(c.Context, stdout, l, cfg, c.Bool("json"))
			}
			if c.Bool("genca") {
				if err := pki.WriteCA(l.EtcdCADir(), cfg.Name, time.Now()); err != nil {
					return err
				}
				fmt.Fprintf(stdout, "Made the cluster's CA in %s: copy that directory to every host (mode 0700, root), then start clmember.\n", l.EtcdCADir())
				return nil
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
	}
}

// status prints the cluster's status as etcd holds it.
func status(ctx context.Context, w io.Writer, l layout.Layout, cfg *config.Cluster, asJSON bool) error {
	ms, err := Members(cfg, Resolve, pki.HasCA(l.EtcdCADir()))
	if err != nil {
		return err
	}
	host, err := HostTLS(l, cfg.ThisNode(), selfAddr(ms, cfg.ThisNode()))
	if err != nil {
		return err
	}
	cl, err := Client(cfg, Endpoints(cfg, ms, cfg.ThisNode()), 2*time.Second, host)
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	s, err := Query(ctx, cl, cfg, ms)
	if err != nil {
		return err
	}
	if asJSON {
		e := json.NewEncoder(w)
		e.SetIndent("", "  ")
		return e.Encode(s)
	}
	s.Print(w)
	return nil
}
