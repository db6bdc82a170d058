// Package clresource is the clresource command: one operation of one
// member of an application's <resources>, run here and now, as
// Pacemaker's crm_resource --force-start, --force-stop and --force-check
// run an agent outside the cluster. It is how an administrator tries an
// agent, and "recover" runs the monitor Lems runs, restart included.
package clresource

import (
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/linuxha-ng/linuxha/lems/monitors"
	"github.com/linuxha-ng/linuxha/pkg/clitool"
	"github.com/linuxha-ng/linuxha/pkg/config"
	"github.com/linuxha-ng/linuxha/pkg/layout"
	"github.com/linuxha-ng/linuxha/pkg/logx"
	"github.com/linuxha-ng/linuxha/pkg/resource"
)

// NewApp builds the clresource command.
func NewApp(stdout, stderr io.Writer) *cli.App {
	return &cli.App{
		Name:      "clresource",
		Usage:     "run one operation of an application's resource on this node, outside the cluster",
		UsageText: "clresource -A APP -R NAME {start|stop|monitor|check|recover}",
		Description: "Runs the operation of the member NAME of APP's <resources> (appconf.xml(5)) on this node\n" +
			"and prints its OCF code, as crm_resource --force-start/--force-stop/--force-check do for\n" +
			"Pacemaker: start, stop, monitor, check (what clbuildapp --check checks here), or recover\n" +
			"(one run of the check Lems runs: the monitor, and on a soft failure a stop and a start).\n" +
			"It tells no cluster daemon: a resource started here while its application runs on the\n" +
			"other node runs twice. The exit code is the OCF code (0 success, 7 not running, ...);\n" +
			"recover exits 0, or 2 when Lems would fail the application over, 3 when it would halt it.",
		Writer:          stdout,
		ErrWriter:       stderr,
		HideHelpCommand: true,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "application", Aliases: []string{"A"}, Required: true, Usage: "the application `NAME`"},
			&cli.StringFlag{Name: "resource", Aliases: []string{"R"}, Required: true, Usage: "the member's `NAME`"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return clitool.Usagef("give one operation: start, stop, monitor, check or recover")
			}
			l := layout.FromEnv()
			app, _, err := config.LoadApp(l.AppConf(c.String("application")))
			if err != nil {
				return clitool.ConfigError(err)
			}
			r, ok := app.Resource(c.String("resource"))
			if !ok {
				return clitool.ConfigError(fmt.Errorf("%s has no resource %q", app.File, c.String("resource")))
			}
			log := logx.New(stdout)
			log.SetVerbose(true)
			a := resource.New(r, resource.Env{App: app.Name, Log: log.Infof})
			var code resource.Code
			switch op := c.Args().First(); op {
			case "start":
				code = a.Start(c.Context)
			case "stop":
				code = a.Stop(c.Context)
			case "monitor":
				code = a.Monitor(c.Context)
			case "check":
				warns, err := a.Check(c.Context)
				for _, w := range warns {
					log.Warnf("%s", w)
				}
				if err != nil {
					return clitool.ConfigError(fmt.Errorf("%s:%d: %s: %w", app.File, r.Line, r.Element(), err))
				}
			case "recover":
				m, err := monitors.NewResource(&monitors.Env{App: app.Name, L: l, AppConf: app, Log: log}, []string{r.Name})
				if err != nil {
					return err
				}
				rc, why := m.Check(c.Context)
				fmt.Fprintf(stdout, "%s %s: rc %d %s\n", r.Name, op, rc, why)
				return exit(rc)
			default:
				return clitool.Usagef("unknown operation %q: start, stop, monitor, check or recover", op)
			}
			fmt.Fprintf(stdout, "%s %s: %v\n", r.Name, c.Args().First(), code)
			return exit(int(code))
		},
	}
}

// exit makes the OCF code the exit code.
func exit(code int) error {
	if code == 0 {
		return nil
	}
	if code < 0 {
		code = int(resource.ErrGeneric)
	}
	return cli.Exit("", code)
}
