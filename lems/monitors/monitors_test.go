package monitors

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/linuxha-ng/linuxha/pkg/layout"
	"github.com/linuxha-ng/linuxha/pkg/logx"
)

func testEnv(t *testing.T, checks ...string) *Env {
	t.Helper()
	return &Env{App: "apache", Check: "httpd", L: layout.Layout{Root: t.TempDir()}, Me: "servera", Peer: "serverb",
		Log: logx.New(os.Stderr), Checks: func() []string { return checks }}
}

func TestFlagCheck(t *testing.T) {
	// §11.6 (L3185-3230): a file named after a monitor stops it; removing
	// the file starts it again.
	env := testEnv(t, "httpd", "fsmon", "flag_check")
	m, err := NewFlagCheck(env, []string{"apache"})
	if err != nil {
		t.Fatal(err)
	}
	dir := env.L.FlagsDir("apache")
	step := func(want int, wantData string) {
		t.Helper()
		rc, data := m.Check(context.Background())
		if rc != want || data != wantData {
			t.Fatalf("Check = %d %q; want %d %q", rc, data, want, wantData)
		}
	}
	step(0, "")
	os.WriteFile(filepath.Join(dir, "httpd"), nil, 0o644)
	step(1, "STOP httpd;")
	step(0, "")
	os.WriteFile(filepath.Join(dir, "nosuch"), nil, 0o644) // warned, not acted on
	step(0, "")
	os.Remove(filepath.Join(dir, "httpd"))
	step(1, "START httpd;")
	os.WriteFile(filepath.Join(dir, "httpd"), nil, 0o644)
	os.WriteFile(filepath.Join(dir, "fsmon"), nil, 0o644)
	step(1, "STOP fsmon; STOP httpd;")
}

func TestProcmonRestartsThenAsksForFailover(t *testing.T) {
	// L7310-7344: restart up to <restarts> times within <resetwindow>, then
	// rc 2 (FAILOVER in the sample, L7085-7087); RESET and MAXCOUNT (L7346-7353).
	env := testEnv(t)
	marker := filepath.Join(t.TempDir(), "restarts")
	script := filepath.Join(t.TempDir(), "restart")
	os.WriteFile(script, []byte("#!/bin/sh\necho restarted >> "+marker+"\n"), 0o755)
	xml := `<procmon><global><logdir>/var/log/cluster</logdir><restarts>2</restarts>
<resetwindow>60</resetwindow><restartcmd>` + script + `</restartcmd></global>
<process><label>Web Server</label><user>www-data</user><process_string>^apache2 </process_string>
<min_count>1</min_count><max_count>3</max_count></process></procmon>`
	p := procmonOf(t, env, xml)
	now := time.Unix(1_000_000, 0)
	p.now = func() time.Time { return now }
	running := []Proc{{1, "root", "apache2 -k start", "/usr/sbin/apache2"}, {2, "www-data", "apache2 -k start", "/usr/sbin/apache2"}, {3, "www-data", "vi apache2 ", "/usr/bin/vi"}}
	var procs []Proc
	p.procs = func() ([]Proc, error) { return procs, nil }
	restarts := func() int {
		b, _ := os.ReadFile(marker)
		return strings.Count(string(b), "restarted")
	}
	check := func(wantRC int) {
		t.Helper()
		if rc, _ := p.Check(context.Background()); rc != wantRC {
			t.Fatalf("rc %d; want %d (stat %s)", rc, wantRC, p.Stat())
		}
	}
	procs = running
	check(0) // one www-data apache2: root's and vi's do not count
	if p.Stat() != "2,0,0" {
		t.Fatalf("stat %q", p.Stat())
	}
	procs = nil
	check(0)
	check(0)
	if restarts() != 2 || p.Stat() != "2,2,1000060" {
		t.Fatalf("restarts %d stat %q", restarts(), p.Stat())
	}
	check(2) // third failure within the window: fail over
	if restarts() != 2 {
		t.Fatal("restarted beyond the limit")
	}
	check(2) // stays failed until RESET
	if _, err := p.Accept([]string{"RESET"}); err != nil || p.Stat() != "2,0,0" {
		t.Fatalf("RESET: %v %q", err, p.Stat())
	}
	if _, err := p.Accept([]string{"MAXCOUNT", "5"}); err != nil || !strings.HasPrefix(p.Stat(), "5,") {
		t.Fatalf("MAXCOUNT: %v %q", err, p.Stat())
	}
	if _, err := p.Accept([]string{"BOGUS"}); err == nil {
		t.Fatal("BOGUS accepted")
	}
	check(0)
	now = now.Add(61 * time.Second) // the window passes: the count resets
	procs = running
	check(0)
	if p.Stat() != "5,0,0" {
		t.Fatalf("after the reset window: %q", p.Stat())
	}
	// too many processes is a failure too
	procs = append(running, Proc{4, "www-data", "apache2 x", "/usr/sbin/apache2"}, Proc{5, "www-data", "apache2 y", "/usr/sbin/apache2"}, Proc{6, "www-data", "apache2 z", "/usr/sbin/apache2"})
	check(0)
	if p.Stat() != "5,1,1000121" {
		t.Fatalf("max_count exceeded: %q", p.Stat())
	}
}

