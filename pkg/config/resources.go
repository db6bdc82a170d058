package config

import (
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Resource kinds: DRCM's categories (seed 000: CM_CRONTABS, CM_SERVICES,
// CM_APPLICATIONS, CM_FILESYSTEMS) and Pacemaker's OCF resource agents.
const (
	KindCrontab = "crontab"
	KindService = "service"
	KindUser    = "user"
	KindMount   = "mount"
	KindOCF     = "ocf"
)

// Resource is one member of an application's <resources> section. The
// section's order is the start order; members stop in reverse. Only the
// fields of its Kind are set.
type Resource struct {
	Kind string
	Name string // unique within the application; names its Lems check
	Line int

	Interval time.Duration // monitor interval; 0 = not monitored
	Timeout  time.Duration // limit on each start, stop and monitor
	Restarts int           // restarts within Window before a fail-over
	Window   time.Duration

	// crontab: Template is installed as Target/<base name of Template>.
	Template, Target string
	// service: a systemd unit or an LSB init script.
	Service string
	// user: programs run by User (group Group) in the user's login
	// environment; Ensure, when set, is the monitor (exit 0 = running).
	User, Group string
	Start, Stop []string
	Ensure      string
	// mount: an NFS or CIFS client mount, remounted when stale.
	Source, MountPoint, FSType, Options string
	// ocf: ocf:<Provider>:<Agent> with its parameters in order.
	Provider, Agent string
	Params          []Param
}

// Param is one OCF parameter (OCF_RESKEY_<Name>).
type Param struct {
	Name, Value string
	Line        int
}

// Element names the resource the way problems do: "resources/ocf www".
func (r *Resource) Element() string { return "resources/" + r.Kind + " " + r.Name }

// ID is how the resource is written in the OCF standard and in logs:
// "ocf:heartbeat:apache", "service apache2", "crontab jobs".
func (r *Resource) ID() string {
	switch r.Kind {
	case KindOCF:
		return "ocf:" + r.Provider + ":" + r.Agent
	case KindService:
		return "service " + r.Service
	}
	return r.Kind + " " + r.Name
}

// Resource defaults, as Pacemaker's (a 20 s operation timeout) and
// procmon's (3 restarts in a 10-minute window) are.
const (
	DefaultResourceTimeout  = 20 * time.Second
	DefaultResourceInterval = 10 * time.Second
	DefaultCrontabInterval  = 60 * time.Second
	DefaultResourceRestarts = 3
	DefaultResourceWindow   = 10 * time.Minute
)

var (
	// Debian's cron reads only /etc/cron.d files named like this
	// (cron(8): "must conform to the filename requirements of run-parts").
	reCronFile = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	// OCF parameter names become environment variables.
	reParam = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	// Users and groups as useradd(8) allows them.
	reAccount = regexp.MustCompile(`^[a-z_][a-z0-9_.-]{0,31}\$?$`)
	// Systemd units and init scripts.
	reService = regexp.MustCompile(`^[A-Za-z0-9_.@:-]{1,128}$`)
)

// parseResources reads <resources>: each child is a member, in start order.
func parseResources(d *doc, a *App) {
	rs := children(d.root, "resources")
	if len(rs) > 1 {
		d.errorf(rs[1], "resources", "only one <resources> section is allowed")
	}
	if len(rs) == 0 {
		return
	}
	seen := map[string]bool{}
	for _, e := range rs[0].ChildElements() {
		r := Resource{Kind: strings.ToLower(e.Tag), Line: d.line(e), Timeout: DefaultResourceTimeout,
			Restarts: DefaultResourceRestarts, Window: DefaultResourceWindow, Interval: DefaultResourceInterval}
		r.Name, _ = attr(e, "name")
		el := r.Element()
		switch {
		case r.Name == "":
			d.errorf(e, "resources/"+r.Kind, "attribute name is required")
			continue
		case !reAppName.MatchString(r.Name):
			d.errorf(e, el, "name %q must be a single word", r.Name)
			continue
		case seen[r.Name]:
			d.errorf(e, el, "resource %s listed twice", r.Name)
			continue
		}
		seen[r.Name] = true
		req := func(name string) string {
			v, ok := attr(e, name)
			if !ok || v == "" {
				d.errorf(e, el+"/"+name, "required value missing")
			}
			return v
		}
		switch r.Kind {
		case KindCrontab:
			r.Interval = DefaultCrontabInterval
			r.Template = req("template")
			r.Target = "/etc/cron.d"
			if v, ok := attr(e, "target"); ok && v != "" {
				r.Target = v
			}
			if r.Template != "" && (!strings.HasPrefix(r.Template, "/") || !reCronFile.MatchString(path.Base(r.Template))) {
				d.errorf(e, el+"/template", "%q must be an absolute path whose file name holds only letters, digits, _ and - (cron ignores other names in /etc/cron.d)", r.Template)
			}
			if !strings.HasPrefix(r.Target, "/") {
				d.errorf(e, el+"/target", "%q must be an absolute directory", r.Target)
			}
		case KindService:
			r.Service = req("service")
			if r.Service != "" && !reService.MatchString(r.Service) {
				d.errorf(e, el+"/service", "%q is not a service name", r.Service)
			}
		case KindUser:
			r.Interval = 0 // watched only through an ensure script
			ug := req("user")
			r.User, r.Group, _ = strings.Cut(ug, ":")
			if ug != "" && (!reAccount.MatchString(r.User) || r.Group != "" && !reAccount.MatchString(r.Group)) {
				d.errorf(e, el+"/user", "%q must be user or user:group", ug)
			}
			r.Start = programs(req("start"))
			r.Stop = programs(req("stop"))
			if v, ok := attr(e, "ensure"); ok && v != "" {
				r.Ensure = v
				r.Interval = DefaultResourceInterval
			}
		case KindMount:
			r.Source = req("source")
			r.MountPoint = req("target")
			r.FSType = req("fstype")
			r.Options, _ = attr(e, "options")
			if r.MountPoint != "" {
				if err := CheckMountPath(r.MountPoint); err != nil {
					d.errorf(e, el+"/target", "%v", err)
				}
			}
			switch r.FSType {
			case "", "nfs", "nfs4", "cifs", "smb3":
			default:
				d.errorf(e, el+"/fstype", "%q is not a client file system (nfs, nfs4, cifs or smb3)", r.FSType)
			}
		case KindOCF:
			agent := req("agent")
			parts := strings.Split(agent, ":")
			if agent != "" {
				if len(parts) != 3 || parts[0] != "ocf" || !reService.MatchString(parts[1]) || !reService.MatchString(parts[2]) ||
					strings.ContainsAny(parts[1]+parts[2], "/") {
					d.errorf(e, el+"/agent", "%q must be ocf:<provider>:<agent>", agent)
				} else {
					r.Provider, r.Agent = parts[1], parts[2]
				}
			}
			names := map[string]bool{}
			for _, pe := range children(e, "param") {
				p := Param{Line: d.line(pe)}
				p.Name, _ = attr(pe, "name")
				p.Value, _ = attr(pe, "value")
				switch {
				case !reParam.MatchString(p.Name):
					d.errorf(pe, el+"/param", "name %q is not a parameter name", p.Name)
				case names[p.Name]:
					d.errorf(pe, el+"/param", "parameter %s given twice", p.Name)
				default:
					names[p.Name] = true
					r.Params = append(r.Params, p)
				}
			}
		default:
			d.errorf(e, "resources/"+r.Kind, "unknown resource kind %q (crontab, service, user, mount or ocf)", e.Tag)
			continue
		}
		durations(d, e, el, &r)
		a.Resources = append(a.Resources, r)
	}
}

// durations reads the attributes every kind shares.
func durations(d *doc, e *etreeElement, el string, r *Resource) {
	for _, f := range []struct {
		name string
		dst  *time.Duration
		zero bool // 0 allowed
	}{{"interval", &r.Interval, true}, {"timeout", &r.Timeout, false}, {"window", &r.Window, false}} {
		if v, ok := attr(e, f.name); ok && v != "" {
			dur, err := seconds(v)
			if err != nil || dur == 0 && !f.zero {
				d.errorf(e, el+"/"+f.name, "%q must be a positive number of seconds", v)
				continue
			}
			*f.dst = dur
		}
	}
	if r.Interval != 0 && (r.Interval < 500*time.Millisecond || r.Interval > time.Hour) {
		// Lems's own bounds on a check's interval (lems.local.xml(5)).
		d.errorf(e, el+"/interval", "%v must be 0 or between 0.5 and 3600 seconds", r.Interval)
	}
	if v, ok := attr(e, "restarts"); ok && v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 1000 {
			d.errorf(e, el+"/restarts", "%q must be a count (0-1000)", v)
		} else {
			r.Restarts = n
		}
	}
	if r.Kind == KindUser && r.Ensure == "" && r.Interval > 0 {
		d.errorf(e, el+"/interval", "a user application is watched through its ensure script; give one")
	}
}

// programs splits DRCM's "prog1; prog2" lists (seed 000, CM_APPLICATIONS).
func programs(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ";") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
