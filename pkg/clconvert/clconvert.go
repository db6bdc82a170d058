// Package clconvert is the clconvert command: DataReel Cluster Manager's
// cm.cfg in, clconf.xml and one application directory per resource group
// out (pkg/drcm does the mapping).
package clconvert

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/linuxha-ng/linuxha/pkg/atomicfile"
	"github.com/linuxha-ng/linuxha/pkg/clitool"
	"github.com/linuxha-ng/linuxha/pkg/config"
	"github.com/linuxha-ng/linuxha/pkg/drcm"
)

// NewApp builds the clconvert command.
func NewApp(stdout, stderr io.Writer) *cli.App {
	return &cli.App{
		Name:      "clconvert",
		Usage:     "convert a DataReel Cluster Manager configuration into linuxha's",
		UsageText: "clconvert --drcm /etc/drcm/cm.cfg [--out DIR] [--name CLUSTER] [--datadetail filesync|drbd] [--force]",
		Description: "Reads DRCM's cm.cfg (CM_SERVER, two CM_NODE sections, CM_CRONTABS, CM_IPADDRS,\n" +
			"CM_SERVICES, CM_APPLICATIONS and CM_FILESYSTEMS) and writes DIR/clconf.xml and, for each\n" +
			"node, an application DIR/<nodename>_group holding the resources the node runs as\n" +
			"primary (appconf.xml with a <resources> section, and a lems.local.xml that watches\n" +
			"them). A resource that every node runs is not a fail-over resource: it is noted and\n" +
			"left to each node's own system. What has no counterpart (a custom resource script,\n" +
			"an unknown nickname, a third node) is refused, one line per cm.cfg line, and nothing\n" +
			"is written. Existing files are kept unless --force. The cluster key is a new random\n" +
			"one; run clbuild, then clbuildapp for each application.",
		Writer:          stdout,
		ErrWriter:       stderr,
		HideHelpCommand: true,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "drcm", Required: true, Usage: "DRCM's configuration `FILE` (/etc/drcm/cm.cfg)"},
			&cli.StringFlag{Name: "out", Value: "/etc/cluster", Usage: "write into `DIR`"},
			&cli.StringFlag{Name: "name", Value: "drcm", Usage: "the cluster's `NAME`"},
			&cli.StringFlag{Name: "datadetail", Value: "filesync", Usage: "replication driver of the new cluster: filesync or drbd"},
			&cli.IntFlag{Name: "lems-port", Value: 8800, Usage: "Lems port of the first application; the next takes the next `PORT`"},
			&cli.BoolFlag{Name: "force", Usage: "replace files that exist"},
		},
		Action: func(c *cli.Context) error {
			data, err := os.ReadFile(c.String("drcm"))
			if err != nil {
				return err
			}
			cfg, err := drcm.Parse(c.String("drcm"), data)
			if err != nil {
				return clitool.ConfigError(err)
			}
			key, err := config.GenKey()
			if err != nil {
				return err
			}
			res, err := drcm.Convert(cfg, drcm.Options{Cluster: c.String("name"), Key: key,
				DataDetail: c.String("datadetail"), LemsPort: c.Int("lems-port")})
			if err != nil {
				return clitool.ConfigError(err)
			}
			return write(stdout, c.String("out"), res, c.Bool("force"))
		},
	}
}

type file struct {
	path string
	data []byte
	mode os.FileMode
}

// write puts the files in place, each atomically, after checking that
// none would replace an existing one (unless force): a refused
// conversion writes nothing.
func write(stdout io.Writer, dir string, res *drcm.Result, force bool) error {
	// clconf.xml holds the cluster key: root's alone (clconf.xml(5)).
	files := []file{{filepath.Join(dir, "clconf.xml"), res.Clconf, 0o600}}
	for _, g := range res.Groups {
		files = append(files, file{filepath.Join(dir, g.Name, "appconf.xml"), g.Appconf, 0o644},
			file{filepath.Join(dir, g.Name, "lems.local.xml"), g.Lems, 0o644})
	}
	if !force {
		for _, f := range files {
			if _, err := os.Stat(f.path); err == nil {
				return clitool.ConfigError(fmt.Errorf("%s exists; use --force to replace it", f.path))
			}
		}
	}
	for _, f := range files {
		if err := os.MkdirAll(filepath.Dir(f.path), 0o755); err != nil {
			return err
		}
		if err := atomicfile.WriteFile(f.path, f.data, f.mode); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Wrote %s\n", f.path)
	}
	for _, g := range res.Groups {
		fmt.Fprintf(stdout, "Application %s: the resources of %s (preferred node)\n", g.Name, g.Node)
	}
	for _, n := range res.Notes {
		fmt.Fprintf(stdout, "Note: %s\n", n)
	}
	return nil
}
