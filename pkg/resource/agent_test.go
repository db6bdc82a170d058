package resource

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/linuxha-ng/linuxha/pkg/config"
)

// fakeAgent writes an OCF agent that keeps its state in a file and
// records its environment, the way ocf:heartbeat:Dummy does.
const fakeAgent = `#!/bin/sh
state="$OCF_RESKEY_state"
env | grep -E '^OCF_' | sort > "$state.env"
case "$1" in
start)    touch "$state"; exit 0 ;;
stop)     rm -f "$state"; exit 0 ;;
monitor)  [ -f "$state.fail" ] && exit "$(cat "$state.fail")"; [ -f "$state" ] && exit 0; exit 7 ;;
validate-all) [ -n "$OCF_RESKEY_state" ] || { echo "state is not set" >&2; exit 6; }; exit 0 ;;
meta-data) cat <<'X'
<?xml version="1.0"?>
<resource-agent name="Fake" version="1.0">
<parameters>
<parameter name="state" required="1" unique="1"><content type="string"/></parameter>
<parameter name="fake"><content type="string" default="dummy"/></parameter>
</parameters>
</resource-agent>
X
	exit 0 ;;
sleep) sleep 30 ;;
*) exit 3 ;;
esac
`

func ocfEnv(t *testing.T) (Env, string) {
	root := t.TempDir()
	dir := filepath.Join(root, "resource.d", "test")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "Fake"), []byte(fakeAgent), 0o755); err != nil {
		t.Fatal(err)
	}
	return Env{App: "x", OCFRoot: root, Log: t.Logf}, root
}

// TestOCFAgent runs an agent through start, monitor and stop, with the
// variables of the OCF standard and the parameters as OCF_RESKEY_*.
func TestOCFAgent(t *testing.T) {
	env, root := ocfEnv(t)
	state := filepath.Join(t.TempDir(), "fake.state")
	r := &config.Resource{Kind: config.KindOCF, Name: "f1", Provider: "test", Agent: "Fake", Timeout: 5 * time.Second,
		Interval: 10 * time.Second, Params: []config.Param{{Name: "state", Value: state}}}
	a := New(r, env)
	ctx := context.Background()
	if c := a.Monitor(ctx); c != NotRunning {
		t.Fatalf("monitor before start: %v", c)
	}
	if c := a.Start(ctx); c != Success {
		t.Fatalf("start: %v", c)
	}
	if c := a.Monitor(ctx); c != Success {
		t.Fatalf("monitor: %v", c)
	}
	envText, _ := os.ReadFile(state + ".env")
	for _, want := range []string{"OCF_ROOT=" + root, "OCF_RESOURCE_INSTANCE=f1", "OCF_RESOURCE_TYPE=Fake",
		"OCF_RESOURCE_PROVIDER=test", "OCF_RESKEY_state=" + state, "OCF_RESKEY_CRM_meta_interval=10000", "OCF_RESKEY_CRM_meta_timeout=5000", "OCF_RA_VERSION_MAJOR=1"} {
		if !strings.Contains(string(envText), want+"\n") {
			t.Errorf("agent environment lacks %s:\n%s", want, envText)
		}
	}
	os.WriteFile(state+".fail", []byte("5"), 0o644)
	if c := a.Monitor(ctx); c != ErrInstalled || Classify(c) != Hard {
		t.Fatalf("monitor with a failure: %v", c)
	}
	os.Remove(state + ".fail")
	if c := a.Stop(ctx); c != Success {
		t.Fatalf("stop: %v", c)
	}
	if c := a.Stop(ctx); c != Success {
		t.Fatalf("second stop: %v", c)
	}
	if warns, err := a.Check(ctx); err != nil || len(warns) != 0 {
		t.Fatalf("check: %v %v", warns, err)
	}
	// validate-all failing is a warning (the agent's files may be on
	// volumes not mounted yet).
	r.Params = []config.Param{{Name: "state", Value: ""}}
	if warns, err := New(r, env).Check(ctx); err != nil || len(warns) != 1 || !strings.Contains(warns[0], "validate-all answered OCF_ERR_CONFIGURED") {
		t.Fatalf("check with validate-all failing: %v %v", warns, err)
	}
}

