package config

import (
	"fmt"
	"net/netip"
	"path"
	"strconv"
	"strings"
	"time"
)

// App is an application's appconf.xml (L1900-1996, L3775-3821, L5772-5800).
type App struct {
	File string

	Version       string   // global/version (0.1 and 0.2 are both seen)
	Name          string   // global/name: the directory name, no white space
	Takeover      string   // global/takeover: "normal" (default, also for bad values) or "force" (L1963)
	SyncRate      int      // global/syncrate: KB/s per device, default 1000 (L1964)
	Autostart     bool     // global/autostart: true/false/yes/no, default false (L1965, L5796)
	Dependencies  []string // global/dependencies: applications to start first (L1966)
	PreferredNode string   // global/preferred_node: node, LEAST_APP_LOAD or LEAST_CPU_LOAD (L5795); "" = none
	// Backups is global/backup_nodes: where the application goes when
	// its node fails, in order (DRCM's node_backup_* lists). With two
	// nodes it can only be the other node, which is the default; the
	// N-node mode places by it.
	Backups []string

	Networks []AppNetwork
	VGs      []VG

	StartScript  []string      // application/startscript: path then arguments (L1996)
	StopScript   []string      // application/stopscript
	MaxStartTime time.Duration // application/maxstarttime: default 30 s (L6820-6822)
	MaxStopTime  time.Duration // application/maxstoptime: default 30 s

	// Resources are the <resources> members in start order (crontabs,
	// services, user applications, client mounts, OCF agents).
	Resources []Resource

	// Lines holds where elements are written, so that checks made after
	// parsing (clbuildapp's, CheckAgainst) name the line too: keys are
	// the Problem elements "global/name", "global/version",
	// "global/preferred_node", "network NET", "vg VG", "vg VG/lv LV" and
	// "application/maxstarttime" or "application/maxstoptime".
	Lines map[string]int
}

// Problemf is a problem with the element, at the line it is written on.
func (a *App) Problemf(elem, format string, args ...any) *Problem {
	return &Problem{File: a.File, Line: a.Lines[elem], Element: elem, Text: fmt.Sprintf(format, args...)}
}

// AppNetwork is one <network> of an application.
type AppNetwork struct {
	Net          string       // a network of the cluster topology
	IPs          []netip.Addr // expanded: lists and ranges a.b.c.d-e (FAQ 5.7)
	Netmask      netip.Addr   // zero = the network's default
	Broadcast    netip.Addr   // zero = the default broadcast
	Checklist    []string     // hosts pinged to check the network; none = no IP checks (L1976)
	CheckPercent int          // percent of checklist that must answer; default 100, 0 = off (L1977)
	PingType     string       // icmp (default), udp or tcp (L3803)
	PingTimeout  time.Duration
}

// VG is one replicated volume group.
type VG struct {
	Name string // without /dev (L1990)
	Type string // "filesystems" (L1991), or "directories" for datadetail filesync
	Dirs []Dir  // type directories: the replicated directories
}

// Dir is one directory a filesync application replicates, named like a
// logical volume so that the fsmap, resource flags and STALE flags keep
// their Reference formats (DESIGN §6).
type Dir struct {
	LV   string // <lv name="...">
	Path string // <lv mount="...">: absolute, without ':'
}

// Preferred-node keywords (L5795).
const (
	LeastAppLoad = "LEAST_APP_LOAD"
	LeastCPULoad = "LEAST_CPU_LOAD"
)

// DefaultApp returns the values used for every optional element.
func DefaultApp() *App {
	return &App{
		Takeover:     "normal",
		SyncRate:     1000,
		MaxStartTime: 30 * time.Second,
		MaxStopTime:  30 * time.Second,
	}
}

// LoadApp reads and validates an appconf.xml.
func LoadApp(path string) (*App, Problems, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, nil, err
	}
	return ParseApp(path, data)
}

