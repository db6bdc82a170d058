package monitors

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/linuxha-ng/linuxha/pkg/config"
)

// TestResourceMonitor: a resource found not running is restarted here
// (stop, start) until its restarts within the window are used up; then
// the check answers 2, which its action list maps to FAILOVER.
func TestResourceMonitor(t *testing.T) {
	env := testEnv(t)
	dir, target := t.TempDir(), t.TempDir()
	tmpl := filepath.Join(dir, "jobs")
	os.WriteFile(tmpl, []byte("* * * * * root true\n"), 0o644)
	env.AppConf = &config.App{Resources: []config.Resource{{Kind: config.KindCrontab, Name: "jobs", Template: tmpl, Target: target,
		Timeout: time.Second, Interval: time.Minute, Restarts: 1, Window: time.Hour}}}
	m, err := NewResource(env, []string{"jobs"})
	if err != nil {
		t.Fatal(err)
	}
	installed := filepath.Join(target, "jobs")
	if rc, _ := m.Check(context.Background()); rc != ResourceOK {
		t.Fatalf("first check (restart) rc %d", rc)
	}
	if _, err := os.Stat(installed); err != nil {
		t.Fatalf("not reinstalled: %v", err)
	}
	if got := m.(Stater).Stat(); got[:4] != "1,1," {
		t.Fatalf("stat %s", got)
	}
	os.Remove(installed)
	if rc, why := m.Check(context.Background()); rc != ResourceFailover || ResourceActions[rc] != "FAILOVER" {
		t.Fatalf("restarts used up: rc %d %s", rc, why)
	}
	if _, err := NewResource(env, []string{"nothing"}); err == nil {
		t.Fatal("unknown resource accepted")
	}
}

// TestWithResources adds one check per monitored resource unless
// lems.local.xml checks it already.
func TestWithResources(t *testing.T) {
	app := &config.App{Resources: []config.Resource{
		{Kind: config.KindService, Name: "web", Interval: 5 * time.Second},
		{Kind: config.KindUser, Name: "batch"}, // no ensure script: not watched
		{Kind: config.KindOCF, Name: "www", Interval: 10 * time.Second},
		{Kind: config.KindCrontab, Name: "jobs", Interval: time.Minute},
	}}
	own := []config.Check{{Name: "mine", Module: "resource", Args: []string{"www"}}, {Name: "jobs", Module: "procmon"}}
	got := WithResources(own, app)
	if len(got) != 3 || got[2].Name != "web" || got[2].Module != "resource" || got[2].Interval != 5*time.Second || got[2].Actions[2] != "FAILOVER" {
		t.Fatalf("%+v", got)
	}
}
