// Command genman writes the man pages: section 8 pages generated from each
// command's urfave/cli definition (plus the text in man/src/<cmd>.8.md, if
// any, appended), and section 5 pages for the file formats from
// man/src/*.5.md. Run it with "make man".
package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/cpuguy83/go-md2man/v2/md2man"
	"github.com/urfave/cli/v2"

	"github.com/linuxha-ng/linuxha/lems"
	"github.com/linuxha-ng/linuxha/pkg/appctl"
	"github.com/linuxha-ng/linuxha/pkg/clbuild"
	"github.com/linuxha-ng/linuxha/pkg/clbuildapp"
	"github.com/linuxha-ng/linuxha/pkg/cldaemonctl"
	"github.com/linuxha-ng/linuxha/pkg/clform"
	"github.com/linuxha-ng/linuxha/pkg/clhalt"
	"github.com/linuxha-ng/linuxha/pkg/clremoveapp"
	"github.com/linuxha-ng/linuxha/pkg/clstartup"
	"github.com/linuxha-ng/linuxha/pkg/clstat"
	"github.com/linuxha-ng/linuxha/pkg/cluster"
	"github.com/linuxha-ng/linuxha/pkg/drbdtool"
	"github.com/linuxha-ng/linuxha/pkg/locks"
	"github.com/linuxha-ng/linuxha/pkg/netd"
)

var commands = []func(stdout, stderr io.Writer) *cli.App{
	clbuild.NewApp,
	clstat.NewApp,
	cluster.NewApp,
	locks.NewApp,
	netd.NewApp,
	clform.NewApp,
	clhalt.NewApp,
	cldaemonctl.NewApp,
	clstartup.NewApp,
	clbuildapp.NewApp,
	drbdtool.NewApp,
	clremoveapp.NewApp,
	appctl.NewStartApp,
	appctl.NewHaltApp,
	appctl.NewRunApp,
	lems.NewApp,
	lems.NewCtlApp,
}

func main() {
	if err := run("man"); err != nil {
		fmt.Fprintln(os.Stderr, "genman:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	for _, newApp := range commands {
		app := newApp(io.Discard, io.Discard)
		page, err := app.ToManWithSection(8)
		if err != nil {
			return fmt.Errorf("%s: %w", app.Name, err)
		}
		if extra, err := os.ReadFile(filepath.Join(dir, "src", app.Name+".8.md")); err == nil {
			page += string(md2man.Render(extra))
		}
		if err := os.WriteFile(filepath.Join(dir, app.Name+".8"), []byte(page), 0o644); err != nil {
			return err
		}
	}
	srcs, _ := filepath.Glob(filepath.Join(dir, "src", "*.5.md"))
	for _, src := range srcs {
		md, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		out := filepath.Join(dir, strings.TrimSuffix(filepath.Base(src), ".md"))
		if err := os.WriteFile(out, bytes.TrimLeft(md2man.Render(md), "\n"), 0o644); err != nil {
			return err
		}
	}
	return nil
}