// ParseApp parses appconf.xml bytes.
func ParseApp(file string, data []byte) (*App, Problems, error) {
	d, err := parseDoc(file, data, "appconf")
	if err != nil {
		return nil, nil, err
	}
	a := DefaultApp()
	a.File = file
	a.Lines = map[string]int{}
	gs := children(d.root, "global")
	if len(gs) == 0 {
		d.errorf(d.root, "appconf", "missing <global> section")
		return nil, d.warnings, d.errs.err()
	}
	g := gs[0]
	if v, e := child(g, "version"); e == nil || v == "" {
		d.errorf(g, "global/version", "required value missing")
	} else if _, err := strconv.ParseFloat(v, 64); err != nil {
		d.errorf(e, "global/version", "%q is not a version number", v)
	} else {
		a.Version = v
		a.Lines["global/version"] = d.line(e)
	}
	if v, e := child(g, "name"); e == nil || v == "" {
		d.errorf(g, "global/name", "required value missing")
	} else if !reAppName.MatchString(v) {
		d.errorf(e, "global/name", "%q must be a single word (it names the application's directory)", v)
	} else {
		a.Name = v
		a.Lines["global/name"] = d.line(e)
	}
	if v, e := child(g, "takeover"); e != nil {
		switch strings.ToLower(v) {
		case "normal", "force":
			a.Takeover = strings.ToLower(v)
		default:
			d.warnf(e, "global/takeover", "%q is not normal or force; using normal", v)
		}
	}
	if v, e := child(g, "syncrate"); e != nil && v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10_000_000 {
			d.errorf(e, "global/syncrate", "%q must be a rate in KB/s (1-10000000)", v)
		} else {
			a.SyncRate = n
		}
	}
	if v, e := child(g, "autostart"); e != nil && v != "" {
		b, err := yesNo(v)
		if err != nil {
			d.errorf(e, "global/autostart", "%v", err)
		}
		a.Autostart = b
	}
	if v, e := child(g, "dependencies"); e != nil {
		for _, dep := range splitList(v) {
			if !reAppName.MatchString(dep) {
				d.errorf(e, "global/dependencies", "%q is not an application name", dep)
			}
			a.Dependencies = append(a.Dependencies, dep)
		}
	}
	if v, e := child(g, "preferred_node"); e != nil && v != "" {
		switch up := strings.ToUpper(v); up {
		case LeastAppLoad, LeastCPULoad:
			a.PreferredNode = up
		default:
			if !reHost.MatchString(v) {
				d.errorf(e, "global/preferred_node", "%q is neither a node name, LEAST_APP_LOAD nor LEAST_CPU_LOAD", v)
			}
			a.PreferredNode = v
		}
		a.Lines["global/preferred_node"] = d.line(e)
	}
	if v, e := child(g, "backup_nodes"); e != nil {
		for _, n := range splitList(v) {
			if !reHost.MatchString(n) {
				d.errorf(e, "global/backup_nodes", "%q is not a node name", n)
			}
			a.Backups = append(a.Backups, n)
		}
		a.Lines["global/backup_nodes"] = d.line(e)
	}
	for _, ns := range children(d.root, "networks") {
		for _, ne := range children(ns, "network") {
			n := parseAppNetwork(d, ne)
			a.Lines["network "+n.Net] = d.line(ne)
			a.Networks = append(a.Networks, n)
		}
	}
	for _, ve := range children(d.root, "vg") {
		var vg VG
		n, e := child(ve, "name")
		n = strings.TrimPrefix(n, "/dev/")
		if e == nil || n == "" || !reAppName.MatchString(n) {
			d.errorf(ve, "vg/name", "a volume group name is required")
		}
		vg.Name = n
		a.Lines["vg "+n] = d.line(ve)
		t, te := child(ve, "type")
		if te == nil || t == "" {
			t = "filesystems"
		} else if !strings.EqualFold(t, "filesystems") && !strings.EqualFold(t, "directories") {
			d.errorf(te, "vg/type", "%q is not supported; use \"filesystems\" (or \"directories\" with datadetail filesync)", t)
		}
		vg.Type = strings.ToLower(t)
		for _, le := range children(ve, "lv") {
			name, _ := attr(le, "name")
			mount, _ := attr(le, "mount")
			switch {
			case vg.Type != "directories":
				d.errorf(le, "vg/lv", "<lv> entries belong to a volume group of type directories")
			case !reAppName.MatchString(name):
				d.errorf(le, "vg/lv", "name %q is not a valid volume name", name)
			case CheckMountPath(mount) != nil:
				d.errorf(le, "vg/lv", "%v", CheckMountPath(mount))
			default:
				vg.Dirs = append(vg.Dirs, Dir{LV: name, Path: path.Clean(mount)})
				a.Lines["vg "+vg.Name+"/lv "+name] = d.line(le)
			}
		}
		if vg.Type == "directories" && len(vg.Dirs) == 0 {
			d.errorf(ve, "vg/lv", "a volume group of type directories needs at least one <lv name=\"…\" mount=\"/…\"/>")
		}
		for _, other := range a.VGs {
			if other.Name == vg.Name {
				d.errorf(ve, "vg/name", "volume group %s listed twice", vg.Name)
			}
		}
		a.VGs = append(a.VGs, vg)
	}
	if as := children(d.root, "application"); len(as) > 0 {
		ae := as[0]
		script := func(name string) []string {
			v, e := child(ae, name)
			if e == nil || v == "" {
				d.errorf(ae, "application/"+name, "required value missing")
				return nil
			}
			argv := strings.Fields(v)
			if !strings.HasPrefix(argv[0], "/") {
				d.errorf(e, "application/"+name, "%q must be an absolute path", argv[0])
			}
			return argv
		}
		a.StartScript = script("startscript")
		a.StopScript = script("stopscript")
		for _, lim := range []struct {
			name string
			dst  *time.Duration
		}{{"maxstarttime", &a.MaxStartTime}, {"maxstoptime", &a.MaxStopTime}} {
			if v, e := child(ae, lim.name); e != nil && v != "" {
				a.Lines["application/"+lim.name] = d.line(e)
				dur, err := seconds(v)
				if err != nil || dur <= 0 {
					d.errorf(e, "application/"+lim.name, "%q must be a positive number of seconds", v)
				} else {
					*lim.dst = dur
				}
			}
		}
	}
	parseResources(d, a)
	if err := d.errs.err(); err != nil {
		return nil, d.warnings, err
	}
	return a, d.warnings, nil
}

