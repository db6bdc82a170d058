package clitool

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/linuxha-ng/linuxha/pkg/config"
)

// The exit codes of README's table, as a command built like every
// linuxha command returns them.
func TestExitCodes(t *testing.T) {
	app := func(err error) *cli.App {
		return &cli.App{
			Name:  "tool",
			Flags: []cli.Flag{&cli.StringFlag{Name: "application", Aliases: []string{"A"}, Required: true}},
			Action: func(*cli.Context) error {
				return err
			},
		}
	}
	problem := &config.Problem{File: "/etc/cluster/clconf.xml", Line: 3, Element: "global/port", Text: "not a port"}
	for _, tt := range []struct {
		name string
		args []string
		err  error
		code int
		line string
	}{
		{"done", []string{"-A", "x"}, nil, ExitOK, ""},
		{"failed", []string{"-A", "x"}, errors.New("fsck failed"), ExitFailed, "fsck failed"},
		{"unknown option", []string{"-A", "x", "--bogus"}, nil, ExitUsage, "flag provided but not defined: -bogus"},
		{"missing required option", nil, nil, ExitUsage, `Required flag "application" not set`},
		{"usage error", []string{"-A", "x"}, Usagef("unexpected argument %q", "y"), ExitUsage, `unexpected argument "y"`},
		{"parser problem", []string{"-A", "x"}, fmt.Errorf("loading: %w", config.Problems{problem}), ExitConfig, "/etc/cluster/clconf.xml:3: global/port: not a port"},
		{"configuration error", []string{"-A", "x"}, ConfigError(ErrNotBuilt), ExitConfig, "has not been built yet"},
		{"not running", []string{"-A", "x"}, NotRunningf("Cluster %s is not running.", "cluster1"), ExitNotRunning, "Cluster cluster1 is not running."},
		{"explicit exit", []string{"-A", "x"}, cli.Exit("", ExitNotRunning), ExitNotRunning, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			a := app(tt.err)
			a.Writer, a.ErrWriter = &out, &errb
			code := Run(context.Background(), a, append([]string{"tool"}, tt.args...))
			if code != tt.code || !strings.Contains(errb.String(), tt.line) || (tt.line != "" && !strings.HasPrefix(errb.String(), "ERROR ")) {
				t.Fatalf("exit %d, want %d; stderr %q, want %q", code, tt.code, errb.String(), tt.line)
			}
		})
	}
}

func TestVersionFlag(t *testing.T) {
	var out bytes.Buffer
	a := &cli.App{Name: "tool", Writer: &out, Flags: []cli.Flag{&cli.BoolFlag{Name: "verbose", Aliases: []string{"V"}}}, Action: func(*cli.Context) error { return nil }}
	if code := Run(context.Background(), a, []string{"tool", "--version"}); code != 0 || !strings.HasPrefix(out.String(), "tool (linuxha) ") {
		t.Fatalf("%d %q", code, out.String())
	}
	// -V stays --verbose, as the Reference's tools have it.
	out.Reset()
	if code := Run(context.Background(), a, []string{"tool", "-V"}); code != 0 || out.Len() != 0 {
		t.Fatalf("-V: %d %q", code, out.String())
	}
}
