// Package exitcode holds the exit codes of every linuxha command and the
// error that carries one, so that libraries whose errors end a command
// (a start refused for want of a daemon, a configuration that changed)
// can say which code, without depending on the commands' own package.
package exitcode

import "fmt"

// Exit codes (each man page's EXIT STATUS). Scripts and monitoring tell
// "you called it wrong" from "the cluster is not there" from "it tried
// and failed" without parsing messages.
const (
	OK         = 0 // done
	Failed     = 1 // the operation was tried and failed
	Usage      = 2 // unknown option, missing or unexpected argument
	Config     = 3 // a configuration file is missing, invalid, not root's, or changed since clbuild
	NotRunning = 4 // the cluster, a daemon or the peer is not running or does not answer
)

// Error gives an error an exit code (urfave/cli's ExitCoder).
type Error struct {
	Code int
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// ExitCode is the code the command exits with.
func (e *Error) ExitCode() int { return e.Code }

// With gives err the code; nil stays nil.
func With(code int, err error) error {
	if err == nil {
		return nil
	}
	return &Error{code, err}
}

// ConfigError marks err as a configuration error (exit 3).
func ConfigError(err error) error { return With(Config, err) }

// NotRunningf is "not running or unreachable" (exit 4) with a message.
func NotRunningf(format string, a ...any) error {
	return With(NotRunning, fmt.Errorf(format, a...))
}
