package lems

import (
	"strconv"
	"strings"
	"time"
)

// Action is one step of an action list (§24.3, L7163-7204).
type Action struct {
	Verb   string        // canonical: NOP STOP RUN FAILOVER HALTAPP PAUSE RUNCMD REMOVEMON
	Target string        // STOP/RUN: the check ("" = the current one)
	Delay  time.Duration // RUN's [int] and PAUSE's X; 0 = not given
	Argv   []string      // RUNCMD's command
}

// synonyms are the verbs the Reference lists on one row (L7169-7177).
var synonyms = map[string]string{
	"NOP": "NOP", "HALT": "STOP", "STOP": "STOP", "START": "RUN", "RUN": "RUN",
	"ABORT": "FAILOVER", "FAILOVER": "FAILOVER", "HALTAPP": "HALTAPP", "STOPAPP": "HALTAPP",
	"PAUSE": "PAUSE", "RUNCMD": "RUNCMD", "REMOVEMON": "REMOVEMON",
}

// ParseActions turns an action string into steps (§24.3). A step that is
// impossible or malformed is returned in bad and skipped; the others
// still run (L7183-7187: "RUNCMD email root; rubbish; FAILOVER").
//
// %RCDATA% stands for what the check returned (L7191). From a built-in
// monitor (trusted: flag_check returns whole steps such as "STOP httpd;
// START fsmon;") it is replaced before the string is split at ';', as the
// Reference describes. From a program check, whose output whoever feeds
// the program can shape, the string is split first: a step that is only
// %RCDATA% becomes at most one step and never RUNCMD (which runs as root),
// and %RCDATA% inside a step is one argument, so the output can neither
// add steps nor arguments.
func ParseActions(spec, rcdata string, trusted bool) (acts []Action, bad []string) {
	if trusted {
		spec = strings.ReplaceAll(spec, "%RCDATA%", rcdata)
	}
	for _, part := range strings.Split(spec, ";") {
		w := strings.Fields(part)
		if len(w) == 0 {
			continue
		}
		if !trusted && len(w) == 1 && w[0] == "%RCDATA%" {
			w = strings.Fields(rcdata)
			if len(w) == 0 {
				continue
			}
			if strings.Contains(rcdata, ";") || synonyms[strings.ToUpper(w[0])] == "RUNCMD" {
				bad = append(bad, strings.TrimSpace(rcdata))
				continue
			}
		} else if !trusted {
			for i := range w {
				w[i] = strings.ReplaceAll(w[i], "%RCDATA%", rcdata)
			}
		}
		a, ok := parseStep(w)
		if !ok {
			bad = append(bad, strings.Join(w, " "))
			continue
		}
		acts = append(acts, a)
	}
	return acts, bad
}

// parseStep reads one step: a verb and its arguments.
func parseStep(w []string) (Action, bool) {
	verb, ok := synonyms[strings.ToUpper(w[0])]
	if !ok {
		return Action{}, false
	}
	a := Action{Verb: verb}
	args := w[1:]
	switch verb {
	case "NOP", "REMOVEMON":
		ok = len(args) == 0
	case "STOP":
		ok = len(args) <= 1
		if len(args) == 1 {
			a.Target = args[0]
		}
	case "RUN":
		ok = len(args) == 1 || len(args) == 2
		if len(args) >= 1 {
			a.Target = args[0]
		}
		if len(args) == 2 {
			a.Delay, ok = secs(args[1])
		}
	case "PAUSE":
		ok = len(args) <= 1
		if len(args) == 1 {
			a.Delay, ok = secs(args[0])
		}
	case "RUNCMD":
		ok = len(args) > 0
		a.Argv = args
	case "FAILOVER", "HALTAPP":
		ok = len(args) == 0
	}
	return a, ok
}

func secs(s string) (time.Duration, bool) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || f > 86400 {
		return 0, false
	}
	return time.Duration(f * float64(time.Second)), true
}
