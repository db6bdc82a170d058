package clresource

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/linuxha-ng/linuxha/pkg/clitool"
	"github.com/linuxha-ng/linuxha/pkg/layout"
)

// TestOperations runs a crontab member through start, monitor, recover
// and stop; the exit code is the OCF code.
func TestOperations(t *testing.T) {
	root := t.TempDir()
	t.Setenv(layout.EnvRoot, root)
	target := t.TempDir()
	tmpl := filepath.Join(root, "jobs")
	os.WriteFile(tmpl, []byte("* * * * * root true\n"), 0o644)
	l := layout.Layout{Root: root}
	os.MkdirAll(filepath.Dir(l.AppConf("web")), 0o755)
	os.WriteFile(l.AppConf("web"), []byte(`<appconf><global><version>0.2</version><name>web</name></global>
<application><startscript>/bin/true</startscript><stopscript>/bin/true</stopscript></application>
<resources><crontab name="jobs" template="`+tmpl+`" target="`+target+`" restarts="1"/></resources></appconf>`), 0o644)
	run := func(op string) (int, string) {
		var out, errb bytes.Buffer
		code := clitool.Run(context.Background(), NewApp(&out, &errb), []string{"clresource", "-A", "web", "-R", "jobs", op})
		return code, out.String() + errb.String()
	}
	for _, step := range []struct {
		op   string
		code int
		want string
	}{
		{"monitor", 7, "jobs monitor: OCF_NOT_RUNNING"},
		{"start", 0, "jobs start: OCF_SUCCESS"},
		{"monitor", 0, "jobs monitor: OCF_SUCCESS"},
		{"stop", 0, "jobs stop: OCF_SUCCESS"},
		{"recover", 0, "restart 1 of 1"},
		{"monitor", 0, "OCF_SUCCESS"},
		{"check", 0, ""},
		{"fly", clitool.ExitUsage, "unknown operation"},
	} {
		code, out := run(step.op)
		if code != step.code || !strings.Contains(out, step.want) {
			t.Fatalf("%s: exit %d\n%s", step.op, code, out)
		}
	}
}
