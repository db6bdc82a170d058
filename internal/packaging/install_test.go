package packaging

import (
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/linuxha-ng/linuxha/internal/testbed"
)

func repo(t *testing.T) string {
	t.Helper()
	root, err := testbed.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func mustRun(t *testing.T, dir string, argv ...string) string {
	t.Helper()
	c := exec.Command(argv[0], argv[1:]...)
	c.Dir = dir
	out, err := c.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, out)
	}
	return string(out)
}

// files lists the regular files under dir with their modes.
func files(t *testing.T, dir string) map[string]fs.FileMode {
	t.Helper()
	got := map[string]fs.FileMode{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		if d.Type().IsRegular() {
			info, _ := d.Info()
			rel, _ := filepath.Rel(dir, p)
			got[rel] = info.Mode().Perm()
		}
		return nil
	})
	return got
}

// What make install puts where (README's Install section), computed from
// the repository: every command, every man page, README and LICENSE, the
// examples with their directories and executable bits, the unit with
// the install's sbin directory, and the logrotate configuration.
func wantTree(t *testing.T, root, prefix string) map[string]fs.FileMode {
	t.Helper()
	want := map[string]fs.FileMode{}
	cmds, _ := os.ReadDir(filepath.Join(root, "cmd"))
	for _, c := range cmds {
		want[prefix+"/sbin/"+c.Name()] = 0o755
	}
	for _, sec := range []string{"5", "8"} {
		pages, _ := filepath.Glob(filepath.Join(root, "man", "*."+sec))
		for _, p := range pages {
			want[prefix+"/share/man/man"+sec+"/"+filepath.Base(p)] = 0o644
		}
	}
	doc := prefix + "/share/doc/linuxha/"
	want[doc+"README.md"], want[doc+"LICENSE"] = 0o644, 0o644
	for rel, mode := range files(t, filepath.Join(root, "examples")) {
		m := fs.FileMode(0o644)
		if mode&0o100 != 0 {
			m = 0o755
		}
		want[doc+"examples/"+rel] = m
	}
	for _, u := range []string{"linuxha-cldaemon.service", "linuxha-clstartup.service", "linuxha-clmember.service"} {
		want[prefix+"/lib/systemd/system/"+u] = 0o644
	}
	want["etc/logrotate.d/linuxha"] = 0o644 // /etc whatever the prefix, as logrotate reads it
	return want
}

// make install and make uninstall with DESTDIR and PREFIX (issue 16).
func TestInstallUninstall(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make")
	}
	root := repo(t)
	tmp := t.TempDir()
	bin, dest := filepath.Join(tmp, "bin"), filepath.Join(tmp, "dest")
	// Without Go (root's PATH may have none) and nothing built, install
	// refuses instead of installing nothing.
	c := exec.Command("make", "-s", "install", "BIN="+bin, "DESTDIR="+dest, "GO=/nonexistent/go")
	c.Dir = root
	if out, err := c.CombinedOutput(); err == nil || !strings.Contains(string(out), "run 'make build' first") {
		t.Fatalf("make install with nothing built: %v\n%s", err, out)
	}
	// With Go it builds what is missing (the first round), then installs.
	for _, prefix := range []string{"/usr", "/usr/local"} {
		mustRun(t, root, "make", "-s", "install", "BIN="+bin, "DESTDIR="+dest, "PREFIX="+prefix)
		got, want := files(t, dest), wantTree(t, root, strings.TrimPrefix(prefix, "/"))
		for f, m := range want {
			if g, ok := got[f]; !ok || g != m {
				t.Errorf("PREFIX=%s: %s: mode %v, want %v (installed: %v)", prefix, f, g, m, ok)
			}
		}
		for f := range got {
			if _, ok := want[f]; !ok {
				t.Errorf("PREFIX=%s: %s installed but not expected", prefix, f)
			}
		}
		for _, f := range []string{"lib/systemd/system", "share/doc/linuxha/examples/systemd"} {
			for u, line := range map[string]string{"linuxha-clstartup.service": "ExecStart=" + prefix + "/sbin/clstartup\n",
				"linuxha-cldaemon.service": "ExecStop=" + prefix + "/sbin/clhalt --local --action move\n"} {
				unit, err := os.ReadFile(filepath.Join(dest, prefix, f, u))
				if err != nil || !strings.Contains(string(unit), line) {
					t.Errorf("%s: %s: %v\n%s", f, u, err, unit)
				}
			}
		}
		out := mustRun(t, root, filepath.Join(dest, prefix, "sbin/clstat"), "--version")
		if v := strings.TrimSpace(mustRun(t, root, "scripts/version")); out != "clstat (linuxha) "+v+"\n" {
			t.Errorf("installed clstat --version: %q, want version %s", out, v)
		}
		mustRun(t, root, "make", "-s", "uninstall", "DESTDIR="+dest, "PREFIX="+prefix)
		if left := files(t, dest); len(left) > 0 {
			t.Errorf("PREFIX=%s: uninstall left %v", prefix, slices.Sorted(maps.Keys(left)))
		}
	}
}
