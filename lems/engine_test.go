package lems

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/linuxha-ng/linuxha/lems/monitors"
	"github.com/linuxha-ng/linuxha/pkg/config"
	"github.com/linuxha-ng/linuxha/pkg/layout"
	"github.com/linuxha-ng/linuxha/pkg/logx"
)

func TestParseActions(t *testing.T) {
	cases := []struct {
		cite, spec, rcdata string
		want               []Action
		bad                []string
	}{
		{"L7170 NOP", "NOP", "", []Action{{Verb: "NOP"}}, nil},
		{"L7171 STOP/HALT", "HALT", "", []Action{{Verb: "STOP"}}, nil},
		{"L7171 STOP check", "STOP httpd", "", []Action{{Verb: "STOP", Target: "httpd"}}, nil},
		{"L7172 START is RUN", "START httpd", "", []Action{{Verb: "RUN", Target: "httpd"}}, nil},
		{"L7172 RUN check int", "RUN move_ip 5", "", []Action{{Verb: "RUN", Target: "move_ip", Delay: 5 * time.Second}}, nil},
		{"L7173 ABORT is FAILOVER", "ABORT", "", []Action{{Verb: "FAILOVER"}}, nil},
		{"L7174 STOPAPP is HALTAPP", "STOPAPP", "", []Action{{Verb: "HALTAPP"}}, nil},
		{"L7175 PAUSE X", "PAUSE 30", "", []Action{{Verb: "PAUSE", Delay: 30 * time.Second}}, nil},
		{"L7175 PAUSE", "PAUSE", "", []Action{{Verb: "PAUSE"}}, nil},
		{"L7176 RUNCMD", "RUNCMD email root", "", []Action{{Verb: "RUNCMD", Argv: []string{"email", "root"}}}, nil},
		{"L7177 REMOVEMON", "REMOVEMON", "", []Action{{Verb: "REMOVEMON"}}, nil},
		{"L7184 rubbish ignored, rest runs", "RUNCMD email root; rubbish; FAILOVER", "",
			[]Action{{Verb: "RUNCMD", Argv: []string{"email", "root"}}, {Verb: "FAILOVER"}}, []string{"rubbish"}},
		{"L7191 %RCDATA% from flag_check (L3202)", "%RCDATA%", "STOP httpd;", []Action{{Verb: "STOP", Target: "httpd"}}, nil},
		{"L7191 several in RCDATA", "%RCDATA%", "START httpd; STOP fsmon;",
			[]Action{{Verb: "RUN", Target: "httpd"}, {Verb: "STOP", Target: "fsmon"}}, nil},
		{"L7184 malformed PAUSE ignored", "PAUSE soon; NOP", "", []Action{{Verb: "NOP"}}, []string{"PAUSE soon"}},
		{"RUN without a check is impossible", "RUN", "", nil, []string{"RUN"}},
		{"empty RCDATA does nothing", "%RCDATA%", "", nil, nil},
	}
	for _, c := range cases {
		got, bad := ParseActions(c.spec, c.rcdata, true)
		if !reflect.DeepEqual(got, c.want) || !reflect.DeepEqual(bad, c.bad) {
			t.Errorf("%s: ParseActions(%q, %q) = %+v bad %q; want %+v bad %q", c.cite, c.spec, c.rcdata, got, bad, c.want, c.bad)
		}
	}
	// A program check's output (issue 17: "x; FAILOVER; RUNCMD ..." added
	// steps that RUNCMD ran as root) is data: it adds neither steps nor
	// arguments, and never becomes RUNCMD.
	program := []struct {
		cite, spec, rcdata string
		want               []Action
		bad                []string
	}{
		{"one step", "%RCDATA%", "STOP httpd", []Action{{Verb: "STOP", Target: "httpd"}}, nil},
		{"cannot add steps", "%RCDATA%", "x; FAILOVER; RUNCMD /bin/rm -rf /srv", nil, []string{"x; FAILOVER; RUNCMD /bin/rm -rf /srv"}},
		{"cannot RUNCMD", "NOP; %RCDATA%", "RUNCMD /bin/rm -rf /srv", []Action{{Verb: "NOP"}}, []string{"RUNCMD /bin/rm -rf /srv"}},
		{"one argument", "RUNCMD /usr/local/bin/page root %RCDATA%", "disk full; FAILOVER",
			[]Action{{Verb: "RUNCMD", Argv: []string{"/usr/local/bin/page", "root", "disk full; FAILOVER"}}}, nil},
		{"a target with a space is no check", "RUN %RCDATA% 5; NOP", "a b", []Action{{Verb: "RUN", Target: "a b", Delay: 5 * time.Second}, {Verb: "NOP"}}, nil},
	}
	for _, c := range program {
		got, bad := ParseActions(c.spec, c.rcdata, false)
		if !reflect.DeepEqual(got, c.want) || !reflect.DeepEqual(bad, c.bad) {
			t.Errorf("program %s: ParseActions(%q, %q) = %+v bad %q; want %+v bad %q", c.cite, c.spec, c.rcdata, got, bad, c.want, c.bad)
		}
	}
}

