package clbuildapp

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/linuxha-ng/linuxha/pkg/clitool"
	"github.com/linuxha-ng/linuxha/pkg/config"
	"github.com/linuxha-ng/linuxha/pkg/jsonout"
	"github.com/linuxha-ng/linuxha/pkg/layout"
	"github.com/linuxha-ng/linuxha/pkg/logx"
	"github.com/linuxha-ng/linuxha/pkg/progress"
	"github.com/linuxha-ng/linuxha/pkg/state"
)

// runStage runs the stage the command line names; --sync shows its
// progress on show.
func runStage(c *cli.Context, log *logx.Logger, show *progress.Printer) error {
	b, err := newBuilder(c.Context, layout.FromEnv(), c.String("application"), log, c.Bool("force"), c.Bool("forcesync"))
	if err != nil {
		return err
	}
	b.fsmapFlag = c.Bool("fsmap")
	b.show = show
	switch {
	case c.Bool("check"):
		return b.Check()
	case c.Bool("vgbuild"):
		return b.VGBuild()
	case c.Bool("build"):
		return b.Build()
	default:
		return b.Sync()
	}
}

// NewApp builds the clbuildapp command.
func NewApp(stdout, stderr io.Writer) *cli.App {
	return &cli.App{
		Name:      "clbuildapp",
		Usage:     "take an application's file systems into replicated storage, in four stages",
		UsageText: "clbuildapp --application A [--verbose] [--file F] --check|--vgbuild|--build|--sync [--force] [--forcesync] [--fsmap] [--json]",
		Description: "Run on the node where the application's file systems are mounted, with\n" +
			"/etc/cluster/A/appconf.xml written. --check validates the configuration and both nodes;\n" +
			"--vgbuild gives the other node the same logical volumes and both nodes a 128 MB\n" +
			"<lv>_meta volume per file system; --build allocates the same DRBD device and port on\n" +
			"both nodes, records the fsmap, copies the application's XML files and writes the build\n" +
			"checksum; --sync unmounts the file systems and replicates them to the other node\n" +
			"(--forcesync: a full resync). Each stage requires the one before it.\n\n" +
			"On a built application, --vgbuild and --build with --force change its file systems\n" +
			"(Reference §18). While it runs here: a volume mounted on its own logical volume is\n" +
			"added (moved onto a new DRBD device and synchronised in the background), a volume no\n" +
			"longer mounted is removed (its replication stopped, its port and DRBD device freed on\n" +
			"both nodes), and a volume grown with lvextend is grown on the other node, in DRBD and in\n" +
			"its file system (ext2/3/4, xfs) - the application keeps running. While it is down,\n" +
			"--build --fsmap rewrites the fsmap from the mounted volumes; then --sync --forcesync.",
		Writer:          stdout,
		ErrWriter:       stderr,
		HideHelpCommand: true,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "application", Aliases: []string{"A"}, Usage: "the application (required)"},
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"V"}},
			&cli.BoolFlag{Name: "check"}, &cli.BoolFlag{Name: "vgbuild"},
			&cli.BoolFlag{Name: "build"}, &cli.BoolFlag{Name: "sync"},
			&cli.BoolFlag{Name: "force", Aliases: []string{"F"}, Usage: "rebuild an application that is built or running"},
			&cli.BoolFlag{Name: "forcesync", Usage: "with --sync: resynchronise everything"},
			&cli.BoolFlag{Name: "fsmap", Usage: "with --build --force on an application that is down: rebuild the fsmap from the mounted volumes"},
			&cli.StringFlag{Name: "file", Usage: "write the output to `F` (- = standard output); --verbose also shows it"},
			&cli.BoolFlag{Name: "json", Usage: "print every line of the stage, and its outcome, as one JSON document"},
			&cli.BoolFlag{Name: "template", Usage: "print an annotated appconf.xml with every element, its default and its rule, and exit"},
		},
		Action: func(c *cli.Context) error {
			if c.Bool("template") {
				_, err := stdout.Write(config.AppTemplate)
				return err
			}
			if c.String("application") == "" {
				return clitool.Usagef("--application is required")
			}
			n := 0
			for _, s := range []string{"check", "vgbuild", "build", "sync"} {
				if c.Bool(s) {
					n++
				}
			}
			if n != 1 {
				return fmt.Errorf("give exactly one of --check, --vgbuild, --build and --sync")
			}
			log := logx.New(stdout)
			log.SetVerbose(c.Bool("verbose"))
			if c.Bool("json") {
				// Every line goes into the document (and to --file).
				log = logx.New(io.Discard)
				stage := ""
				for _, s := range []string{"check", "vgbuild", "build", "sync"} {
					if c.Bool(s) {
						stage = s
					}
				}
				doc := &jsonout.RunLog{Schema: jsonout.RunSchema, Command: "clbuildapp", Application: jsonout.String(c.String("application")), Stage: &stage}
				doc.Record(log)
				if f := c.String("file"); f != "" && f != "-" {
					fl, err := os.OpenFile(f, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
					if err != nil {
						return err
					}
					defer fl.Close()
					log.Tee(fl)
				}
				err := runStage(c, log, &progress.Printer{W: stdout, JSON: true, App: c.String("application")})
				return doc.Finish(stdout, err, clitool.ExitCode(err))
			}
			if f := c.String("file"); f != "" && f != "-" {
				var err error
				if log, err = logx.Open(f); err != nil {
					return err
				}
				defer log.Close()
				if c.Bool("verbose") {
					log.Tee(stdout)
				}
			} else if f == "-" {
				log.SetVerbose(true)
			}
			return runStage(c, log, &progress.Printer{W: stdout, TTY: progress.IsTerminal(stdout), App: c.String("application")})
		},
		Commands: []*cli.Command{
			{
				Name: "check-members", Hidden: true, Usage: "check the <resources> of the appconf.xml on stdin on this node, as JSON (run on the peer)",
				Flags: []cli.Flag{&cli.StringFlag{Name: "file", Required: true}},
				Action: func(c *cli.Context) error {
					return checkMembersCommand(c.Context, c.String("file"), os.Stdin, stdout)
				},
			},
			{
				Name: "release", Hidden: true, Usage: "free a removed volume's port and DRBD device (run on the peer); prints them",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "application", Required: true}, &cli.StringFlag{Name: "vg", Required: true},
					&cli.StringFlag{Name: "lv", Required: true},
				},
				Action: func(c *cli.Context) error {
					port, minor, err := releaseVolume(layout.FromEnv(), state.Owner{App: c.String("application"), VG: c.String("vg"), LV: c.String("lv")})
					if err != nil {
						return err
					}
					fmt.Fprintf(stdout, "%d %d\n", port, minor)
					return nil
				},
			},
			{
				Name: "resources", Hidden: true, Usage: "free ports and DRBD devices, as JSON (run on the peer)",
				Flags: []cli.Flag{&cli.StringFlag{Name: "application", Required: true}},
				Action: func(c *cli.Context) error {
					return json.NewEncoder(stdout).Encode(resourcesOf(layout.FromEnv(), c.String("application")))
				},
			},
			{
				Name: "claim", Hidden: true, Usage: "allocate a port and a DRBD device (run on the peer)",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "application", Required: true}, &cli.StringFlag{Name: "vg", Required: true},
					&cli.StringFlag{Name: "lv", Required: true}, &cli.IntFlag{Name: "port", Required: true}, &cli.IntFlag{Name: "minor", Required: true},
				},
				Action: func(c *cli.Context) error {
					l := layout.FromEnv()
					o := state.Owner{App: c.String("application"), VG: c.String("vg"), LV: c.String("lv")}
					if err := (state.Pool{Dir: l.PortsDir()}).Claim(c.Int("port"), o); err != nil {
						return err
					}
					return state.Pool{Dir: l.DrbdDir()}.Claim(c.Int("minor"), o)
				},
			},
		},
	}
}
