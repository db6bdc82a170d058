package lemscmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/linuxha-ng/linuxha/lems"
	"github.com/linuxha-ng/linuxha/lems/monitors"
	"github.com/linuxha-ng/linuxha/pkg/admit"
	"github.com/linuxha-ng/linuxha/pkg/clitool"
	"github.com/linuxha-ng/linuxha/pkg/config"
	"github.com/linuxha-ng/linuxha/pkg/daemonapi"
	"github.com/linuxha-ng/linuxha/pkg/jsonout"
	"github.com/linuxha-ng/linuxha/pkg/layout"
	"github.com/linuxha-ng/linuxha/pkg/logx"
	"github.com/linuxha-ng/linuxha/pkg/remote"
	"github.com/linuxha-ng/linuxha/pkg/wire"
)

// NewApp builds the lems command.
func NewApp(stdout, stderr io.Writer) *cli.App {
	return &cli.App{
		Name:  "lems",
		Usage: "monitor one application and act on its monitors' return codes",
		UsageText: "lems --application A [--config F] [--verbose] [--file F|-] [--check] [--detach]\n" +
			"     [--nochecksums]",
		Description: "Runs the checks of the application's lems.local.xml(5) on their intervals and maps\n" +
			"each return code through the check's action list. Normally the cluster daemon starts\n" +
			"it (with --detach --verbose) when the application has started, and restarts it if it\n" +
			"dies; clhaltapp aborts it. It runs as \"lems-<app>\", answers lemsctl(8) messages on\n" +
			"globals@port, and logs to <logs>/lems-<app>.log.\n\n" +
			"--check validates the file and every monitor, checks that the port is free on both\n" +
			"nodes and used by no other application, copies the file to the other node and prints\n" +
			"the check interval; it does not start monitoring.",
		Writer:          stdout,
		ErrWriter:       stderr,
		HideHelpCommand: true,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "application", Aliases: []string{"A"}, Required: true, Usage: "the application `NAME`"},
			&cli.StringFlag{Name: "config", Usage: "Lems configuration `FILE` (default /etc/cluster/<app>/lems.local.xml)"},
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"V"}, Usage: "log INFO lines as well as warnings and errors"},
			&cli.StringFlag{Name: "file", Usage: "log to `FILE` (- = standard output)"},
			&cli.BoolFlag{Name: "check", Usage: "validate the configuration, copy it to the other node, and exit"},
			&cli.BoolFlag{Name: "detach", Usage: "run as a daemon in the background"},
			&cli.BoolFlag{Name: "nochecksums", Usage: "ignore configuration checksums (last resort)"},
		},
		Action: func(c *cli.Context) error {
			l := layout.FromEnv()
			app := c.String("application")
			confPath := c.String("config")
			if confPath == "" {
				confPath = l.LemsConf(app)
			}
			data, err := os.ReadFile(confPath)
			if err != nil {
				return fmt.Errorf("Unable to read Lems configuration: %w", err)
			}
			conf, err := config.ParseLems(confPath, data)
			if err != nil {
				return err
			}
			cfg, err := clitool.LoadBuiltCluster(l, c.Bool("nochecksums"))
			if err != nil {
				return err
			}
			appConf, _, err := config.LoadApp(l.AppConf(app))
			if err != nil {
				return err
			}
			conf.Checks = monitors.WithResources(conf.Checks, appConf)
			client, err := daemonapi.NewClient(l, cfg)
			if err != nil {
				return err
			}
			logFile := c.String("file")
			if logFile == "" {
				logFile = lems.LogFile(l, conf.Logs, app)
			}
			env := monitors.Env{App: app, L: l, Cluster: cfg, AppConf: appConf, Me: client.Me, Peer: client.Peer(),
				Programs: l.Path(conf.Programs)}
			if c.Bool("check") {
				log := logx.New(stdout)
				if logFile != "-" {
					os.MkdirAll(filepath.Dir(logFile), 0o755)
					f, err := logx.Open(logFile)
					if err != nil {
						return err
					}
					defer f.Close()
					log = f
					log.Tee(stdout)
				}
				log.SetVerbose(true)
				env.Log = log
				return checkConfig(c.Context, l, client, app, confPath, data, conf, env)
			}
			if logFile != "-" {
				os.MkdirAll(filepath.Dir(logFile), 0o755)
			}
			return clitool.RunDaemon(c.Context, clitool.Daemon{
				Title: lems.Title(app), Node: client.Me, App: app, Detach: c.Bool("detach"), LogFile: logFile, Verbose: c.Bool("verbose"), Stdout: stdout,
				Run: func(ctx context.Context, log *logx.Logger, ready func(error)) error {
					env.Log = log
					return serve(ctx, l, client, app, confPath, conf, env, log, ready)
				},
			})
		},
	}
}