// An action list that removes its check and then acts on it (issue 17:
// "REMOVEMON; PAUSE" dereferenced the removed check and Lems died): the
// later step is ignored with a warning, and Lems keeps running the rest.
func TestStepsAfterRemovemon(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ms := 10 * time.Millisecond
		b := newBed(t,
			check("gone", ms, map[int]string{0: "NOP", 1: "REMOVEMON; PAUSE; REMOVEMON; STOP; RUN gone"}),
			check("httpd", ms, map[int]string{0: "NOP"}))
		b.mons["gone"].set(1, "")
		eventually(t, "the check removed", func() bool { return strings.Contains(b.logged(), `Removed monitor "gone"`) })
		n := b.mons["httpd"].count()
		eventually(t, "the other check goes on", func() bool { return b.mons["httpd"].count() > n+2 })
		for _, want := range []string{"PAUSE of a removed check ignored", "STOP of unknown check gone ignored", "RUN of unknown check gone ignored"} {
			if !strings.Contains(b.logged(), want) {
				t.Errorf("log lacks %q:\n%s", want, b.logged())
			}
		}
	})
}

// L7175: PAUSE without X does not schedule the check again for 30 s.
func TestPauseDefault(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBed(t, check("httpd", 10*time.Millisecond, map[int]string{0: "NOP", 1: "PAUSE"}))
		b.mons["httpd"].set(1, "")
		eventually(t, "the check paused", func() bool { return strings.Contains(b.logged(), "Check httpd paused for 30s") })
	})
}

// fake is a monitor whose answers the test sets.
type fake struct {
	mu    sync.Mutex
	rc    int
	data  string
	runs  int
	delay time.Duration
	acc   bool
}

func (f *fake) Check(ctx context.Context) (int, string) {
	f.mu.Lock()
	d := f.delay
	f.mu.Unlock()
	if d > 0 {
		select {
		case <-time.After(d):
		case <-ctx.Done():
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.runs++
	return f.rc, f.data
}

func (f *fake) set(rc int, data string) { f.mu.Lock(); f.rc, f.data = rc, data; f.mu.Unlock() }
func (f *fake) count() int              { f.mu.Lock(); defer f.mu.Unlock(); return f.runs }

type acceptingFake struct{ *fake }

func (a acceptingFake) Accept(w []string) (string, error) { return strings.Join(w, "+"), nil }

type bed struct {
	e     *Engine
	mons  map[string]*fake
	log   *bytes.Buffer
	mu    *sync.Mutex
	calls *[]string
	stop  context.CancelFunc
	done  chan struct{}
}

func check(name string, iv time.Duration, actions map[int]string) config.Check {
	return config.Check{Name: name, Type: "internal", Module: "fake", Args: []string{name}, Interval: iv, Actions: actions}
}

func newBed(t *testing.T, checks ...config.Check) *bed {
	t.Helper()
	b := &bed{mons: map[string]*fake{}, log: &bytes.Buffer{}, mu: &sync.Mutex{}, calls: &[]string{}}
	for _, c := range checks {
		b.mons[c.Name] = &fake{}
	}
	var lw lockedWriter
	lw.mu, lw.b = b.mu, b.log
	log := logx.New(&lw)
	log.SetVerbose(true)
	dir := t.TempDir()
	b.e = New(Options{
		App: "apache", Conf: &config.Lems{Checks: checks}, Log: log, LogsDir: dir,
		ConfPath: filepath.Join(dir, "lems.local.xml"),
		Env:      monitors.Env{App: "apache", Me: "servera", L: layout.Layout{Root: dir}},
		Cluster: func(_ context.Context, req string) (string, error) {
			b.mu.Lock()
			*b.calls = append(*b.calls, req)
			b.mu.Unlock()
			return "OK", nil
		},
		Build: func(env *monitors.Env, c config.Check) (monitors.Monitor, error) {
			if c.Name == "cmd" {
				return acceptingFake{b.mons[c.Name]}, nil
			}
			return b.mons[c.Name], nil
		},
	})
	ctx, cancel := context.WithCancel(context.Background())
	b.stop, b.done = cancel, make(chan struct{})
	go func() { b.e.Run(ctx); close(b.done) }()
	t.Cleanup(func() { cancel(); <-b.done })
	return b
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (b *bed) logged() string { b.mu.Lock(); defer b.mu.Unlock(); return b.log.String() }
func (b *bed) cluster() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), *b.calls...)
}

