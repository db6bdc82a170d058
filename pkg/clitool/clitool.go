// Package clitool holds the conventions every linuxha command shares:
// a context cancelled by SIGINT/SIGTERM, errors printed as the
// Reference's "ERROR dd/mm/yyyy hh:mm:ss text" lines, and exit codes.
package clitool

import (
	"context"
	"errors"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/linuxha-ng/linuxha/pkg/logx"
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

// Run runs app and returns the exit code: 0, the code of a cli.ExitCoder,
// or 1. Each line of an error is printed as an ERROR line on the app's
// error writer.
func Run(ctx context.Context, app *cli.App, args []string) int {
	app.ExitErrHandler = func(*cli.Context, error) {}
	err := app.RunContext(ctx, args)
	if err == nil {
		return 0
	}
	code := 1
	var ec cli.ExitCoder
	if errors.As(err, &ec) {
		code = ec.ExitCode()
	}
	if msg := strings.TrimRight(err.Error(), "\n"); msg != "" {
		w := app.ErrWriter
		if w == nil {
			w = os.Stderr
		}
		logx.New(w).Errorf("%s", msg)
	}
	return code
}
