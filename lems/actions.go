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

// ParseActions turns an action string into steps. %RCDATA% is replaced
// first (L7191), then the string is split at ';' (L7181). A step that is
// impossible or malformed is returned in bad and skipped; the others
// still run (L7183-7187: "RUNCMD email root; rubbish; FAILOVER").
func ParseActions(spec, rcdata string) (acts []Action, bad []string) {
	spec = strings.ReplaceAll(spec, "%RCDATA%", rcdata)
	for _, part := range strings.Split(spec, ";") {
		w := strings.Fields(part)
		if len(w) == 0 {
			continue
		}
		verb, ok := synonyms[strings.ToUpper(w[0])]
		if !ok {
			bad = append(bad, strings.TrimSpace(part))
			continue
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
		if !ok {
			bad = append(bad, strings.TrimSpace(part))
			continue
		}
		acts = append(acts, a)
	}
	return acts, bad
}

func secs(s string) (time.Duration, bool) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || f > 86400 {
		return 0, false
	}
	return time.Duration(f * float64(time.Second)), true
}