func (b *bed) msg(s string) string { return b.e.Handle(context.Background(), s) }

func eventually(t *testing.T, what string, f func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if f() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// stat returns GET_STAT's nextrun per monitor: 0 means stopped (L7361).
func (b *bed) stopped(name string) bool {
	for _, line := range strings.Split(b.msg("GET_STAT "+name), NR) {
		if strings.HasPrefix(line, name+",") {
			return strings.Split(line, ",")[1] == "0"
		}
	}
	return false
}

func TestFlagStopsAndStartsThroughRCDATA(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// L3201-3230: flag_check returns 1 => [STOP httpd;], "%RCDATA%" runs it.
		ms := 20 * time.Millisecond
		b := newBed(t,
			check("flag_check", ms, map[int]string{0: "NOP", 1: "%RCDATA%", 2: "ABORT"}),
			check("httpd", ms, map[int]string{0: "NOP", 1: "STOP", 2: "FAILOVER"}))
		eventually(t, "httpd runs", func() bool { return b.mons["httpd"].count() > 2 })
		b.mons["flag_check"].set(1, "STOP httpd;")
		eventually(t, "httpd stopped", func() bool { return b.stopped("httpd") })
		b.mons["flag_check"].set(0, "")
		n := b.mons["httpd"].count()
		time.Sleep(10 * ms)
		if got := b.mons["httpd"].count(); got > n+1 {
			t.Fatalf("stopped httpd ran %d more times", got-n)
		}
		for _, want := range []string{"Monitor flag_check returned: 1 => [STOP httpd;]", "Check httpd has been stopped, (RC=1)"} {
			if !strings.Contains(b.logged(), want) {
				t.Errorf("log lacks %q:\n%s", want, b.logged())
			}
		}
		b.mons["flag_check"].set(1, "START httpd;")
		eventually(t, "httpd runs again", func() bool { return b.mons["httpd"].count() > n+2 })
	})
}

func TestFailoverAsksClusterOnceAndSuspends(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// L7250, L7636: FAILOVER (or ABORT) goes to the local cldaemon;
		// monitoring stops so the request is not repeated.
		ms := 10 * time.Millisecond
		b := newBed(t,
			check("httpd", ms, map[int]string{0: "NOP", 2: "FAILOVER"}),
			check("other", ms, map[int]string{0: "NOP"}))
		b.mons["httpd"].set(2, "")
		eventually(t, "fail-over request", func() bool { return len(b.cluster()) > 0 })
		time.Sleep(10 * ms)
		if got := b.cluster(); !reflect.DeepEqual(got, []string{"FAILOVER app=apache node=servera"}) {
			t.Fatalf("cluster requests = %q", got)
		}
		n := b.mons["other"].count()
		time.Sleep(10 * ms)
		if got := b.mons["other"].count(); got > n+1 {
			t.Errorf("monitoring went on after the fail-over request (%d runs)", got-n)
		}
		if !b.stopped("other") {
			t.Errorf("GET_STAT should show 0 while the cluster acts: %q", b.msg("GET_STAT"))
		}
	})
}

