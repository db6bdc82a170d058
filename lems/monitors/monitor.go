// Package monitors holds Lems's standard monitors (§24.4, L7206-7353) and
// the contract every monitor meets (§24.6, L7379-7425): built from the
// words after its name in <module>, asked to check, answering a return
// code that the check's action list maps to actions, and optionally
// describing itself (stat) and accepting commands (accept).
package monitors

import (
	"context"
	"fmt"
	"sort"

	"github.com/linuxha-ng/linuxha/pkg/config"
	"github.com/linuxha-ng/linuxha/pkg/layout"
	"github.com/linuxha-ng/linuxha/pkg/logx"
)

// Monitor is one check's object; the same object serves every run, so a
// monitor may keep state between runs (L7383-7385). Lems never runs one
// monitor's Check twice at once, but Stat and Accept may be called while
// Check runs.
type Monitor interface {
	// Check returns the rc to look up in the action list and the RCDATA
	// that replaces %RCDATA% in the chosen actions (L7191).
	Check(ctx context.Context) (rc int, rcdata string)
}

// Stater is a monitor with detail for GET_VSTAT (L7403-7405).
type Stater interface{ Stat() string }

// Accepter is a monitor that takes commands through "CMD monitor ..."
// (L7407-7409). The reply is "OK text" or an error (FAIL text).
type Accepter interface {
	Accept(words []string) (string, error)
}

// Env is what a monitor may use: the application, its configuration and
// the node's files. Nothing in it is shared mutable state.
type Env struct {
	App     string
	Check   string // name of the check this monitor serves
	L       layout.Layout
	Cluster *config.Cluster
	AppConf *config.App
	Me      string // this node's name
	Peer    string // the other node's name
	Log     *logx.Logger
	// Checks lists the names of the checks Lems runs now (flag_check
	// warns about a flag that names none).
	Checks func() []string
	// Programs is the directory of "program" checks (globals@programs).
	Programs string
}

// New builds a monitor; it fails when the arguments or the files they
// name are wrong, and Lems then leaves the check out (L7391-7393).
type New func(env *Env, args []string) (Monitor, error)

// Internal lists the built-in monitors by module name.
var Internal = map[string]New{
	"flag_check":        NewFlagCheck,
	"procmon":           NewProcmon,
	"ip_module":         NewIPModule,
	"link_module":       NewLinkModule,
	"ip_move_interface": NewIPMove,
	"fsmon":             NewFsmon,
	"capacity_check":    NewCapacity,
	"swap_check":        NewSwap,
	"resource":          NewResource,
}

// Kind names a module the way clstat's General Monitors section does
// (L3070-3073).
func Kind(module string) string {
	switch module {
	case "flag_check":
		return "Flag Check"
	case "fsmon":
		return "FS Monitor"
	case "ip_module":
		return "IP Monitor"
	case "link_module":
		return "Link Monitor"
	case "ip_move_interface":
		return "IP Mover"
	case "capacity_check":
		return "Capacity"
	case "swap_check":
		return "Swap"
	case "procmon":
		return "Process Monitor"
	case "resource":
		return "Resource"
	}
	return "Program"
}

// Build makes the monitor for a check of type internal or program.
func Build(env *Env, typ, module string, args []string) (Monitor, error) {
	if typ == "program" {
		return NewProgram(env, module, args)
	}
	f, ok := Internal[module]
	if !ok {
		names := make([]string, 0, len(Internal))
		for n := range Internal {
			names = append(names, n)
		}
		sort.Strings(names)
		return nil, fmt.Errorf("no internal monitor %q (have %v)", module, names)
	}
	return f(env, args)
}
