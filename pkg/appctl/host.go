package appctl

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// users lists the processes using anything under dir: working or root
// directory, executable, open files or mapped files (what fuser -m finds,
// without needing it installed).
func users(dir string) []int {
	dir = filepath.Clean(dir)
	under := func(p string) bool { return p == dir || strings.HasPrefix(p, dir+"/") }
	self := os.Getpid()
	var out []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self || pid == 1 {
			continue
		}
		base := "/proc/" + e.Name()
		found := false
		for _, l := range []string{"cwd", "root", "exe"} {
			if t, err := os.Readlink(base + "/" + l); err == nil && under(t) && !(l == "root" && dir == "/") {
				found = true
			}
		}
		if !found {
			fds, _ := os.ReadDir(base + "/fd")
			for _, fd := range fds {
				if t, err := os.Readlink(base + "/fd/" + fd.Name()); err == nil && under(t) {
					found = true
					break
				}
			}
		}
		if !found {
			if maps, err := os.ReadFile(base + "/maps"); err == nil {
				for _, line := range strings.Split(string(maps), "\n") {
					if f := strings.Fields(line); len(f) >= 6 && under(f[5]) {
						found = true
						break
					}
				}
			}
		}
		if found {
			out = append(out, pid)
		}
	}
	return out
}

// scriptResult is how an application script ended.
type scriptResult struct {
	Code     int  // exit code; -1 when killed
	Missing  bool // the script does not exist
	TimedOut bool
}

// runScript runs an application start or stop script with its output
// appended to logBase+".log" and ".errlog" (L6838-6850), and the time-out
// rules of L2376-2384: a warning at half the limit, HUP to the script's
// process group at the limit, KILL 5 s later.
func runScript(ctx context.Context, argv []string, limit time.Duration, logBase string, warnf func(string, ...any)) (scriptResult, error) {
	if len(argv) == 0 {
		return scriptResult{Missing: true}, nil
	}
	if st, err := os.Stat(argv[0]); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
		return scriptResult{Missing: true}, nil
	}
	stdout, err := os.OpenFile(logBase+".log", os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return scriptResult{}, err
	}
	defer stdout.Close()
	stderr, err := os.OpenFile(logBase+".errlog", os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return scriptResult{}, err
	}
	defer stderr.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return scriptResult{}, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	pg := -cmd.Process.Pid
	half := time.NewTimer(limit / 2)
	full := time.NewTimer(limit)
	defer half.Stop()
	defer full.Stop()
	var kill <-chan time.Time
	res := scriptResult{}
	for {
		select {
		case err := <-done:
			if res.TimedOut {
				res.Code = -1
				return res, nil
			}
			if ee, ok := err.(*exec.ExitError); ok {
				res.Code = ee.ExitCode()
				return res, nil
			}
			return res, err
		case <-half.C:
			warnf("Script %s has not finished after %v (half of its %v limit)", argv[0], limit/2, limit)
		case <-full.C:
			warnf("Script %s has not finished after %v - sending HUP", argv[0], limit)
			res.TimedOut = true
			syscall.Kill(pg, syscall.SIGHUP)
			kill = time.After(5 * time.Second)
		case <-kill:
			warnf("Script %s still running 5 seconds after HUP - sending KILL", argv[0])
			syscall.Kill(pg, syscall.SIGKILL)
		case <-ctx.Done():
			syscall.Kill(pg, syscall.SIGKILL)
			<-done
			return res, ctx.Err()
		}
	}
}
