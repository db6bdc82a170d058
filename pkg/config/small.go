package config

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Lock is one named lock of cllocks.xml (L1607-1640).
type Lock struct {
	Name string
	Desc string
	MaxT time.Duration // longest hold before the lock daemon releases it
}

// DefaultLocks is the lock daemon's built-in list (L1621-1639).
func DefaultLocks() map[string]Lock {
	return map[string]Lock{
		"NET":        {Name: "NET", Desc: "Network Config", MaxT: 40 * time.Second},
		"NBD_CLIENT": {Name: "NBD_CLIENT", Desc: "DRBD Primary Access", MaxT: 45 * time.Second},
		"NBD_SERVER": {Name: "NBD_SERVER", Desc: "DRBD Secondary Access", MaxT: 45 * time.Second},
	}
}

// ParseLocks parses cllocks.xml; its locks override the built-in ones of
// the same name and add new ones (L1613).
func ParseLocks(file string, data []byte) (map[string]Lock, error) {
	d, err := parseDoc(file, data, "cllocks")
	if err != nil {
		return nil, err
	}
	locks := DefaultLocks()
	seen := map[string]bool{}
	for _, le := range children(d.root, "lock") {
		name, _ := attr(le, "name")
		if name == "" || !reWord.MatchString(name) {
			d.errorf(le, "lock", "name %q must be a single word", name)
			continue
		}
		if seen[name] {
			d.errorf(le, "lock "+name, "defined twice")
		}
		seen[name] = true
		l := locks[name]
		l.Name = name
		if v, ok := attr(le, "desc"); ok {
			l.Desc = v
		}
		v, _ := attr(le, "maxt")
		dur, err := seconds(v)
		if err != nil || dur <= 0 {
			d.errorf(le, "lock "+name+"/maxt", "%q must be a positive number of seconds", v)
		}
		l.MaxT = dur
		locks[name] = l
	}
	if err := d.errs.err(); err != nil {
		return nil, err
	}
	return locks, nil
}

// LoadLocks reads cllocks.xml, or returns the built-in list when the file
// does not exist.
func LoadLocks(path string) (map[string]Lock, error) {
	data, err := readFile(path)
	if err != nil {
		if isNotExist(err) {
			return DefaultLocks(), nil
		}
		return nil, err
	}
	return ParseLocks(path, data)
}

// Startup is clstartup.xml (L2706-2754).
type Startup struct {
	AllowSingleNode     bool          // form alone when the peer does not answer in time
	BackgroundStartup   bool          // accepted; start-up always runs in the background (L2754 note 6)
	JoinExistingCluster bool          // join a cluster already formed by the peer
	AutostartApps       bool          // start autostart applications once formed
	Timeout             time.Duration // 0 = timings/clusterform
}

// ParseStartup parses clstartup.xml; every setting defaults to "no".
func ParseStartup(file string, data []byte) (*Startup, error) {
	d, err := parseDoc(file, data, "clstartup_config")
	if err != nil {
		return nil, err
	}
	s := &Startup{}
	for _, f := range []struct {
		name string
		dst  *bool
	}{
		{"allow_single_node", &s.AllowSingleNode},
		{"background_startup", &s.BackgroundStartup},
		{"join_existing_cluster", &s.JoinExistingCluster},
		{"autostart_apps", &s.AutostartApps},
	} {
		if v, e := child(d.root, f.name); e != nil && v != "" {
			b, err := yesNo(v)
			if err != nil {
				d.errorf(e, f.name, "%v", err)
			}
			*f.dst = b
		}
	}
	if v, e := child(d.root, "timeout"); e != nil && v != "" {
		dur, err := seconds(v)
		if err != nil || dur <= 0 {
			d.errorf(e, "timeout", "%q must be a positive number of seconds", v)
		}
		s.Timeout = dur
	}
	if err := d.errs.err(); err != nil {
		return nil, err
	}
	return s, nil
}

// Procmon is a process monitor file such as httpd.xml (L7308-7352).
type Procmon struct {
	LogDir      string        // global/logdir, default /var/log/cluster
	Restarts    int           // global/restarts: required
	ResetWindow time.Duration // global/resetwindow: default 3600 s
	RestartCmd  []string      // global/restartcmd: required
	Processes   []Process
}

// Process is one <process> of a procmon file.
type Process struct {
	Label string // required
	// User owns the processes counted: default root, where the
	// Reference's default "." (any user, L7341) let any local user fake
	// or exhaust the count; "." must now be written out.
	User     string
	Pattern  *regexp.Regexp // process_string: a regular expression, required
	Exe      *regexp.Regexp // exe: when set, the executable's path must match too (nil = any)
	MinCount int            // default 1
	MaxCount int            // default 999
}