// Resource returns the member called name.
func (a *App) Resource(name string) (*Resource, bool) {
	for i := range a.Resources {
		if a.Resources[i].Name == name {
			return &a.Resources[i], true
		}
	}
	return nil, false
}

func parseAppNetwork(d *doc, ne *etreeElement) AppNetwork {
	n := AppNetwork{CheckPercent: 100, PingType: "icmp", PingTimeout: 2 * time.Second}
	n.Net, _ = attr(ne, "net")
	el := "network " + n.Net
	if n.Net == "" {
		d.errorf(ne, "network", "attribute net is required")
	}
	ips, _ := attr(ne, "ip")
	list, err := ParseIPList(ips)
	if err != nil {
		d.errorf(ne, el+"/ip", "%v", err)
	} else if len(list) == 0 {
		d.errorf(ne, el+"/ip", "at least one address is required")
	}
	n.IPs = list
	for _, f := range []struct {
		name string
		dst  *netip.Addr
	}{{"netmask", &n.Netmask}, {"broadcast", &n.Broadcast}} {
		if v, ok := attr(ne, f.name); ok && v != "" {
			a, err := netip.ParseAddr(v)
			if err != nil || !a.Is4() {
				d.errorf(ne, el+"/"+f.name, "%q is not a dotted-quad address", v)
			}
			*f.dst = a
		}
	}
	if n.Netmask.IsValid() {
		if _, err := MaskBits(n.Netmask); err != nil {
			d.errorf(ne, el+"/netmask", "%v", err)
		}
	}
	if v, ok := attr(ne, "checklist"); ok {
		n.Checklist = splitList(v)
	}
	if v, ok := attr(ne, "checkpercent"); ok && v != "" {
		p, err := strconv.Atoi(strings.TrimSuffix(v, "%"))
		if err != nil || p < 0 || p > 100 {
			d.errorf(ne, el+"/checkpercent", "%q must be between 0 and 100", v)
		} else {
			n.CheckPercent = p
		}
	}
	if v, ok := attr(ne, "pingtype"); ok && v != "" {
		switch strings.ToLower(v) {
		case "icmp", "udp", "tcp":
			n.PingType = strings.ToLower(v)
		default:
			d.errorf(ne, el+"/pingtype", "%q must be icmp, udp or tcp", v)
		}
	}
	if v, ok := attr(ne, "pingtimeout"); ok && v != "" {
		dur, err := seconds(v)
		if err != nil || dur <= 0 {
			d.errorf(ne, el+"/pingtimeout", "%q must be a positive number of seconds", v)
		} else {
			n.PingTimeout = dur
		}
	}
	return n
}

