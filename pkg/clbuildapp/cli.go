package clbuildapp

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/linuxha-ng/linuxha/pkg/layout"
	"github.com/linuxha-ng/linuxha/pkg/logx"
	"github.com/linuxha-ng/linuxha/pkg/state"
)

// NewApp builds the clbuildapp command.
func NewApp(stdout, stderr io.Writer) *cli.App {
	return &cli.App{
		Name:      "clbuildapp",
		Usage:     "take an application's file systems into replicated storage, in four stages",
		UsageText: "clbuildapp --application A [--verbose] --check|--vgbuild|--build|--sync [--force] [--forcesync]",
		Description: "Run on the node where the application's file systems are mounted, with\n" +
			"/etc/cluster/A/appconf.xml written. --check validates the configuration and both nodes;\n" +
			"--vgbuild gives the other node the same logical volumes and both nodes a 128 MB\n" +
			"<lv>_meta volume per file system; --build allocates the same DRBD device and port on\n" +
			"both nodes, records the fsmap, copies the application's XML files and writes the build\n" +
			"checksum; --sync unmounts the file systems and replicates them to the other node\n" +
			"(--forcesync: a full resync). Each stage requires the one before it.",
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
		},
		Action: func(c *cli.Context) error {
			if c.String("application") == "" {
				return fmt.Errorf("--application is required")
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
			b, err := newBuilder(c.Context, layout.FromEnv(), c.String("application"), log, c.Bool("force"), c.Bool("forcesync"))
			if err != nil {
				return err
			}
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
		},
		Commands: []*cli.Command{
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
