// Package cldaemonctl sends one raw request to a cluster daemon and prints
// the reply (Reference §17, L4639-4857).
package cldaemonctl

import (
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/linuxha-ng/linuxha/pkg/clitool"
	"github.com/linuxha-ng/linuxha/pkg/daemonapi"
	"github.com/linuxha-ng/linuxha/pkg/jsonout"
	"github.com/linuxha-ng/linuxha/pkg/layout"
)

// NewApp builds the cldaemonctl command.
func NewApp(stdout, stderr io.Writer) *cli.App {
	return &cli.App{
		Name:      "cldaemonctl",
		Usage:     "send a request to a cluster daemon and print its reply",
		UsageText: `cldaemonctl --msg "REQUEST [key=value ...]" [--node N] [--json]`,
		Description: "Without --node the request goes to this node's daemon, or to the other node's when\n" +
			"this one does not answer. Examples: ECHO; \"VERBOSE on=true forward=yes\";\n" +
			"\"LOGCYCLE count=3 forward=yes\"; \"SETVALIDNODES app=apache forward=yes\"; HELP.",
		Writer:          stdout,
		ErrWriter:       stderr,
		HideHelpCommand: true,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "msg", Required: true, Usage: "the request"},
			&cli.StringFlag{Name: "node", Usage: "send to this node's daemon only"},
			&cli.DurationFlag{Name: "timeout", Value: 5e9, Usage: "how long to wait for the reply"},
			&cli.BoolFlag{Name: "json", Usage: "print the request, the reply and, for APP_LIST, APP_STATUS, ECHO, GET_NODE_STATE and LOADAVERAGE, the reply read, as JSON"},
		},
		Action: func(c *cli.Context) error {
			l := layout.FromEnv()
			cfg, err := clitool.LoadBuiltCluster(l, false)
			if err != nil {
				return err
			}
			client, err := daemonapi.NewClient(l, cfg)
			if err != nil {
				return err
			}
			client.Timeout = c.Duration("timeout")
			var reply, via string
			if n := c.String("node"); n != "" {
				if _, ok := cfg.Node(n); !ok {
					return fmt.Errorf("%s is not a node of cluster %s", n, cfg.Name)
				}
				via = n
				reply, err = client.Call(c.Context, n, c.String("msg"))
				if err != nil {
					err = fmt.Errorf("no cluster daemon answered on %s", n)
				}
			} else {
				reply, via, err = client.Any(c.Context, c.String("msg"))
			}
			if err != nil && c.Bool("json") {
				return clitool.NotRunning(err)
			}
			if err != nil {
				// Scripts test ECHO for "UP" or a reply starting with ERROR (L4804).
				fmt.Fprintf(stdout, "ERROR %v\n", err)
				return cli.Exit("", clitool.ExitNotRunning)
			}
			if c.Bool("json") {
				return jsonout.Write(stdout, daemonapi.Doc(c.String("msg"), via, reply))
			}
			fmt.Fprintln(stdout, reply)
			return nil
		},
	}
}