// ParseProcmon parses a procmon XML file.
func ParseProcmon(file string, data []byte) (*Procmon, error) {
	d, err := parseDoc(file, data, "procmon")
	if err != nil {
		return nil, err
	}
	p := &Procmon{LogDir: "/var/log/cluster", ResetWindow: 3600 * time.Second}
	_, ge := child(d.root, "global")
	if ge == nil {
		d.errorf(d.root, "procmon", "missing <global> section")
	} else {
		if v, e := child(ge, "logdir"); e != nil && v != "" {
			p.LogDir = v
		}
		if v, e := child(ge, "restarts"); e == nil || v == "" {
			d.errorf(ge, "global/restarts", "required value missing")
		} else if n, err := strconv.Atoi(v); err != nil || n < 0 {
			d.errorf(e, "global/restarts", "%q must be a count", v)
		} else {
			p.Restarts = n
		}
		if v, e := child(ge, "resetwindow"); e != nil && v != "" {
			dur, err := seconds(v)
			if err != nil || dur <= 0 {
				d.errorf(e, "global/resetwindow", "%q must be a positive number of seconds", v)
			}
			p.ResetWindow = dur
		}
		if v, e := child(ge, "restartcmd"); e == nil || v == "" {
			d.errorf(ge, "global/restartcmd", "required value missing")
		} else {
			p.RestartCmd = strings.Fields(v)
		}
	}
	for _, pe := range children(d.root, "process") {
		pr := Process{User: "root", MinCount: 1, MaxCount: 999}
		if v, e := child(pe, "label"); e == nil || v == "" {
			d.errorf(pe, "process/label", "required value missing")
		} else {
			pr.Label = v
		}
		if v, e := child(pe, "user"); e != nil && v != "" {
			pr.User = v
		}
		if v, e := child(pe, "exe"); e != nil && v != "" {
			if re, err := regexp.Compile(v); err != nil {
				d.errorf(e, "process/exe", "%q is not a regular expression: %v", v, err)
			} else {
				pr.Exe = re
			}
		}
		if v, e := child(pe, "process_string"); e == nil || v == "" {
			d.errorf(pe, "process/process_string", "required value missing")
		} else if re, err := regexp.Compile(v); err != nil {
			d.errorf(e, "process/process_string", "%q is not a regular expression: %v", v, err)
		} else {
			pr.Pattern = re
		}
		for _, f := range []struct {
			name string
			dst  *int
		}{{"min_count", &pr.MinCount}, {"max_count", &pr.MaxCount}} {
			if v, e := child(pe, f.name); e != nil && v != "" {
				n, err := strconv.Atoi(v)
				if err != nil || n < 0 {
					d.errorf(e, "process/"+f.name, "%q must be a count", v)
				}
				*f.dst = n
			}
		}
		if pr.MinCount > pr.MaxCount {
			d.errorf(pe, "process "+pr.Label, "min_count %d is above max_count %d", pr.MinCount, pr.MaxCount)
		}
		p.Processes = append(p.Processes, pr)
	}
	if len(p.Processes) == 0 {
		d.errorf(d.root, "procmon", "at least one <process> is required")
	}
	if err := d.errs.err(); err != nil {
		return nil, err
	}
	return p, nil
}

// Lems is an application's lems.local.xml (§24.2, L7051-7161).
type Lems struct {
	Modules  string // globals@modules
	Programs string // globals@programs: directory of "program" checks
	Logs     string // globals@logs, default /var/log/cluster/lems
	Port     int    // globals@port: this Lems's request port, required
	Checks   []Check
	// Warnings name action-list steps that are unknown or malformed:
	// the Reference ignores such a step and runs the rest (L7183-7187),
	// so they do not make the file invalid.
	Warnings Problems
}

// Check is one monitor entry.
type Check struct {
	Name     string
	Type     string        // "internal" (built-in monitor) or "program" (executable)
	Module   string        // monitor or program name
	Args     []string      // the rest of <module>
	Interval time.Duration // 0 = runs only when another check RUNs it
	Actions  map[int]string
}

// Lems action verbs (§24.3, L7169-7177).
var lemsVerbs = map[string]bool{
	"NOP": true, "HALT": true, "STOP": true, "START": true, "RUN": true,
	"ABORT": true, "FAILOVER": true, "HALTAPP": true, "STOPAPP": true,
	"PAUSE": true, "RUNCMD": true, "REMOVEMON": true, "%RCDATA%": true,
}

