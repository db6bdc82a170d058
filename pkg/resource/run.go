package resource

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// command is one process an agent runs.
type command struct {
	argv  []string
	env   []string             // nil = this process's environment
	cred  *syscall.Credential  // nil = as root
	dir   string               // "" = the current directory
	limit time.Duration        // killed (its process group) after this
	log   func(string, ...any) // each output line; nil = dropped
}

// run runs c and returns its exit code as an OCF code, or TimedOut. The
// output goes through a file, not a pipe: a daemon the command starts
// keeps its descriptors, and a pipe would hold run until that daemon
// exits. The command gets a session of its own, so daemons it starts
// survive the caller (Lems, clstartapp).
func run(ctx context.Context, c command) (Code, string, error) {
	out, err := os.CreateTemp("", "linuxha-resource-*")
	if err != nil {
		return ErrGeneric, "", err
	}
	defer os.Remove(out.Name())
	defer out.Close()
	cmd := exec.Command(c.argv[0], c.argv[1:]...)
	cmd.Env, cmd.Dir = c.env, c.dir
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Credential: c.cred}
	if err := cmd.Start(); err != nil {
		return ErrInstalled, "", err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	limit := time.NewTimer(c.limit)
	defer limit.Stop()
	code := Success
	select {
	case err = <-done:
	case <-limit.C:
		code = TimedOut
	case <-ctx.Done():
		code = TimedOut
	}
	if code == TimedOut {
		pg := -cmd.Process.Pid
		syscall.Kill(pg, syscall.SIGTERM)
		select {
		case err = <-done:
		case <-time.After(5 * time.Second):
			syscall.Kill(pg, syscall.SIGKILL)
			select {
			case err = <-done:
			case <-time.After(5 * time.Second):
				// Unkillable (a stat in D state on a dead NFS
				// server): leave it rather than hang with it.
			}
		}
	}
	text := readAll(out.Name())
	if c.log != nil {
		for _, l := range strings.Split(strings.TrimSpace(text), "\n") {
			if l != "" {
				c.log("%s: %s", c.argv[0], l)
			}
		}
	}
	if code == TimedOut {
		return TimedOut, text, nil
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ee.ExitCode() < 0 { // killed by a signal
			return ErrGeneric, text, nil
		}
		return Code(ee.ExitCode()), text, nil
	}
	return code, text, err
}

func readAll(name string) string {
	b, _ := os.ReadFile(name)
	const max = 64 << 10
	if len(b) > max {
		b = b[len(b)-max:]
	}
	return string(b)
}
