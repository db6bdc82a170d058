// Package drbdtool is drbd_tool: manual control of an application's
// replicated volumes outside the cluster (Reference L2228-2270,
// §18.3.2-18.3.3), and the building block the build and start tools use.
package drbdtool

import (
	"io"

	"github.com/urfave/cli/v2"

	"github.com/linuxha-ng/linuxha/pkg/clitool"
	"github.com/linuxha-ng/linuxha/pkg/layout"
	"github.com/linuxha-ng/linuxha/pkg/logx"
	"github.com/linuxha-ng/linuxha/pkg/volctl"
)

// NewApp builds the drbd_tool command.
func NewApp(stdout, stderr io.Writer) *cli.App {
	return &cli.App{
		Name:  "drbd_tool",
		Usage: "start, mount, unmount and stop an application's DRBD volumes by hand",
		UsageText: "drbd_tool --application A --action ACTION [--noprimary] [--force|--reallyforce] [--vg V --lv L] [--json]\n" +
			"ACTION: start, mount, unmount, down, set_primary, resize, invalidate_remote, verify, verify_tail, create_md, status",
		Description: "For changes outside the cluster (Reference §8.6.1): start (activate the logical volumes\n" +
			"if their volume group is inactive, configure and connect the\n" +
			"volumes, and make them primary unless --noprimary; --force makes them primary even\n" +
			"when the peer's copy is not known to be older, but never a copy DRBD holds Inconsistent\n" +
			"(an unfinished resynchronisation) unless --reallyforce), mount (fsck, then mount on the DRBD\n" +
			"devices with the fsmap options), unmount, down, set_primary [--force], resize (after\n" +
			"the logical volumes grew), invalidate_remote (full resync to the other node),\n" +
			"verify (DRBD's online verify of both copies, connected and in step, then a resync of\n" +
			"whatever differed), verify_tail (the same for the last 256 KiB of each volume only, which\n" +
			"DRBD 8.4's module can forget to resync after a node attaches again; fsmon does it after\n" +
			"each resync), create_md (fresh meta-data; used by clbuildapp --sync) and status.",
		Writer:          stdout,
		ErrWriter:       stderr,
		HideHelpCommand: true,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "application", Aliases: []string{"A"}, Usage: "the application (required)"},
			&cli.StringFlag{Name: "action", Usage: "what to do (required)"},
			&cli.BoolFlag{Name: "noprimary", Usage: "with start: leave the volumes secondary"},
			&cli.BoolFlag{Name: "force", Usage: "with start or set_primary: force primary, unless this node's copy is Inconsistent"},
			&cli.BoolFlag{Name: "reallyforce", Usage: "with start or set_primary: force primary even on an Inconsistent copy (first sync)"},
			&cli.StringFlag{Name: "vg", Usage: "only this volume group"},
			&cli.StringFlag{Name: "lv", Usage: "only this logical volume"},
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"V"}},
			&cli.BoolFlag{Name: "nochecksums"},
			&cli.BoolFlag{Name: "json", Usage: "with status: print the volumes' state as JSON"},
		},
		Action: func(c *cli.Context) error {
			if c.String("application") == "" || c.String("action") == "" {
				return clitool.Usagef("--application and --action are required")
			}
			if c.Bool("json") && c.String("action") != "status" {
				return clitool.Usagef("--json goes with --action status only")
			}
			l := layout.FromEnv()
			cfg, err := clitool.LoadBuiltCluster(l, c.Bool("nochecksums"))
			if err != nil {
				return err
			}
			log := logx.New(stdout)
			log.SetVerbose(c.Bool("verbose"))
			return volctl.Request{L: l, Cfg: cfg, App: c.String("application"), Action: c.String("action"),
				VG: c.String("vg"), LV: c.String("lv"), NoPrimary: c.Bool("noprimary"), Force: c.Bool("force"), ReallyForce: c.Bool("reallyforce"),
				JSON: c.Bool("json"), Log: log, Out: stdout}.Do(c.Context)
		},
		Commands: []*cli.Command{{
			Name: "syncd", Hidden: true, Usage: "the filesync replication process of an application",
			Flags: []cli.Flag{&cli.StringFlag{Name: "application", Required: true}},
			Action: func(c *cli.Context) error {
				return runSyncer(c.Context, layout.FromEnv(), c.String("application"))
			},
		}},
	}
}