// Issue 17 item 12: with no <user> only root's processes count, so an
// unprivileged user cannot fake the count; <exe> also requires the
// executable's path, so "exec -a apache2" by the right user is not one.
func TestProcmonUserAndExe(t *testing.T) {
	env := testEnv(t)
	xml := `<procmon><global><logdir>/var/log/cluster</logdir><restarts>2</restarts>
<resetwindow>60</resetwindow><restartcmd>/bin/true</restartcmd></global>
<process><label>a</label><process_string>^apache2</process_string><min_count>1</min_count><max_count>1</max_count></process>
<process><label>b</label><user>www-data</user><exe>^/usr/sbin/apache2$</exe><process_string>^apache2</process_string><min_count>1</min_count><max_count>1</max_count></process>
</procmon>`
	p := procmonOf(t, env, xml)
	p.procs = func() ([]Proc, error) {
		return []Proc{
			{1, "root", "apache2 -k start", "/usr/sbin/apache2"},
			{2, "www-data", "apache2 -k start", "/usr/sbin/apache2"},
			{3, "mallory", "apache2 -k start", "/usr/sbin/apache2"}, // another user's copy
			{4, "www-data", "apache2 fake", "/usr/bin/sleep"},       // exec -a apache2 sleep
		}, nil
	}
	if rc, _ := p.Check(context.Background()); rc != 0 || fmt.Sprint(p.lastSeen) != "[1 1]" {
		t.Fatalf("rc %d, counted %v, want [1 1]: mallory's or the fake process was counted", rc, p.lastSeen)
	}
}

func TestSwapAndCapacity(t *testing.T) {
	// §24.8 (L7441-7505): rc 1 below the limit, stat "<free>,<limit>".
	mi := filepath.Join(t.TempDir(), "meminfo")
	os.WriteFile(mi, []byte("MemTotal: 100 kB\nSwapFree:       40000 kB\n"), 0o644)
	m, _ := NewSwap(nil, nil)
	s := m.(*Swap)
	s.meminfo = mi
	if s.Stat() != "" {
		t.Fatal("stat before the first check must be empty (L7503)")
	}
	if rc, _ := s.Check(context.Background()); rc != 1 || s.Stat() != "40000,51200" {
		t.Fatalf("rc %d stat %q", rc, s.Stat())
	}
	m, _ = NewSwap(nil, []string{"1000"})
	m.(*Swap).meminfo = mi
	if rc, _ := m.Check(context.Background()); rc != 0 {
		t.Fatal("above the limit must be 0")
	}
	// §24.4.5 (L7257-7264)
	if _, err := NewCapacity(nil, []string{"/tmp:175"}); err == nil {
		t.Fatal("175% accepted")
	}
	c, err := NewCapacity(nil, []string{"/:100,/tmp:100"})
	if err != nil {
		t.Fatal(err)
	}
	if rc, _ := c.Check(context.Background()); rc != 0 {
		t.Fatal("nothing is over 100% full")
	}
	c, _ = NewCapacity(nil, []string{"/:0.001"})
	if rc, data := c.Check(context.Background()); rc != 1 || !strings.HasPrefix(data, "/:") {
		t.Fatalf("rc %d %q", rc, data)
	}
}