// MaxIPRange bounds one a.b.c.d-e range; larger ranges are mistakes.
const MaxIPRange = 256

// ParseIPList expands "AA.BB.CC.DD[, EE ...]" (L1973): items are full
// addresses, a last byte that reuses the previous address's first three
// ("172.16.1.10, 11"), or a range "a.b.c.d-e" of last bytes (FAQ 5.7).
func ParseIPList(s string) ([]netip.Addr, error) {
	var out []netip.Addr
	var prev netip.Addr
	seen := map[netip.Addr]bool{}
	add := func(a netip.Addr) error {
		if seen[a] {
			return fmt.Errorf("address %s listed twice", a)
		}
		seen[a] = true
		out = append(out, a)
		return nil
	}
	for _, item := range splitList(s) {
		base, last, isRange := strings.Cut(item, "-")
		var first netip.Addr
		if !strings.Contains(base, ".") {
			b, err := strconv.Atoi(base)
			if !prev.IsValid() || err != nil || b < 0 || b > 255 {
				return nil, fmt.Errorf("%q is not an IPv4 address", item)
			}
			p := prev.As4()
			p[3] = byte(b)
			first = netip.AddrFrom4(p)
		} else {
			a, err := netip.ParseAddr(base)
			if err != nil || !a.Is4() {
				return nil, fmt.Errorf("%q is not an IPv4 address", item)
			}
			first = a
		}
		if !isRange {
			if err := add(first); err != nil {
				return nil, err
			}
			prev = first
			continue
		}
		end, err := strconv.Atoi(last)
		b := first.As4()
		if err != nil || end < int(b[3]) || end > 255 {
			return nil, fmt.Errorf("range %q must end with a last byte not below its start", item)
		}
		if end-int(b[3])+1 > MaxIPRange {
			return nil, fmt.Errorf("range %q is too large", item)
		}
		for i := int(b[3]); i <= end; i++ {
			b[3] = byte(i)
			if err := add(netip.AddrFrom4(b)); err != nil {
				return nil, err
			}
		}
		prev = netip.AddrFrom4(b)
	}
	return out, nil
}

// MaskBits converts a dotted netmask into a prefix length.
func MaskBits(m netip.Addr) (int, error) {
	b := m.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	n := 0
	for v&0x80000000 != 0 {
		n++
		v <<= 1
	}
	if v != 0 {
		return 0, fmt.Errorf("%s is not a contiguous netmask", m)
	}
	return n, nil
}

// CheckAgainst validates what an application names in the cluster:
// networks of the topology (L2120) and a preferred node that exists.
func (a *App) CheckAgainst(c *Cluster) error {
	var ps Problems
	for _, n := range a.Networks {
		if len(c.Nodes) > 0 {
			if _, ok := c.Nodes[0].Network(n.Net); !ok {
				ps = append(ps, a.Problemf("network "+n.Net, "network is not defined in the cluster topology"))
			}
		}
	}
	if p := a.PreferredNode; p != "" && p != LeastAppLoad && p != LeastCPULoad {
		if _, ok := c.Node(p); !ok {
			ps = append(ps, a.Problemf("global/preferred_node", "%q is not a node of cluster %s", p, c.Name))
		}
	}
	seen := map[string]bool{}
	for _, b := range a.Backups {
		_, known := c.Node(b)
		switch {
		case !known:
			ps = append(ps, a.Problemf("global/backup_nodes", "%q is not a node of cluster %s", b, c.Name))
		case b == a.PreferredNode:
			ps = append(ps, a.Problemf("global/backup_nodes", "%q is the preferred node, not a backup", b))
		case seen[b]:
			ps = append(ps, a.Problemf("global/backup_nodes", "%q listed twice", b))
		}
		seen[b] = true
	}
	for _, vg := range a.VGs {
		if (vg.Type == "directories") != (c.DataDetail == "filesync") {
			ps = append(ps, a.Problemf("vg "+vg.Name,
				"type %s does not suit datadetail %s (drbd needs filesystems, filesync needs directories)", vg.Type, c.DataDetail))
		}
	}
	return ps.err()
}
