package clbuild

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/linuxha-ng/linuxha/pkg/backup"
	"github.com/linuxha-ng/linuxha/pkg/clitool"
	"github.com/linuxha-ng/linuxha/pkg/config"
	"github.com/linuxha-ng/linuxha/pkg/jsonout"
	"github.com/linuxha-ng/linuxha/pkg/layout"
	"github.com/linuxha-ng/linuxha/pkg/logx"
	"github.com/linuxha-ng/linuxha/pkg/nodefacts"
)

// NewApp builds the clbuild command.
func NewApp(stdout, stderr io.Writer) *cli.App {
	return &cli.App{
		Name:      "clbuild",
		Usage:     "validate the cluster configuration and build the cluster on both nodes",
		UsageText: "clbuild [-V|--verbose] [-F|--force] [--genkey] [--json]",
		Description: "Run on the node where /etc/cluster/clconf.xml was written. clbuild checks the\n" +
			"configuration and both nodes (Reference §7.2.4), and only when every check passes\n" +
			"copies clconf.xml to the peer, creates log directories and resource flag files on\n" +
			"both nodes, records the network topology and writes the build checksum that every\n" +
			"other tool verifies. Re-running it keeps existing allocations.",
		Writer:          stdout,
		ErrWriter:       stderr,
		HideHelpCommand: true,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"V"}, Usage: "print every check as an INFO line"},
			&cli.BoolFlag{Name: "force", Aliases: []string{"F"}, Usage: "rebuild an already built or running cluster"},
			&cli.BoolFlag{Name: "genkey", Usage: "write a new random global/key into clconf.xml first (the build then copies it to the peer)"},
			&cli.BoolFlag{Name: "json", Usage: "print every check and step, and the outcome, as one JSON document"},
			&cli.BoolFlag{Name: "template", Usage: "print an annotated clconf.xml with every element, its default and its rule, and exit"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return clitool.Usagef("unexpected argument %q", c.Args().First())
			}
			if c.Bool("template") {
				_, err := stdout.Write(config.ClusterTemplate)
				return err
			}
			log := logx.New(stdout)
			log.SetVerbose(c.Bool("verbose"))
			var doc *jsonout.RunLog
			if c.Bool("json") {
				// Every check's line goes into the document instead.
				log = logx.New(io.Discard)
				doc = &jsonout.RunLog{Schema: jsonout.RunSchema, Command: "clbuild"}
				doc.Record(log)
			}
			err := func() error {
				exe, err := os.Executable()
				if err != nil {
					return err
				}
				b := &Builder{L: layout.FromEnv(), Log: log, Force: c.Bool("force"), Exe: exe}
				if c.Bool("genkey") {
					if err := WriteNewKey(b.L.Clconf()); err != nil {
						return clitool.ConfigError(err)
					}
					log.Infof("Wrote a new random key to %s", b.L.Clconf())
				}
				return b.Run(c.Context)
			}()
			if doc != nil {
				return doc.Finish(stdout, err, clitool.ExitCode(err))
			}
			return err
		},
		Commands: []*cli.Command{
			{
				Name: "probe", Hidden: true, Usage: "print this node's facts as JSON (run by clbuild on the peer)",
				Flags: []cli.Flag{
					&cli.IntFlag{Name: "port"}, &cli.StringFlag{Name: "datadetail"},
					&cli.StringFlag{Name: "cards"}, &cli.StringFlag{Name: "names"},
					&cli.StringFlag{Name: "ssh-back"}, &cli.BoolFlag{Name: "load-drbd"},
				},
				Action: func(c *cli.Context) error {
					f := nodefacts.Probe(c.Context, layout.FromEnv(), nodefacts.ProbeArgs{
						Port: c.Int("port"), DataDetail: c.String("datadetail"),
						Cards: split(c.String("cards")), Names: split(c.String("names")),
						SSHBack: c.String("ssh-back"), LoadDRBD: c.Bool("load-drbd"),
					})
					return json.NewEncoder(stdout).Encode(f)
				},
			},
			{
				Name: "apply", Hidden: true, Usage: "create this node's directories and resource files (run by clbuild on the peer)",
				Action: func(c *cli.Context) error {
					l := layout.FromEnv()
					cfg, _, err := config.LoadCluster(l.Clconf())
					if err != nil {
						return err
					}
					a, err := Apply(l, cfg)
					if err != nil {
						return err
					}
					return json.NewEncoder(stdout).Encode(a)
				},
			},
			{
				Name: "backup", Hidden: true, Usage: "archive /etc/cluster under /clbackup (run by clbuild on the peer)",
				Action: func(c *cli.Context) error {
					name, err := backup.Backup(layout.FromEnv(), time.Now())
					if err != nil {
						return err
					}
					if name != "" {
						fmt.Fprintln(stdout, name)
					}
					return nil
				},
			},
		},
	}
}

func split(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f != "" {
			out = append(out, f)
		}
	}
	return out
}