func TestHaltApp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBed(t, check("swap", 10*time.Millisecond, map[int]string{1: "HALTAPP"}))
		b.mons["swap"].set(1, "")
		eventually(t, "halt request", func() bool { return len(b.cluster()) > 0 })
		if got := b.cluster()[0]; got != "STOP_APP app=apache by=lems" { // by=lems: the daemon alerts (issue 19)
			t.Fatalf("request %q", got)
		}
	})
}

// GET_RESULTS (not in the Reference; cldaemon's metrics): each monitor's
// last return code and when, and its counts of checks and non-zero
// results.
func TestGetResults(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBed(t, check("httpd", 10*time.Millisecond, map[int]string{0: "NOP", 2: "NOP"}), check("idle", time.Hour, map[int]string{0: "NOP"}))
		b.mons["httpd"].set(2, "")
		eventually(t, "three checks of httpd", func() bool { return b.mons["httpd"].count() >= 3 })
		b.mons["httpd"].set(0, "")
		eventually(t, "a good result", func() bool {
			rs := ParseResults(b.msg("GET_RESULTS"))
			return len(rs) == 2 && rs[0].Name == "httpd" && rs[0].LastRC == 0 && rs[0].Checks > rs[0].NonZero
		})
		rs := ParseResults(b.msg("GET_RESULTS"))
		if h := rs[0]; h.NonZero < 3 || h.LastAt == 0 {
			t.Errorf("httpd: %+v", h)
		}
		if i := rs[1]; i.Name != "idle" || i.Checks > 1 {
			t.Errorf("idle: %+v", i)
		}
	})
}

func TestPauseResumeKeepsStoppedMonitorsStopped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// L4384: "A monitor that was Stopped before the PAUSE stays stopped."
		b := newBed(t,
			check("httpd", 10*time.Second, map[int]string{0: "NOP"}),
			check("fsmon", 10*time.Second, map[int]string{0: "NOP"}))
		if got := b.msg("PAUSE httpd"); got != "httpd PAUSED" { // L4397-4399
			t.Fatalf("PAUSE httpd = %q", got)
		}
		if got := b.msg("PAUSE"); got != "OK" {
			t.Fatalf("PAUSE = %q", got)
		}
		if !b.stopped("fsmon") || !b.stopped("httpd") {
			t.Fatalf("after PAUSE every monitor shows Stopped (L4322-4345): %q", b.msg("GET_STAT"))
		}
		if got := b.msg("RESUME"); got != "OK" { // L4353-4356
			t.Fatalf("RESUME = %q", got)
		}
		if b.stopped("fsmon") || !b.stopped("httpd") {
			t.Fatalf("RESUME must restore fsmon only: %q", b.msg("GET_STAT"))
		}
		if got := b.msg("RESUME httpd"); got != "httpd RESUMED (in 10 secs)" { // L4417-4420
			t.Fatalf("RESUME httpd = %q", got)
		}
		if b.stopped("httpd") {
			t.Fatal("httpd still stopped")
		}
	})
}