// TestOCFCheck: a missing required parameter (from the meta-data), an
// unknown agent and a failing validate-all are refused.
func TestOCFCheck(t *testing.T) {
	env, _ := ocfEnv(t)
	ctx := context.Background()
	r := &config.Resource{Kind: config.KindOCF, Name: "f1", Provider: "test", Agent: "Fake", Timeout: 5 * time.Second}
	if _, err := New(r, env).Check(ctx); err == nil || !strings.Contains(err.Error(), "parameter state is required by ocf:test:Fake") {
		t.Fatalf("missing parameter: %v", err)
	}
	r.Params = []config.Param{{Name: "state", Value: "/tmp/x"}, {Name: "colour", Value: "red"}}
	if warns, err := New(r, env).Check(ctx); err != nil || len(warns) != 1 || !strings.Contains(warns[0], "colour") {
		t.Fatalf("unknown parameter: %v %v", warns, err)
	}
	r.Agent = "Nothing"
	if _, err := New(r, env).Check(ctx); err == nil || !strings.Contains(err.Error(), "no agent ocf:test:Nothing") {
		t.Fatalf("unknown agent: %v", err)
	}
}

// TestRunTimeout: an operation past its limit is killed with its process
// group and answers TimedOut.
func TestRunTimeout(t *testing.T) {
	env, _ := ocfEnv(t)
	r := &config.Resource{Kind: config.KindOCF, Name: "f1", Provider: "test", Agent: "Fake", Timeout: 300 * time.Millisecond,
		Params: []config.Param{{Name: "state", Value: filepath.Join(t.TempDir(), "s")}}}
	o := New(r, env).(*ocf)
	if c, _ := o.op(context.Background(), "sleep"); c != TimedOut {
		t.Fatalf("got %v", c)
	}
}

// TestCrontab installs the template, notices it gone or changed, and
// removes it.
func TestCrontab(t *testing.T) {
	dir := t.TempDir()
	tmpl := filepath.Join(dir, "jobs")
	target := filepath.Join(dir, "cron.d")
	os.Mkdir(target, 0o755)
	os.WriteFile(tmpl, []byte("* * * * * root date >> /tmp/x\n"), 0o644)
	a := New(&config.Resource{Kind: config.KindCrontab, Name: "jobs", Template: tmpl, Target: target, Timeout: time.Second}, Env{Log: t.Logf})
	ctx := context.Background()
	if c := a.Monitor(ctx); c != NotRunning {
		t.Fatalf("before start: %v", c)
	}
	if c := a.Start(ctx); c != Success {
		t.Fatalf("start: %v", c)
	}
	st, err := os.Stat(filepath.Join(target, "jobs"))
	if err != nil || st.Mode().Perm() != 0o644 {
		t.Fatalf("installed: %v %v", st, err)
	}
	if c := a.Monitor(ctx); c != Success {
		t.Fatalf("monitor: %v", c)
	}
	os.WriteFile(filepath.Join(target, "jobs"), []byte("# edited\n"), 0o644)
	if c := a.Monitor(ctx); c != NotRunning {
		t.Fatalf("changed: %v", c)
	}
	if c := a.Stop(ctx); c != Success {
		t.Fatalf("stop: %v", c)
	}
	if _, err := os.Stat(filepath.Join(target, "jobs")); !os.IsNotExist(err) {
		t.Fatalf("still installed: %v", err)
	}
}

func TestParseMetaData(t *testing.T) {
	ps, err := ParseMetaData([]byte(`<resource-agent name="x"><parameters>
<parameter name="a" required="1"><content type="string"/></parameter>
<parameter name="b"><content type="integer" default="5"/></parameter></parameters></resource-agent>`))
	if err != nil || len(ps) != 2 || !ps[0].Required || ps[1].Required || ps[1].Default != "5" {
		t.Fatalf("%+v %v", ps, err)
	}
	if _, err := ParseMetaData([]byte(`<x/>`)); err == nil {
		t.Fatal("no resource-agent accepted")
	}
}

// TestDebianDummy runs Debian's ocf:heartbeat:Dummy (resource-agents,
// which scripts/packages installs for make test) unchanged.
func TestDebianDummy(t *testing.T) {
	if _, err := os.Stat("/usr/lib/ocf/resource.d/heartbeat/Dummy"); err != nil {
		t.Skip("resource-agents is not installed (make test installs it)")
	}
	state := filepath.Join(t.TempDir(), "d.state")
	r := &config.Resource{Kind: config.KindOCF, Name: "d1", Provider: "heartbeat", Agent: "Dummy", Timeout: 10 * time.Second,
		Interval: 10 * time.Second, Params: []config.Param{{Name: "state", Value: state}}}
	a := New(r, Env{Log: t.Logf})
	ctx := context.Background()
	if warns, err := a.Check(ctx); err != nil || len(warns) != 0 {
		t.Fatalf("check: %v %v", warns, err)
	}
	for _, step := range []struct {
		op   func(context.Context) Code
		want Code
	}{{a.Monitor, NotRunning}, {a.Start, Success}, {a.Monitor, Success}, {a.Stop, Success}, {a.Monitor, NotRunning}, {a.Stop, Success}} {
		if c := step.op(ctx); c != step.want {
			t.Fatalf("got %v want %v", c, step.want)
		}
	}
}
