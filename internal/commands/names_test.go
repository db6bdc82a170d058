package commands_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/linuxha-ng/linuxha/internal/commands"
	"github.com/linuxha-ng/linuxha/pkg/clitool"
)

// Every command that takes -A refuses a name
// that would leave /etc/cluster, before it reads or changes anything:
// exit 2 and one line naming the flag (issue 17, SECURITY.md).
func TestEveryToolRefusesBadNames(t *testing.T) {
	t.Setenv("LINUXHA_ROOT", t.TempDir()) // nothing there: a tool that went on would fail otherwise
	tested := 0
	for _, mk := range commands.All {
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
