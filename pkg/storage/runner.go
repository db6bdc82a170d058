package storage

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// Runner runs one command and returns its standard output. It exists so
// that tests can record the commands a driver runs (STYLE §3).
type Runner interface {
	Run(ctx context.Context, stdin []byte, argv ...string) ([]byte, error)
}

// Exec is the real Runner: argv as given, C locale, stderr in the error.
type Exec struct{}

// ExitError carries the command, its exit status and what it printed.
type ExitError struct {
	Argv   []string
	Code   int
	Output string
}

func (e *ExitError) Error() string {
	return fmt.Sprintf("%s: exit status %d: %s", strings.Join(e.Argv, " "), e.Code, e.Output)
}

// Run implements Runner.
func (Exec) Run(ctx context.Context, stdin []byte, argv ...string) ([]byte, error) {
	c := exec.CommandContext(ctx, argv[0], argv[1:]...)
	// drbd-utils' drbdadm runs drbdadm-84 for the 8.4 module from
	// /usr/lib/drbd, which is not on a login shell's PATH.
	c.Env = append(os.Environ(), "LC_ALL=C", "PATH="+os.Getenv("PATH")+":/usr/lib/drbd")
	if stdin != nil {
		c.Stdin = bytes.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	c.Stdout, c.Stderr = &out, &errb
	err := c.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return out.Bytes(), &ExitError{Argv: argv, Code: ee.ExitCode(), Output: strings.TrimSpace(errb.String() + out.String())}
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", strings.Join(argv, " "), err)
	}
	return out.Bytes(), nil
}

// Mounted reports whether a file system is mounted on dir.
func Mounted(dir string) bool {
	data, err := os.ReadFile("/proc/mounts")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[1] == dir {
			return true
		}
	}
	return false
}
