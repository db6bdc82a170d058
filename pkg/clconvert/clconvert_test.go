package clconvert

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/linuxha-ng/linuxha/pkg/clitool"
	"github.com/linuxha-ng/linuxha/pkg/config"
)

func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := clitool.Run(context.Background(), NewApp(&out, &errb), append([]string{"clconvert"}, args...))
	return code, out.String(), errb.String()
}

// TestConvertExample writes the seeds' example as linuxha files that its
// parsers accept, refuses to overwrite them, and refuses the seed's
// literal text with one line per bad cm.cfg line and nothing written.
func TestConvertExample(t *testing.T) {
	dir := t.TempDir()
	code, out, errs := run(t, "--drcm", "../../examples/drcm/cm.cfg", "--out", dir, "--name", "cluster1")
	if code != 0 {
		t.Fatalf("exit %d: %s%s", code, out, errs)
	}
	for _, want := range []string{"Wrote " + dir + "/clconf.xml", "Wrote " + dir + "/cmnode1_group/appconf.xml",
		"Wrote " + dir + "/cmnode2_group/lems.local.xml", "Note: ../../examples/drcm/cm.cfg:46: CM_SERVICES web runs on every node"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	st, err := os.Stat(filepath.Join(dir, "clconf.xml"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("clconf.xml: %v %v", st, err)
	}
	c, _, err := config.LoadCluster(filepath.Join(dir, "clconf.xml"))
	if err != nil || c.Name != "cluster1" || config.CheckKey(c.Key) != nil {
		t.Fatalf("clconf.xml: %+v %v", c, err)
	}
	if _, _, err := config.LoadApp(filepath.Join(dir, "cmnode1_group", "appconf.xml")); err != nil {
		t.Fatal(err)
	}
	// examples/drcm/converted is this output, with the key a placeholder
	// and cm.cfg named where it lives.
	for _, f := range []string{"clconf.xml", "cmnode1_group/appconf.xml", "cmnode1_group/lems.local.xml", "cmnode2_group/appconf.xml", "cmnode2_group/lems.local.xml"} {
		got, _ := os.ReadFile(filepath.Join(dir, f))
		want, _ := os.ReadFile(filepath.Join("../../examples/drcm/converted", f))
		norm := strings.NewReplacer("../../examples/drcm/cm.cfg", "/etc/drcm/cm.cfg", "<key>"+c.Key+"</key>", "<key>REPLACE-with-clbuild-genkey</key>").Replace(string(got))
		if norm != string(want) {
			t.Errorf("examples/drcm/converted/%s is not what clconvert writes:\n%s", f, norm)
		}
	}
	if code, _, errs := run(t, "--drcm", "../../examples/drcm/cm.cfg", "--out", dir); code == 0 || !strings.Contains(errs, "exists; use --force") {
		t.Fatalf("second run: %d %s", code, errs)
	}
	empty := t.TempDir()
	code, _, errs = run(t, "--drcm", "../drcm/testdata/seed.cfg", "--out", empty)
	lines := strings.Split(strings.TrimSpace(errs), "\n")
	if code != clitool.ExitConfig || len(lines) != 2 || !strings.Contains(lines[0], "seed.cfg:22: CM_NODE cmnode1/node_filesystems: no CM_FILESYSTEMS entry named arhive") {
		t.Fatalf("seed as written: exit %d\n%s", code, errs)
	}
	if ents, _ := os.ReadDir(empty); len(ents) != 0 {
		t.Fatalf("a refused conversion wrote %v", ents)
	}
}