func TestProgramCheck(t *testing.T) {
	env := testEnv(t)
	env.Programs = t.TempDir()
	os.WriteFile(filepath.Join(env.Programs, "mon"), []byte("#!/bin/sh\necho \"STOP $LEMS_CHECK;\"\necho second\nexit 3\n"), 0o755)
	m, err := Build(env, "program", "mon", nil)
	if err != nil {
		t.Fatal(err)
	}
	if rc, data := m.Check(context.Background()); rc != 3 || data != "STOP httpd;" {
		t.Fatalf("rc %d data %q", rc, data)
	}
	if _, err := Build(env, "program", "absent", nil); err == nil {
		t.Fatal("a missing program must not be scheduled (L7393)")
	}
	if _, err := Build(env, "internal", "nosuch", nil); err == nil {
		t.Fatal("unknown module accepted")
	}
}

// procmonOf writes xml as the apache application's httpd.xml and opens
// a procmon check on it.
func procmonOf(t *testing.T, env *Env, xml string) *Procmon {
	t.Helper()
	os.MkdirAll(env.L.Path("/etc/cluster/apache"), 0o755)
	os.WriteFile(env.L.Path("/etc/cluster/apache/httpd.xml"), []byte(xml), 0o644)
	mon, err := NewProcmon(env, []string{"/etc/cluster/apache/httpd.xml"})
	if err != nil {
		t.Fatal(err)
	}
	return mon.(*Procmon)
}

func TestFsmonTailChecks(t *testing.T) {
	// The peer's STALE flag is cleared only once the volume's end is
	// verified identical (DRBD 8.4 can lose its out-of-sync marks on
	// attach); a difference is resynchronised and looked at again; a check
	// that keeps failing is given up after tailTries, trusting DRBD's state
	// as fsmon did before the check (the flag cleared when DRBD is in step).
	type answer struct {
		found int64
		err   error
	}
	var answers []answer
	calls := 0
	f := &Fsmon{env: testEnv(t), tailOK: map[string]bool{}, tailErrs: map[string]int{},
		verifyTail: func(context.Context, string, string) (int64, error) {
			a := answers[calls]
			calls++
			return a.found, a.err
		}}
	ctx := context.Background()
	steps := func(key string, as []answer, want []bool) {
		t.Helper()
		answers, calls = as, 0
		for i, w := range want {
			if got := f.checkTail(ctx, "vg", "lv", key); got != w {
				t.Fatalf("%s: check %d = %v; want %v", key, i+1, got, w)
			}
		}
		if calls != len(as) {
			t.Fatalf("%s: %d verifies; want %d", key, calls, len(as))
		}
	}
	refused := fmt.Errorf("drbdsetup: refused")
	// A difference is resynchronised, then verified identical; once
	// identical it is not verified again until the volume leaves step.
	steps("a", []answer{{4096, nil}, {0, nil}}, []bool{false, true, true})
	// Errors: kept STALE twice, then trusted.
	steps("b", []answer{{0, refused}, {0, refused}, {0, refused}}, []bool{false, false, true, true})
	// An error then success: trusted on the verify, not on the give-up
	// (one failure counted; the count restarts when the volume next
	// leaves step).
	steps("c", []answer{{0, refused}, {0, nil}}, []bool{false, true})
	if f.tailErrs["c"] != 1 || f.tailErrs["b"] != tailTries {
		t.Fatalf("tailErrs = %v", f.tailErrs)
	}
}
