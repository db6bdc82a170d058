package clitool_test

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/linuxha-ng/linuxha/lems"
	"github.com/linuxha-ng/linuxha/pkg/appctl"
	"github.com/linuxha-ng/linuxha/pkg/clbuild"
	"github.com/linuxha-ng/linuxha/pkg/clbuildapp"
	"github.com/linuxha-ng/linuxha/pkg/cldaemonctl"
	"github.com/linuxha-ng/linuxha/pkg/clform"
	"github.com/linuxha-ng/linuxha/pkg/clhalt"
	"github.com/linuxha-ng/linuxha/pkg/clitool"
	"github.com/linuxha-ng/linuxha/pkg/clremoveapp"
	"github.com/linuxha-ng/linuxha/pkg/clstartup"
	"github.com/linuxha-ng/linuxha/pkg/clstat"
	"github.com/linuxha-ng/linuxha/pkg/cltrust"
	"github.com/linuxha-ng/linuxha/pkg/cluster"
	"github.com/linuxha-ng/linuxha/pkg/drbdtool"
	"github.com/linuxha-ng/linuxha/pkg/locks"
	"github.com/linuxha-ng/linuxha/pkg/netd"
)

// Every command (the list of cmd/*/main.go) that takes -A refuses a name
// that would leave /etc/cluster, before it reads or changes anything:
// exit 2 and one line naming the flag (issue 17, SECURITY.md).
func TestEveryToolRefusesBadNames(t *testing.T) {
	t.Setenv("LINUXHA_ROOT", t.TempDir()) // nothing there: a tool that went on would fail otherwise
	apps := []func(io.Writer, io.Writer) *cli.App{
		appctl.NewHaltApp, appctl.NewRunApp, appctl.NewStartApp, clbuild.NewApp, clbuildapp.NewApp,
		cldaemonctl.NewApp, clform.NewApp, clhalt.NewApp, clremoveapp.NewApp, clstartup.NewApp,
		clstat.NewApp, cltrust.NewApp, cluster.NewApp, drbdtool.NewApp, lems.NewApp, lems.NewCtlApp,
		locks.NewApp, netd.NewApp,
	}
	tested := 0
	for _, mk := range apps {
		var out, errb bytes.Buffer
		app := mk(&out, &errb)
		if !hasAppFlag(app.Flags) {
			continue
		}
		for _, bad := range []string{"../../tmp/evil", "..", ".", ".hidden", "a/b", "x;reboot", "$(id)"} {
			out.Reset()
			errb.Reset()
			code := clitool.Run(context.Background(), mk(&out, &errb), append([]string{app.Name, "-A", bad}, required(app.Flags)...))
			if code != 2 || !strings.Contains(errb.String(), "invalid application name") {
				t.Errorf("%s -A %q: exit %d, stderr %q", app.Name, bad, code, errb.String())
			}
		}
		tested++
	}
	if tested < 8 {
		t.Fatalf("only %d commands take -A", tested)
	}
}

func hasAppFlag(fs []cli.Flag) bool {
	for _, f := range fs {
		for _, n := range f.Names() {
			if n == "application" {
				return true
			}
		}
	}
	return false
}

// required gives every other required flag a value, so that only the
// name can be what is refused.
func required(fs []cli.Flag) []string {
	var args []string
	for _, f := range fs {
		if r, ok := f.(cli.RequiredFlag); ok && r.IsRequired() && f.Names()[0] != "application" {
			args = append(args, "--"+f.Names()[0], "ECHO")
		}
	}
	return args
}