// ParseLems parses lems.local.xml.
func ParseLems(file string, data []byte) (*Lems, error) {
	d, err := parseDoc(file, data, "lems_config")
	if err != nil {
		return nil, err
	}
	l := &Lems{Logs: "/var/log/cluster/lems"}
	_, g := child(d.root, "globals")
	if g == nil {
		d.errorf(d.root, "globals", "missing <globals> element")
	} else {
		l.Modules, _ = attr(g, "modules")
		l.Programs, _ = attr(g, "programs")
		if v, ok := attr(g, "logs"); ok && v != "" {
			l.Logs = v
		}
		v, _ := attr(g, "port")
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 65535 {
			d.errorf(g, "globals/port", "%q is not a TCP port (1-65535)", v)
		}
		l.Port = n
	}
	names := map[string]bool{}
	type pending struct {
		e      *etreeElement
		check  string
		target string
	}
	var runs []pending
	for _, ce := range children(d.root, "check") {
		c := Check{Actions: map[int]string{}}
		c.Name, _ = child(ce, "name")
		if c.Name == "" || !reAppName.MatchString(c.Name) {
			d.errorf(ce, "check/name", "%q must be a single word", c.Name)
		}
		if names[c.Name] {
			d.errorf(ce, "check "+c.Name, "name used by another check")
		}
		names[c.Name] = true
		el := "check " + c.Name
		t, te := child(ce, "type")
		switch strings.ToLower(t) {
		case "internal", "program":
			c.Type = strings.ToLower(t)
		default:
			d.errorf(te, el+"/type", "%q must be internal or program", t)
		}
		m, _ := child(ce, "module")
		f := strings.Fields(m)
		if len(f) == 0 {
			d.errorf(ce, el+"/module", "required value missing")
		} else {
			c.Module, c.Args = f[0], f[1:]
		}
		iv, ie := child(ce, "interval")
		dur, err := seconds(iv)
		if err != nil || (dur != 0 && (dur < 500*time.Millisecond || dur > 3600*time.Second)) {
			d.errorf(ie, el+"/interval", "%q must be 0 or between 0.5 and 3600 seconds", iv)
		}
		c.Interval = dur
		_, al := child(ce, "action_list")
		for _, ae := range children(al, "action") {
			rcs, _ := attr(ae, "rc")
			rc, err := strconv.Atoi(rcs)
			if err != nil || rc < 0 || rc > 255 {
				d.errorf(ae, el+"/action", "rc %q must be 0-255", rcs)
				continue
			}
			act, _ := attr(ae, "action")
			if _, dup := c.Actions[rc]; dup {
				d.errorf(ae, el+"/action", "rc %d mapped twice", rc)
			}
			for _, one := range strings.Split(act, ";") {
				w := strings.Fields(one)
				if len(w) == 0 {
					d.warnf(ae, el+"/action", "empty action for rc %d", rc)
					continue
				}
				verb := strings.ToUpper(w[0])
				if !lemsVerbs[verb] {
					d.warnf(ae, el+"/action", "unknown action %q", w[0])
					continue
				}
				switch verb {
				case "RUN", "START":
					if len(w) < 2 {
						d.warnf(ae, el+"/action", "%s needs a check name", verb)
					} else {
						runs = append(runs, pending{ae, el, w[1]})
					}
				case "PAUSE":
					if len(w) > 1 {
						if p, err := seconds(w[1]); err != nil || p <= 0 {
							d.warnf(ae, el+"/action", "PAUSE %q needs a number of seconds", w[1])
						}
					}
				case "RUNCMD":
					if len(w) < 2 {
						d.warnf(ae, el+"/action", "RUNCMD needs a command")
					}
				}
			}
			c.Actions[rc] = act
		}
		l.Checks = append(l.Checks, c)
	}
	for _, r := range runs {
		if !names[r.target] {
			d.warnf(r.e, r.check+"/action", "refers to unknown check %q", r.target)
		}
	}
	if err := d.errs.err(); err != nil {
		return nil, err
	}
	for _, w := range d.warnings {
		w.Text += ": that step will be ignored, the rest of the list runs (L7183-7187)"
	}
	l.Warnings = d.warnings
	return l, nil
}

// SortedActions lists a check's rc values in order, for display.
func (c Check) SortedActions() []string {
	var rcs []int
	for rc := range c.Actions {
		rcs = append(rcs, rc)
	}
	sort.Ints(rcs)
	out := make([]string, len(rcs))
	for i, rc := range rcs {
		out[i] = fmt.Sprintf("%d=%s", rc, c.Actions[rc])
	}
	return out
}
