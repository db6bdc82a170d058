package clstat

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/linuxha-ng/linuxha/pkg/clitool"
	"github.com/linuxha-ng/linuxha/pkg/daemonapi"
	"github.com/linuxha-ng/linuxha/pkg/layout"
	"github.com/linuxha-ng/linuxha/pkg/state"
	"github.com/linuxha-ng/linuxha/pkg/wire"
)

// node builds a node root holding the example clconf.xml with its daemon
// port replaced, built (checksum written).
func node(t *testing.T, port string) layout.Layout {
	t.Helper()
	l := layout.Layout{Root: t.TempDir()}
	b, err := os.ReadFile("../../examples/clconf.xml")
	if err != nil {
		t.Fatal(err)
	}
	conf := strings.Replace(string(b), "<port>9900</port>", "<port>"+port+"</port>", 1)
	os.MkdirAll(filepath.Dir(l.Clconf()), 0o755)
	if err := os.WriteFile(l.Clconf(), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := state.WriteChecksum(l.BuildChecksum(), l.Clconf()); err != nil {
		t.Fatal(err)
	}
	t.Setenv(layout.EnvRoot, l.Root)
	return l
}

func run(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := clitool.Run(context.Background(), NewApp(&out, &errb), append([]string{"clstat"}, args...))
	return code, out.String(), errb.String()
}

// L1824: with no daemon answering, the cluster is reported not running.
func TestNotRunning(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close()
	node(t, port)
	code, out, errs := run()
	if code != clitool.ExitNotRunning || out != "" || !strings.HasSuffix(strings.TrimSpace(errs), "Cluster cluster1 is not running.") || !strings.HasPrefix(errs, "ERROR ") {
		t.Fatalf("%d %q %q", code, out, errs)
	}
	code, out, _ = run("--json")
	if code != clitool.ExitNotRunning || !strings.Contains(out, `"state": "DOWN"`) {
		t.Fatalf("%d %s", code, out)
	}
}

// The documented exit codes (clstat(8) EXIT STATUS): a usage error, a
// configuration error, and --version.
func TestExitCodes(t *testing.T) {
	t.Setenv(layout.EnvRoot, t.TempDir())
	if code, _, errs := run("--bogus"); code != clitool.ExitUsage || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "-bogus") {
		t.Fatalf("unknown option: %d %q", code, errs)
	}
	if code, _, errs := run(); code != clitool.ExitConfig || !strings.Contains(errs, "clconf.xml does not exist") {
		t.Fatalf("no clconf.xml: %d %q", code, errs)
	}
	l := node(t, "9900")
	os.WriteFile(l.Clconf(), []byte("<clconf><global>"), 0o600)
	if code, _, errs := run(); code != clitool.ExitConfig || !strings.Contains(errs, "changed") {
		t.Fatalf("changed clconf.xml: %d %q", code, errs)
	}
	code, out, _ := run("--version")
	if code != 0 || !strings.HasPrefix(out, "clstat (linuxha) 0.") {
		t.Fatalf("--version: %d %q", code, out)
	}
}