func serve(ctx context.Context, l layout.Layout, client *daemonapi.Client, app, confPath string, conf *config.Lems,
	env monitors.Env, log *logx.Logger, ready func(error)) error {
	ln, err := net.Listen("tcp", net.JoinHostPort("", strconv.Itoa(conf.Port)))
	if err != nil {
		err = fmt.Errorf("Lems for %s cannot listen on port %d: %w", app, conf.Port, err)
		log.Errorf("%v", err)
		ready(err)
		return err
	}
	log.Infof("Using modules from : %s", conf.Modules)
	log.Infof("Using programs from : %s", conf.Programs)
	log.Infof("Writing logs to : %s", l.Path(conf.Logs))
	warnSteps(log, conf)
	log.Infof("Listening on port : %d", conf.Port)
	e := lems.New(lems.Options{
		App: app, ConfPath: confPath, Conf: conf, Env: env, Log: log, LogsDir: l.Path(conf.Logs),
		Cluster: func(ctx context.Context, req string) (string, error) {
			return client.Call(ctx, client.Me, req)
		},
	})
	log.Infof("Global initialisation complete.")
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	srv := &wire.Server{Codec: client.Codec(), Handler: func(ctx context.Context, req string, from net.Addr) string {
		reply := e.Handle(ctx, req)
		log.Infof("Request from %s: %s => %s", from, req, strings.ReplaceAll(reply, lems.NR, " "))
		return reply
	}, Self: wire.Svc(client.Me, wire.SvcLems(app)),
		// Listening on every address (an application address moves
		// here), serving only the cluster's hosts.
		Admit: (&admit.Policy{Peers: client.PeerIPs, Warn: log.Warnf}).Admit, OnReject: (&wire.Throttle{Log: log.Warnf}).Reject}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	log.Infof("Started local server on port %d", conf.Port)
	ready(nil)
	err = e.Run(ctx)
	cancel()
	<-done
	log.Infof("Lems for %s stopped.", app)
	return err
}

// checkConfig is --check (L2478-2505, L3950-3985).
func checkConfig(ctx context.Context, l layout.Layout, client *daemonapi.Client, app, confPath string, data []byte,
	conf *config.Lems, env monitors.Env) error {
	log := env.Log
	log.Infof("Using modules from : %s", conf.Modules)
	log.Infof("Using programs from : %s", conf.Programs)
	log.Infof("Writing logs to : %s", l.Path(conf.Logs))
	warnSteps(log, conf)
	var problems []string
	log.Infof("Validating port not open locally...")
	if ln, err := net.Listen("tcp", net.JoinHostPort("", strconv.Itoa(conf.Port))); err != nil {
		problems = append(problems, fmt.Sprintf("port %d is already in use on this node", conf.Port))
	} else {
		ln.Close()
	}
	peer := client.Peer()
	if peer != "" {
		log.Infof("Validating port not open on %s...", peer)
		for _, a := range client.AddrsPort(peer, conf.Port) {
			if c, err := net.DialTimeout("tcp", a, time.Second); err == nil {
				c.Close()
				problems = append(problems, fmt.Sprintf("port %d is already in use on %s", conf.Port, peer))
				break
			}
		}
	}
	others, _ := os.ReadDir(l.ClusterDir())
	for _, o := range others {
		if !o.IsDir() || o.Name() == app || strings.HasPrefix(o.Name(), ".") {
			continue
		}
		od, err := os.ReadFile(l.LemsConf(o.Name()))
		if err != nil {
			continue
		}
		oc, err := config.ParseLems(l.LemsConf(o.Name()), od)
		if err != nil {
			continue
		}
		if oc.Port == conf.Port {
			problems = append(problems, fmt.Sprintf("application %s uses port %d too", o.Name(), conf.Port))
		} else {
			log.Infof("No clash for application %s - uses port %d not %d.", o.Name(), oc.Port, conf.Port)
		}
	}
	log.Infof("Listening on port : %d", conf.Port)
	log.Infof("Global initialisation complete.")
	min := time.Duration(0)
	for _, ch := range conf.Checks {
		log.Infof("Validating monitor entry %s...", ch.Name)
		e := env
		e.Check = ch.Name
		e.Checks = func() []string { return nil }
		if _, err := monitors.Build(&e, ch.Type, ch.Module, ch.Args); err != nil {
			problems = append(problems, fmt.Sprintf("monitor %s: %v", ch.Name, err))
			continue
		}
		log.Infof("Validated monitor entry %s successfully.", ch.Name)
		if ch.Interval > 0 && (min == 0 || ch.Interval < min) {
			min = ch.Interval
		}
	}
	if len(problems) > 0 {
		for _, p := range problems {
			log.Errorf("%s: %s", confPath, p)
		}
		return cli.Exit("", 1)
	}
	if peer != "" {
		log.Infof("Check mode - transferring validated config to remote node.")
		p := remote.ToNode(l.Topology(), peer, log.Infof)
		p.OnSelect = nil
		if err := p.WriteFile(ctx, l.LemsConf(app), data, 0o644); err != nil {
			log.Warnf("Unable to transfer configuration to remote node.")
		}
	}
	// The Reference's scheduler woke at half the shortest interval
	// (L3981: 5.0 s for checks of 10 s); ours wakes exactly when a check
	// is due, and reports the same figure for comparison.
	log.Infof("Calculated a check interval of %.1f seconds.", (min / 2).Seconds())
	return nil
}

