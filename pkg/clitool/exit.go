package clitool

import (
	"errors"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/linuxha-ng/linuxha/pkg/config"
	"github.com/linuxha-ng/linuxha/pkg/exitcode"
)

// Exit codes of every linuxha command (each man page's EXIT STATUS).
// Scripts and monitoring tell "you called it wrong" from "the cluster is
// not there" from "it tried and failed" without parsing messages.
const (
	ExitOK         = exitcode.OK
	ExitFailed     = exitcode.Failed
	ExitUsage      = exitcode.Usage
	ExitConfig     = exitcode.Config
	ExitNotRunning = exitcode.NotRunning
)

// ExitCodes describes each code, in order, for the man pages.
var ExitCodes = []struct {
	Code    int
	Meaning string
}{
	{ExitOK, "Success."},
	{ExitFailed, "The operation was tried and failed (the ERROR line says why)."},
	{ExitUsage, "Usage error: an unknown option, or a missing or unexpected argument."},
	{ExitConfig, "Configuration error: a file such as /etc/cluster/clconf.xml or an application's appconf.xml is missing, invalid, not owned by root, or changed since it was last built."},
	{ExitNotRunning, "The cluster, a cluster daemon, or the other node is not running or does not answer."},
}

// coded gives err an exit code; Run prints err and exits with it.
func coded(code int, err error) error { return exitcode.With(code, err) }

// UsageError marks err as a usage error (exit 2).
func UsageError(err error) error { return coded(ExitUsage, err) }

// Usagef is a usage error with a message.
func Usagef(format string, a ...any) error { return UsageError(fmt.Errorf(format, a...)) }

// ConfigError marks err as a configuration error (exit 3).
func ConfigError(err error) error { return coded(ExitConfig, err) }

// NotRunning marks err as "not running or unreachable" (exit 4).
func NotRunning(err error) error { return coded(ExitNotRunning, err) }

// NotRunningf is a NotRunning error with a message.
func NotRunningf(format string, a ...any) error { return NotRunning(fmt.Errorf(format, a...)) }

// ExitCode returns the code a command that ended with err exits with: the
// code it was given, ExitConfig for the configuration parsers' problems,
// else ExitFailed.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var ec cli.ExitCoder
	if errors.As(err, &ec) {
		return ec.ExitCode()
	}
	var ps config.Problems
	var p *config.Problem
	if errors.As(err, &ps) || errors.As(err, &p) {
		return ExitConfig
	}
	// urfave/cli's missing required flags (its error type is not exported).
	if strings.HasPrefix(err.Error(), "Required flag") {
		return ExitUsage
	}
	return ExitFailed
}