// standIn serves as servera's daemon on a loopback port with answers.
func standIn(t *testing.T, answer func(r wire.Request) string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	node(t, port)
	codec, _ := wire.NewCodec(wire.Authenticated, "cluster1", "REPLACE-with-clbuild-genkey")
	s := &wire.Server{Codec: codec, Self: "servera/cldaemon", Handler: func(_ context.Context, req string, _ net.Addr) string {
		r, _ := wire.ParseRequest(req)
		switch r.Verb {
		case "ECHO":
			return "UP"
		case "GET_NODE_STATE":
			if r.Args["node"] == "serverb" {
				return "DOWN"
			}
			return "UP"
		}
		return answer(r)
	}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Serve(ctx, ln); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

// L1865-1874: the cluster and node table, from a daemon over real TCP.
func TestUpTable(t *testing.T) {
	standIn(t, func(wire.Request) string { return "UNKNOWN" })
	code, out, errs := run()
	want := "Cluster: cluster1 - UP\n\nNode\tStatus\nservera\tUP\nserverb\tDOWN\n"
	if code != 0 || out != want {
		t.Fatalf("%d\n%q\nwant %q\n%s", code, out, want, errs)
	}
}

// L2985-2991: plain clstat lists the applications too, so that the
// Reference's "clstat | egrep \"App|apache\"" (L4737) finds them.
func TestAppTable(t *testing.T) {
	started := time.Now().Add(-16 * time.Second).Unix()
	standIn(t, func(r wire.Request) string {
		switch {
		case r.Verb == "APP_LIST":
			return "apache,samba"
		case r.Verb == "APP_STATUS" && r.Args["app"] == "apache":
			return fmt.Sprintf("STARTED,servera,1,%d,0,Yes", started)
		case r.Verb == "APP_STATUS":
			return "DOWN,,0,0,0,Yes"
		}
		return "UNKNOWN"
	})
	code, out, errs := run()
	out = regexp.MustCompile(`0:00:1[67]`).ReplaceAllString(out, "0:00:1X") // 16 s, or 17 on a slow run
	want := "Cluster: cluster1 - UP\n\nNode\tStatus\nservera\tUP\nserverb\tDOWN\n\n" +
		"Application\tNode\tState\tStarted\tMonitor\tStale\tFail-over?\n" +
		"apache\tservera\tSTARTED\t0:00:1X\tRunning\t0\tYes\n" +
		"samba\tN/A\tDOWN\tN/A\tN/A\tN/A\tYes\n"
	if code != 0 || out != want {
		t.Fatalf("%d\n%s\nwant\n%s\n%s", code, out, want, errs)
	}
}

func TestRefusesUnbuilt(t *testing.T) {
	l := node(t, "9900")
	os.Remove(l.BuildChecksum())
	code, _, errs := run()
	if code != clitool.ExitConfig || !strings.Contains(errs, "has not been built yet") {
		t.Fatalf("%d %s", code, errs)
	}
	os.Chmod(l.Clconf(), 0o640)
	if code, _, errs = run(); code != clitool.ExitConfig || !strings.Contains(errs, "must be readable only by root: mode is 0640") {
		t.Fatalf("%d %s", code, errs)
	}
}

// TestStaleCount: the Stale column counts file systems "not fully
// synchronised on the two nodes" (L2996), the same whichever node is
// asked: from the running node's volumes while the application runs (a
// rejoined node holds no flags of its own, issue 18), from this node's
// STALE flags when it is stopped.
func TestStaleCount(t *testing.T) {
	vol := func(valid, typ, st string) daemonapi.Volume {
		return daemonapi.Volume{MountPoint: "/m", Valid: valid, Type: typ, State: st}
	}
	flag := func(lv, node string) state.Stale { return state.Stale{VG: "app01vg", LV: lv, Node: node} }
	for _, c := range []struct {
		why   string
		as    daemonapi.AppStatus
		flags []state.Stale
		want  int
	}{
		{"running, in step", daemonapi.AppStatus{Node: "servera", Volumes: []daemonapi.Volume{vol("both", "drbd", "Sync"), vol("both", "filesync", "Sync")}}, nil, 0},
		{"running, asked on the rejoined node: no flags here, the volumes say", daemonapi.AppStatus{Node: "servera", Volumes: []daemonapi.Volume{vol("local", "filesync", "Unsync"), vol("local", "filesync", "Sync")}}, nil, 2},
		{"running, a DRBD resync under way", daemonapi.AppStatus{Node: "servera", Volumes: []daemonapi.Volume{vol("both", "drbd", "Syncing")}}, nil, 1},
		{"running, a filesync pass under way is asynchronous copying, not staleness", daemonapi.AppStatus{Node: "servera", Volumes: []daemonapi.Volume{vol("both", "filesync", "Syncing")}}, nil, 0},
		{"running: stale local flags left on this node do not count twice", daemonapi.AppStatus{Node: "servera", Volumes: []daemonapi.Volume{vol("both", "drbd", "Sync")}}, []state.Stale{flag("docs", "serverb")}, 0},
		{"stopped: one per file system flagged here", daemonapi.AppStatus{}, []state.Stale{flag("docs", "serverb"), flag("docs", "servera"), flag("logs", "serverb")}, 2},
		{"stopped, no flags", daemonapi.AppStatus{}, nil, 0},
	} {
		if got := staleCount(c.as, c.flags); got != c.want {
			t.Errorf("%s: got %d, want %d", c.why, got, c.want)
		}
	}
}

// --watch off a terminal (issue 19, crm_mon -i): a block headed by the
// time at first and then only when something other than a running time
// changed; on a terminal every look redraws in place; JSON lines carry no
// time line.
func TestWatch(t *testing.T) {
	looks := []view{{"a 0:01\n", "a"}, {"a 0:02\n", "a"}, {"b 0:03\n", "b"}, {"b 0:04\n", "b"}}
	run := func(tty, jsonLines bool) string {
		var out bytes.Buffer
		ctx, cancel := context.WithCancel(context.Background())
		i := 0
		look := func() view {
			v := looks[i]
			if i++; i == len(looks) {
				cancel()
			}
			return v
		}
		at := time.Date(2026, 12, 2, 17, 0, 0, 0, time.UTC)
		if err := watch(ctx, &out, tty, jsonLines, time.Millisecond, func() time.Time { return at }, look); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	if got, want := run(false, false), "2026-12-02T17:00:00Z\na 0:01\n\n2026-12-02T17:00:00Z\nb 0:03\n"; got != want {
		t.Errorf("off a terminal:\n%q\nwant\n%q", got, want)
	}
	if got, want := run(true, false), "\x1b[H\x1b[2Ja 0:01\n\x1b[H\x1b[2Ja 0:02\n\x1b[H\x1b[2Jb 0:03\n\x1b[H\x1b[2Jb 0:04\n"; got != want {
		t.Errorf("on a terminal:\n%q\nwant\n%q", got, want)
	}
	if got, want := run(false, true), "a 0:01\nb 0:03\n"; got != want {
		t.Errorf("JSON lines:\n%q\nwant\n%q", got, want)
	}
}
