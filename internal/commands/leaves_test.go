package commands

import (
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// commandPackages are the packages that hold a command of All: the
// package of each constructor.
func commandPackages(t *testing.T) map[string]bool {
	out := map[string]bool{}
	for _, mk := range All {
		fn := runtime.FuncForPC(reflect.ValueOf(mk).Pointer()).Name() // path/pkg.NewApp
		dot := strings.LastIndex(fn, ".")
		if dot < 0 {
			t.Fatalf("constructor %q has no package", fn)
		}
		out[fn[:dot]] = true
	}
	return out
}

// TestCommandsAreLeaves fails when a library - any package but a main
// of cmd/ and this list - depends, directly or through another, on a
// command's package: what a command and something else share belongs in
// a library (issue 18: commands are leaves).
func TestCommandsAreLeaves(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	cmds := commandPackages(t)
	// clitool is what the commands share (their main, exit codes,
	// running as a daemon, loading the built configuration for a user):
	// command-side too, so no library reaches it either.
	var clitool string
	for c := range cmds {
		clitool = c[:strings.LastIndex(c, "/")] + "/clitool"
		break
	}
	out, err := exec.Command(goBin, "list", "-f", "{{.ImportPath}} {{.Name}} {{join .Deps \" \"}}", "../../...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || f[1] == "main" || strings.HasSuffix(f[0], "/internal/commands") {
			continue
		}
		checked++
		for _, d := range f[2:] {
			if cmds[d] {
				t.Errorf("%s depends on the command package %s", f[0], d)
			}
			if d == clitool && !cmds[f[0]] {
				t.Errorf("the library %s depends on %s, which only commands use", f[0], clitool)
			}
		}
	}
	if checked < 20 || len(cmds) < 15 {
		t.Fatalf("checked %d packages against %d command packages: the listing is wrong", checked, len(cmds))
	}
}