func TestServerMessages(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBed(t,
			check("flag_check", 5*time.Second, map[int]string{0: "NOP"}),
			check("cmd", 5*time.Second, map[int]string{0: "NOP"}))
		stat := b.msg("GET_STAT")
		lines := strings.Split(strings.TrimSuffix(stat, NR), NR)
		if len(lines) != 2 || !strings.HasPrefix(lines[1], "flag_check,") || !strings.HasSuffix(lines[1], ",5,fake flag_check") {
			t.Fatalf("GET_STAT = %q; want Event,nextrun,interval,command per monitor (L7361)", stat)
		}
		v := b.msg("GET_VSTAT cmd")
		if !strings.Contains(v, "<monitor-detail-start>"+NR) || !strings.HasSuffix(v, "<monitor-detail-end>"+NR) {
			t.Fatalf("GET_VSTAT = %q", v)
		}
		for _, c := range [][2]string{
			{"CMD cmd RESET now", "OK RESET+now"}, // L7365: OK text
			{"CMD flag_check X", "NOT_IMP"},       // no accept method
			{"CMD nothing X", "FAIL no monitor nothing"},
			{"VERBOSE OFF", "OK"},
			{"VERBOSE MAYBE", "FAIL VERBOSE ON or OFF"},
			{"VERBOSE ON", "OK"},
			{"LOGCYCLE 0", "FAIL LOGCYCLE needs a count from 1 to 99"},
			{"REMOVE flag_check", "flag_check REMOVED"}, // L4444-4446
			{"REMOVE flag_check", "FAIL no monitor flag_check"},
			{"INSTALL cmd", "FAIL monitor cmd is already installed"}, // L4469
			{"SOMETHING", "FAIL unknown message SOMETHING"},
		} {
			if got := b.msg(c[0]); got != c[1] {
				t.Errorf("%s => %q; want %q", c[0], got, c[1])
			}
		}
		if !strings.Contains(b.logged(), `Removed monitor "flag_check" by user request.`) { // L4453
			t.Errorf("log: %s", b.logged())
		}
		// INSTALL re-reads the file (L4465-4496).
		os.WriteFile(b.e.o.ConfPath, []byte(`<lems_config><globals port="8800"/>
	<check><name>flag_check</name><type>internal</type><module>fake</module><interval>5</interval>
	<action_list><action rc="0" action="NOP"/></action_list></check></lems_config>`), 0o644)
		if got := b.msg("INSTALL flag_check"); got != "OK" {
			t.Fatalf("INSTALL = %q\n%s", got, b.logged())
		}
		if b.stopped("flag_check") {
			t.Fatal("installed monitor not scheduled")
		}
		if got := b.msg("ABORT"); got != "OK" {
			t.Fatalf("ABORT = %q", got)
		}
		select {
		case <-b.done:
		case <-time.After(3 * time.Second):
			t.Fatal("ABORT did not end Lems")
		}
	})
}

func TestSlowCheckDoesNotDelayOthers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// Unlike the single-threaded original (L7049).
		b := newBed(t,
			check("slow", 10*time.Millisecond, map[int]string{0: "NOP"}),
			check("fast", 10*time.Millisecond, map[int]string{0: "NOP"}))
		b.mons["slow"].mu.Lock()
		b.mons["slow"].delay = time.Hour
		b.mons["slow"].mu.Unlock()
		eventually(t, "fast runs while slow hangs", func() bool { return b.mons["fast"].count() >= 5 })
	})
}

func TestRunSchedulesOnDemandCheckAndPauseDelays(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// The sample's ip -> "RUN move_ip" with move_ip interval 0 (L7094-7122);
		// move_ip's rc 0 => STOP puts it back to sleep (L7250).
		b := newBed(t,
			check("ip", 10*time.Millisecond, map[int]string{0: "NOP", 1: "RUN move_ip"}),
			check("move_ip", 0, map[int]string{0: "STOP", 1: "ABORT"}),
			check("fsmon", 10*time.Millisecond, map[int]string{0: "NOP", 1: "PAUSE 30"}))
		time.Sleep(50 * time.Millisecond)
		if n := b.mons["move_ip"].count(); n != 0 {
			t.Fatalf("interval-0 check ran %d times unasked", n)
		}
		b.mons["ip"].set(1, "")
		eventually(t, "move_ip runs", func() bool { return b.mons["move_ip"].count() > 0 })
		b.mons["ip"].set(0, "")
		b.mons["fsmon"].set(1, "")
		eventually(t, "fsmon paused", func() bool { return strings.Contains(b.logged(), "Check fsmon paused for 30s") })
		n := b.mons["fsmon"].count()
		time.Sleep(50 * time.Millisecond)
		if got := b.mons["fsmon"].count(); got != n {
			t.Fatalf("paused fsmon ran %d more times", got-n)
		}
	})
}