// NewCtlApp builds the lemsctl command.
func NewCtlApp(stdout, stderr io.Writer) *cli.App {
	return &cli.App{
		Name:      "lemsctl",
		Usage:     "send a message to an application's Lems",
		UsageText: "lemsctl --application A --msg \"MESSAGE\" [--node N] [--json]",
		Description: "Works on either node: it asks the cluster where the application runs and sends the\n" +
			"message to that node's Lems, encrypted with the cluster key (so only root can use it).\n" +
			"Messages: GET_STAT [monitor], GET_VSTAT [monitor], CMD monitor command..., PAUSE [monitor],\n" +
			"RESUME [monitor], REMOVE monitor, INSTALL monitor, ABORT, VERBOSE ON|OFF, LOGCYCLE n.\n" +
			"Changes last until Lems restarts; edit lems.local.xml on both nodes to keep them.",
		Writer:          stdout,
		ErrWriter:       stderr,
		HideHelpCommand: true,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "application", Aliases: []string{"A"}, Required: true, Usage: "the application `NAME`"},
			&cli.StringFlag{Name: "msg", Aliases: []string{"m"}, Required: true, Usage: "the `MESSAGE` to send"},
			&cli.StringFlag{Name: "node", Usage: "send to this `NODE`'s Lems rather than where the application runs"},
			&cli.DurationFlag{Name: "timeout", Value: 10 * time.Second, Usage: "wait this long for the reply"},
			&cli.BoolFlag{Name: "json", Usage: "print the message and its reply (for GET_STAT and GET_VSTAT the monitors read) as JSON"},
		},
		Action: func(c *cli.Context) error {
			l := layout.FromEnv()
			app := c.String("application")
			cfg, err := clitool.LoadBuiltCluster(l, true)
			if err != nil {
				return err
			}
			reply, err := lems.Send(c.Context, l, cfg, app, c.String("node"), c.String("msg"), c.Duration("timeout"))
			if errors.Is(err, lems.ErrNotRunning) {
				return clitool.NotRunning(err)
			}
			if err != nil {
				return err
			}
			if c.Bool("json") {
				err = jsonout.Write(stdout, lems.Doc(app, c.String("msg"), reply))
			} else {
				fmt.Fprintln(stdout, strings.TrimSuffix(strings.ReplaceAll(reply, lems.NR, "\n"), "\n"))
			}
			if err == nil && lems.Failed(reply) {
				return cli.Exit("", 1)
			}
			return err
		},
	}
}

// warnSteps logs the action-list steps that will be ignored (L7183-7187).
func warnSteps(log *logx.Logger, conf *config.Lems) {
	for _, w := range conf.Warnings {
		log.Warnf("%v", w)
	}
}
