// Package daemonize gives linuxha's daemons the process title the
// Reference shows in "ps -ef" ("cldaemon-<cluster>", L2609-2615) and a
// real detach (setsid, no terminal) with a readiness handshake: the
// command that started a detached daemon exits only once the daemon is
// serving, or reports why it is not.
//
// It works by re-executing the program with argv[0] set to the title and
// the real arguments in an environment variable.
package daemonize

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

const (
	envArgs  = "LINUXHA_DAEMON_ARGS"
	envReady = "LINUXHA_DAEMON_READY_FD"
)

// ChildArgs returns the arguments a re-executed daemon was started with,
// and removes them from the environment so its own children do not see
// them.
func ChildArgs() ([]string, bool) {
	v, ok := os.LookupEnv(envArgs)
	if !ok {
		return nil, false
	}
	os.Unsetenv(envArgs)
	var args []string
	if err := json.Unmarshal([]byte(v), &args); err != nil {
		return nil, false
	}
	return args, true
}

// IsChild reports whether this process runs under its title already.
func IsChild(title string) bool {
	return len(os.Args) > 0 && os.Args[0] == title
}

// Exec replaces this process with itself titled title (foreground: same
// pid, same terminal).
func Exec(title string, args []string) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	b, _ := json.Marshal(args)
	env := append(os.Environ(), envArgs+"="+string(b))
	return syscall.Exec(exe, []string{title}, env)
}

// Detach starts this program again as a detached daemon titled title and
// waits until it calls Ready (or fails). Its output goes to /dev/null: a
// daemon logs to its file.
func Detach(title string, args []string, wait time.Duration) (pid int, err error) {
	exe, err := os.Executable()
	if err != nil {
		return 0, err
	}
	return DetachExe(exe, title, args, wait)
}

// DetachExe is Detach for another linuxha program, exe: the daemon that
// starts an application in its own process (cldaemon's takeover) starts
// drbd_tool's filesync syncer this way.
func DetachExe(exe, title string, args []string, wait time.Duration) (pid int, err error) {
	r, w, err := os.Pipe()
	if err != nil {
		return 0, err
	}
	defer r.Close()
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return 0, err
	}
	defer null.Close()
	b, _ := json.Marshal(args)
	cmd := &exec.Cmd{
		Path:        exe,
		Args:        []string{title},
		Env:         append(os.Environ(), envArgs+"="+string(b), envReady+"=3"),
		Stdin:       null,
		Stdout:      null,
		Stderr:      null,
		ExtraFiles:  []*os.File{w},
		SysProcAttr: &syscall.SysProcAttr{Setsid: true},
		Dir:         "/",
	}
	if err := cmd.Start(); err != nil {
		w.Close()
		return 0, fmt.Errorf("start %s: %w", title, err)
	}
	w.Close()
	pid = cmd.Process.Pid
	cmd.Process.Release()
	done := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(r).ReadString('\n')
		done <- strings.TrimSpace(line)
	}()
	select {
	case line := <-done:
		switch {
		case line == "ready":
			return pid, nil
		case line == "":
			return pid, fmt.Errorf("%s exited before it was ready", title)
		default:
			return pid, errors.New(line)
		}
	case <-time.After(wait):
		return pid, fmt.Errorf("%s not ready after %v", title, wait)
	}
}

// Ready tells the starter that the daemon is serving (err nil) or failed.
func Ready(err error) {
	fd := os.Getenv(envReady)
	if fd == "" {
		return
	}
	os.Unsetenv(envReady)
	f := os.NewFile(3, "ready")
	if f == nil {
		return
	}
	if err != nil {
		fmt.Fprintln(f, strings.ReplaceAll(err.Error(), "\n", "; "))
	} else {
		fmt.Fprintln(f, "ready")
	}
	f.Close()
}

// SetName sets the kernel's short name of the process (what "ps -e",
// "top" and "pgrep -x" show; at most 15 bytes). prctl(PR_SET_NAME) would
// rename only the calling thread; /proc/self/comm names the process.
func SetName(name string) {
	if len(name) > 15 {
		name = name[:15]
	}
	_ = os.WriteFile("/proc/self/comm", []byte(name), 0)
}
