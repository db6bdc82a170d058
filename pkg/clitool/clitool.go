// Package clitool holds the conventions every linuxha command shares:
// a context cancelled by SIGINT/SIGTERM, errors printed as the
// Reference's "ERROR dd/mm/yyyy hh:mm:ss text" lines, and exit codes.
package clitool

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/linuxha-ng/linuxha/pkg/config"
	"github.com/linuxha-ng/linuxha/pkg/jsonout"
	"github.com/linuxha-ng/linuxha/pkg/logx"
	"github.com/linuxha-ng/linuxha/pkg/version"

	"github.com/urfave/cli/v2"
)

// NewApp is how each command's package builds its urfave/cli app, given
// the writers it must use.
type NewApp func(stdout, stderr io.Writer) *cli.App

// Main runs a command as a process and exits with its code.
func Main(newApp NewApp) {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := Run(ctx, newApp(os.Stdout, os.Stderr), os.Args)
	stop()
	os.Exit(code)
}

// Standard gives app what every linuxha command has: --version (the
// build's version.String), usage errors that exit ExitUsage, and no
// urfave/cli exit of its own. Run applies it; genman does too, so the man
// pages show what the commands do.
func Standard(app *cli.App) *cli.App {
	app.Version = version.String()
	app.ExitErrHandler = func(*cli.Context, error) {}
	app.OnUsageError = func(_ *cli.Context, err error, _ bool) error { return UsageError(err) }
	checkNames(app.Flags)
	for _, c := range app.Commands {
		c.OnUsageError = app.OnUsageError
		checkNames(c.Flags)
	}
	return app
}

// checkNames makes every --application (-A) flag refuse a name outside
// the application name's character set (config.CheckAppName) before the
// command does anything with it: "-A ../../tmp/evil" would otherwise
// name a directory outside /etc/cluster.
func checkNames(flags []cli.Flag) {
	for _, f := range flags {
		if sf, ok := f.(*cli.StringFlag); ok && sf.Name == "application" && sf.Action == nil {
			sf.Action = func(_ *cli.Context, v string) error {
				if err := config.CheckAppName(v); err != nil {
					return UsageError(fmt.Errorf("--application: %w", err))
				}
				return nil
			}
		}
	}
}

func init() {
	// --version only: -v is not taken from the commands, which use -V
	// for --verbose as the Reference does.
	cli.VersionFlag = &cli.BoolFlag{Name: "version", Usage: "print the version and exit", DisableDefaultText: true}
	cli.VersionPrinter = func(c *cli.Context) { fmt.Fprintf(c.App.Writer, "%s (linuxha) %s\n", c.App.Name, c.App.Version) }
}

// Run runs app and returns the exit code (see ExitCode). Each line of an
// error is printed as an ERROR line on the app's error writer, or, when
// the command line asks for --json, as a jsonout.Error document on its
// standard output.
func Run(ctx context.Context, app *cli.App, args []string) int {
	err := Standard(app).RunContext(ctx, args)
	if err == nil {
		return 0
	}
	code := ExitCode(err)
	if msg := strings.TrimRight(err.Error(), "\n"); msg != "" && jsonout.Wanted(args[1:]) {
		// In JSON mode the failure is a JSON document too, on standard
		// output where the reader looks for one.
		w := app.Writer
		if w == nil {
			w = os.Stdout
		}
		jsonout.WriteError(w, app.Name, err, code)
	} else if msg != "" {
		w := app.ErrWriter
		if w == nil {
			w = os.Stderr
		}
		logx.New(w).Errorf("%s", msg)
	}
	return code
}
