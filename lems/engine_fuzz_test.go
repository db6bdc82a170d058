package lems

import (
	"context"
	"io"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/linuxha-ng/linuxha/lems/monitors"
	"github.com/linuxha-ng/linuxha/pkg/config"
	"github.com/linuxha-ng/linuxha/pkg/layout"
	"github.com/linuxha-ng/linuxha/pkg/logx"
)

// FuzzEngine runs random action lists, check results and lemsctl
// messages through the engine with stand-in checks (issue 17: an action
// list that parsed could still kill Lems). RUNCMD's commands are never
// started: Start is a stand-in.
func FuzzEngine(f *testing.F) {
	f.Add("REMOVEMON; PAUSE", "", 1, false, "GET_STAT")
	f.Add("%RCDATA%", "STOP b; START a; RUNCMD /bin/rm -rf /", 1, true, "PAUSE a")
	f.Add("%RCDATA%", "x; FAILOVER; RUNCMD /bin/rm -rf /srv", 1, false, "RESUME")
	f.Add("RUN b 5; STOP; FAILOVER; HALTAPP; RUNCMD x %RCDATA%", "y; z", 2, true, "CMD b RESET")
	f.Add("REMOVEMON; RUN a; STOP a; PAUSE 3", "", 3, false, "REMOVE a")
	f.Fuzz(func(t *testing.T, spec, rcdata string, rc int, program bool, msg string) {
		typ := "internal"
		if program {
			typ = "program"
		}
		var checks []config.Check
		for _, n := range []string{"a", "b"} {
			checks = append(checks, config.Check{Name: n, Type: typ, Module: "fake", Interval: time.Second, Actions: map[int]string{0: "NOP", rc: spec}})
		}
		dir := t.TempDir()
		e := New(Options{
			App: "fz", Conf: &config.Lems{Checks: checks}, Log: logx.New(io.Discard), LogsDir: dir,
			ConfPath: filepath.Join(dir, "lems.local.xml"),
			Env:      monitors.Env{App: "fz", Me: "servera", L: layout.Layout{Root: dir}},
			Cluster:  func(context.Context, string) (string, error) { return "OK", nil },
			Build: func(*monitors.Env, config.Check) (monitors.Monitor, error) {
				return &fake{rc: rc, data: rcdata}, nil
			},
			Start: func(*exec.Cmd) error { return nil },
		})
		e.quit = func() {} // Run is not running: ABORT has nothing to end
		ctx := context.Background()
		for range 3 {
			for _, n := range []string{"a", "b"} {
				if en, ok := e.entries[n]; ok {
					e.apply(ctx, result{n, en.mon, rc, rcdata})
				}
			}
			e.message(ctx, msg)
		}
	})
}
