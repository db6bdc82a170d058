package config

import (
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"
)

// Cluster is clconf.xml (Reference §7.2.1, L1478-1600).
type Cluster struct {
	File string // where it was read from, for messages

	Name         string // global/name: alphanumeric, no spaces (L1524)
	Version      string // global/version: must be "0.3" (L1525)
	Data         string // global/data: "replicated" (L1526)
	DataDetail   string // global/datadetail: "drbd", or "filesync" (DESIGN §6) for kernels without DRBD
	DataProtocol string // global/dataprotocol: A, B or C; "" in XML means C (L1528)
	LogDir       string // global/logdir: default /var/log/cluster; changing it is unsupported (L1529)
	Key          string // global/key: alphanumeric, no spaces or periods (L1530)
	Port         int    // global/port: cldaemon port (L1531)
	ClPort       int    // global/clport: cllockd port; 0 disables locking (L1534-1537)
	ClnetdPort   int    // global/clnetdport: clnetd port; 0 disables network fail-over (L1538)
	PortPoolMin  int    // global/portpool "min,max", inclusive (L1532)
	PortPoolMax  int
	MaxBlockDevs int    // global/maxblockdevs: DRBD minors 0..N-1 (L1533)
	DRBDNetwork  string // global/drbd_network: a network both nodes define (L1539)
	EchoType     string // global/echotype: ICMP (default), UDP or TCP (L1540)
	// Fence is global/fence: a command run before taking over from a
	// node declared dead, with %n replaced by that node's name; the
	// takeover goes ahead only once it exits 0 (retried until then).
	// Empty: no fencing.
	Fence []string
	// ReachList is global/reachlist: hosts both nodes should reach; a
	// node that reaches fewer than half of them when the other falls
	// silent stands down instead of taking over (seed 004).
	ReachList []string
	Framing   string // global/framing: "authenticated" (default) or "legacy" (the Reference's frame, DESIGN §4)
	// LogZone is global/logzone (not in the Reference): yes puts the
	// time zone's offset after the time in every log line.
	LogZone bool
	// Metrics is global/metrics: the address cldaemon serves Prometheus
	// metrics on ("" = off); a bare port listens on loopback.
	Metrics string
	// Alerts is the <alerts> section: agents run on the cluster's events.
	Alerts Alerts

	Keepalive   time.Duration // timings/keepalive: default 3 s (L1547)
	Warn        time.Duration // timings/warn: default 2 x keepalive (L1548)
	Dead        time.Duration // timings/dead: default 4 x keepalive (L1549)
	ClusterForm time.Duration // timings/clusterform: default 300 s (L2748)

	// Membership is the <membership> section: the Reference's two-node
	// heartbeat unless it says etcd.
	Membership Membership

	Nodes []Node // two; with etcd, as many as its variant allows
}

// Node is one <node> element.
type Node struct {
	Name     string
	Networks []Network
}

// Network is a logical network of one node: a name and its cards.
type Network struct {
	Name      string
	Cards     []string
	Crossover bool // attribute="crossover": no link-level checks (FAQ 3.3)
}

// DefaultCluster returns the values used for every optional element.
func DefaultCluster() *Cluster {
	return &Cluster{
		DataProtocol: "C",                // safest DRBD protocol (L1528)
		LogDir:       "/var/log/cluster", // the only supported value (L1529)
		EchoType:     "ICMP",             // L1540
		ClusterForm:  300 * time.Second,  // L2748
		Framing:      "authenticated",    // DESIGN §4
	}
}

// Ports returns the number of ports in the pool.
func (c *Cluster) Ports() int { return c.PortPoolMax - c.PortPoolMin + 1 }

// Node returns the node with the given name.
func (c *Cluster) Node(name string) (*Node, bool) {
	for i := range c.Nodes {
		if c.Nodes[i].Name == name {
			return &c.Nodes[i], true
		}
	}
	return nil, false
}

// Peer returns the node that is not name.
func (c *Cluster) Peer(name string) (*Node, bool) {
	if _, ok := c.Node(name); !ok || len(c.Nodes) != 2 {
		return nil, false
	}
	for i := range c.Nodes {
		if c.Nodes[i].Name != name {
			return &c.Nodes[i], true
		}
	}
	return nil, false
}

// Network returns the node's network of that name.
func (n *Node) Network(name string) (*Network, bool) {
	for i := range n.Networks {
		if n.Networks[i].Name == name {
			return &n.Networks[i], true
		}
	}
	return nil, false
}

// Cards lists every card of the node in configuration order.
func (n *Node) Cards() []string {
	var out []string
	for _, nw := range n.Networks {
		out = append(out, nw.Cards...)
	}
	return out
}

// The patterns bound lengths outside the expression: a counted repetition
// such as {0,252} compiles into that many copies of its class (the host
// pattern alone cost 280 KB and 4,000 allocations in every command's
// initialisation, and stayed in cldaemon's heap).
var (
	reWord   = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	reKey    = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	reHost   = bounded{regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.-]*$`), 253}
	reIfName = bounded{regexp.MustCompile(`^[A-Za-z0-9_.@-]+$`), 15}
	// An application name is a directory of /etc/cluster and a word in
	// requests and remote commands: the Reference's characters, no "/",
	// no leading "." (so never "." or ".."), at most 64 of them.
	reAppName = bounded{regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9_.-]*$`), 64}
)

// bounded is a pattern and the most bytes a match may have.
type bounded struct {
	re  *regexp.Regexp
	max int
}

// MatchString reports whether s has at most b.max bytes and matches b.re.
func (b bounded) MatchString(s string) bool {
	return len(s) <= b.max && b.re.MatchString(s)
}

// ValidInterfaceName reports whether s can name a Linux network interface
// (any name, not only ethN: 1-15 bytes, no '/', ':' or white space).
func ValidInterfaceName(s string) bool {
	return reIfName.MatchString(s) && s != "." && s != ".."
}

// LoadCluster reads and validates clconf.xml. Warnings (problems that do
// not stop the cluster, such as maxblockdevs < 10, L1660) come back
// alongside a nil error.
func LoadCluster(path string) (*Cluster, Problems, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, nil, err
	}
	return ParseCluster(path, data)
}

// ParseCluster parses clconf.xml bytes; file names the source in messages.
func ParseCluster(file string, data []byte) (*Cluster, Problems, error) {
	d, err := parseDoc(file, data, "clconf")
	if err != nil {
		return nil, nil, err
	}
	c := DefaultCluster()
	c.File = file
	g := children(d.root, "global")
	if len(g) == 0 {
		d.errorf(d.root, "clconf", "missing <global> section")
		return nil, d.warnings, d.errs.err()
	}
	gl := g[0]
	req := func(name string) (string, bool) {
		v, e := child(gl, name)
		if e == nil || v == "" {
			d.errorf(gl, "global/"+name, "required value missing")
			return "", false
		}
		return v, true
	}
	port := func(name string, required bool) int {
		v, e := child(gl, name)
		if e == nil || v == "" {
			if required {
				d.errorf(gl, "global/"+name, "required value missing")
			}
			return 0
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 65535 {
			d.errorf(e, "global/"+name, "%q is not a TCP port (1-65535)", v)
			return 0
		}
		return n
	}

	if v, ok := req("name"); ok {
		if !reWord.MatchString(v) {
			d.errorf(elem(gl, "name"), "global/name", "%q must be alphanumeric with no spaces", v)
		}
		c.Name = v
	}
	if v, ok := req("version"); ok {
		if v != "0.3" {
			d.errorf(elem(gl, "version"), "global/version", "%q is not supported; the configuration format version must be 0.3", v)
		}
		c.Version = v
	}
	if v, ok := req("data"); ok {
		switch strings.ToLower(v) {
		case "replicated":
			c.Data = "replicated"
		case "shared":
			d.errorf(elem(gl, "data"), "global/data", "shared storage is not supported; use \"replicated\"")
		default:
			d.errorf(elem(gl, "data"), "global/data", "%q is not valid; use \"replicated\"", v)
		}
	}
	if v, ok := req("datadetail"); ok {
		switch strings.ToLower(v) {
		case "drbd", "filesync":
			c.DataDetail = strings.ToLower(v)
		case "enbd", "nbd":
			d.errorf(elem(gl, "datadetail"), "global/datadetail", "%q is no longer valid; use \"drbd\" (or \"filesync\")", v)
		default:
			d.errorf(elem(gl, "datadetail"), "global/datadetail", "%q is not valid; use \"drbd\" or \"filesync\"", v)
		}
	}
	if v, e := child(gl, "dataprotocol"); e != nil {
		switch strings.ToUpper(v) {
		case "A", "B", "C":
			c.DataProtocol = strings.ToUpper(v)
		default:
			d.errorf(e, "global/dataprotocol", "%q must be A, B or C", v)
		}
	}
	if v, e := child(gl, "logdir"); e != nil && v != "" {
		if !strings.HasPrefix(v, "/") {
			d.errorf(e, "global/logdir", "%q must be an absolute path", v)
		}
		c.LogDir = v
	}
	if v, ok := req("key"); ok {
		if !reKey.MatchString(v) {
			d.errorf(elem(gl, "key"), "global/key", "must be alphanumeric with no spaces or periods")
		}
		c.Key = v
	}
	c.Port = port("port", true)
	c.ClPort = port("clport", false)
	c.ClnetdPort = port("clnetdport", false)
	if v, ok := req("portpool"); ok {
		parts := strings.Split(v, ",")
		lo, err1 := strconv.Atoi(strings.TrimSpace(parts[0]))
		var hi int
		var err2 error
		if len(parts) == 2 {
			hi, err2 = strconv.Atoi(strings.TrimSpace(parts[1]))
		}
		switch {
		case len(parts) != 2 || err1 != nil || err2 != nil:
			d.errorf(elem(gl, "portpool"), "global/portpool", "%q must be \"min,max\"", v)
		case lo < 1 || hi > 65535 || lo > hi:
			d.errorf(elem(gl, "portpool"), "global/portpool", "%q is not a range of TCP ports", v)
		case hi-lo+1 < 10:
			d.errorf(elem(gl, "portpool"), "global/portpool", "%q holds %d ports; at least 10 are required", v, hi-lo+1)
		default:
			c.PortPoolMin, c.PortPoolMax = lo, hi
			if hi-lo+1 < 50 {
				d.warnf(elem(gl, "portpool"), "global/portpool", "%q holds %d ports; at least 50 are recommended", v, hi-lo+1)
			}
		}
	}
	for _, p := range []struct {
		name string
		v    int
	}{{"port", c.Port}, {"clport", c.ClPort}, {"clnetdport", c.ClnetdPort}} {
		if p.v != 0 && c.PortPoolMin != 0 && p.v >= c.PortPoolMin && p.v <= c.PortPoolMax {
			d.errorf(elem(gl, p.name), "global/"+p.name, "port %d lies inside the portpool", p.v)
		}
	}
	if c.Port != 0 && (c.Port == c.ClPort || c.Port == c.ClnetdPort) || c.ClPort != 0 && c.ClPort == c.ClnetdPort {
		d.errorf(gl, "global", "port, clport and clnetdport must all differ")
	}
	if v, ok := req("maxblockdevs"); ok {
		n, err := strconv.Atoi(v)
		switch {
		case err != nil || n < 1 || n > 65535:
			d.errorf(elem(gl, "maxblockdevs"), "global/maxblockdevs", "%q must be a number of devices (1-65535)", v)
		default:
			c.MaxBlockDevs = n
			if n < 10 {
				d.warnf(elem(gl, "maxblockdevs"), "global/maxblockdevs", "only %d block devices; at least 10 are recommended", n)
			}
		}
	}
	if v, ok := req("drbd_network"); ok {
		c.DRBDNetwork = v
	}
	if v, e := child(gl, "echotype"); e != nil && v != "" {
		switch strings.ToUpper(v) {
		case "ICMP", "UDP", "TCP":
			c.EchoType = strings.ToUpper(v)
		default:
			d.errorf(e, "global/echotype", "%q must be ICMP, UDP or TCP", v)
		}
	}

	if v, _ := child(gl, "fence"); v != "" {
		c.Fence = strings.Fields(v)
	}
	if v, _ := child(gl, "reachlist"); v != "" {
		c.ReachList = splitList(v)
	}

	if v, e := child(gl, "framing"); e != nil && v != "" {
		switch strings.ToLower(v) {
		case "authenticated", "legacy":
			c.Framing = strings.ToLower(v)
		default:
			d.errorf(e, "global/framing", "%q must be authenticated or legacy", v)
		}
	}

	if v, e := child(gl, "logzone"); e != nil && v != "" {
		b, err := yesNo(v)
		if err != nil {
			d.errorf(e, "global/logzone", "%v", err)
		}
		c.LogZone = b
	}

	if v, e := child(gl, "metrics"); e != nil && v != "" {
		if addr, err := metricsAddr(v); err != nil {
			d.errorf(e, "global/metrics", "%v", err)
		} else {
			c.Metrics = addr
		}
	}

	parseTimings(d, c)
	parseAlerts(d, c)
	parseMembership(d, c)
	parseNodes(d, c)
	return c.finish(d)
}

func (c *Cluster) finish(d *doc) (*Cluster, Problems, error) {
	if err := d.errs.err(); err != nil {
		return nil, d.warnings, err
	}
	return c, d.warnings, nil
}

func elem(parent *etreeElement, name string) *etreeElement {
	_, e := child(parent, name)
	return e
}

func parseTimings(d *doc, c *Cluster) {
	ts := children(d.root, "timings")
	var t *etreeElement
	if len(ts) > 0 {
		t = ts[0]
	}
	get := func(name string) (time.Duration, bool) {
		v, e := child(t, name)
		if e == nil || v == "" {
			return 0, false
		}
		dur, err := seconds(v)
		if err != nil || dur <= 0 {
			d.errorf(e, "timings/"+name, "%q must be a positive number of seconds", v)
			return 0, false
		}
		return dur, true
	}
	c.Keepalive = 3 * time.Second
	if v, ok := get("keepalive"); ok {
		c.Keepalive = v
	}
	c.Warn = 2 * c.Keepalive
	if v, ok := get("warn"); ok {
		c.Warn = v
	}
	c.Dead = 4 * c.Keepalive
	if v, ok := get("dead"); ok {
		c.Dead = v
	}
	if v, ok := get("clusterform"); ok {
		c.ClusterForm = v
	}
	if c.Warn < c.Keepalive {
		d.errorf(t, "timings/warn", "warn (%v) must not be shorter than keepalive (%v)", c.Warn, c.Keepalive)
	}
	if c.Dead <= c.Warn {
		d.errorf(t, "timings/dead", "dead (%v) must be longer than warn (%v)", c.Dead, c.Warn)
	}
	if c.Dead < 2*c.Keepalive {
		d.errorf(t, "timings/dead", "dead (%v) must be at least twice keepalive (%v)", c.Dead, c.Keepalive)
	}
}

func parseNodes(d *doc, c *Cluster) {
	nodes := children(d.root, "node")
	if len(nodes) != 2 && !c.Membership.Etcd() {
		d.errorf(d.root, "node", "exactly two <node> sections are required, found %d (more take <membership mode=\"etcd\">)", len(nodes))
	}
	for _, ne := range nodes {
		var n Node
		name, e := child(ne, "name")
		switch {
		case e == nil || name == "":
			d.errorf(ne, "node/name", "required value missing")
		case !reHost.MatchString(name):
			d.errorf(e, "node/name", "%q is not a valid host name", name)
		}
		n.Name = name
		if _, dup := c.Node(name); dup && name != "" {
			d.errorf(ne, "node/name", "node %q is defined twice", name)
		}
		where := "node " + name
		seen := map[string]string{} // card -> network
		for _, we := range children(ne, "network") {
			var nw Network
			nw.Name, _ = attr(we, "name")
			if nw.Name == "" || !reWord.MatchString(nw.Name) {
				d.errorf(we, where+"/network", "name %q must be a single word", nw.Name)
			}
			if _, dup := n.Network(nw.Name); dup {
				d.errorf(we, where+"/network "+nw.Name, "network defined twice")
			}
			if a, ok := attr(we, "attribute"); ok {
				if strings.EqualFold(a, "crossover") {
					nw.Crossover = true
				} else if a != "" {
					d.errorf(we, where+"/network "+nw.Name, "attribute %q is not known (only \"crossover\")", a)
				}
			}
			cards, _ := attr(we, "cards")
			nw.Cards = splitList(cards)
			if len(nw.Cards) == 0 {
				d.errorf(we, where+"/network "+nw.Name, "at least one card is required")
			}
			for _, card := range nw.Cards {
				if !ValidInterfaceName(card) {
					d.errorf(we, where+"/network "+nw.Name, "%q is not a valid interface name", card)
				}
				if other, dup := seen[card]; dup {
					d.errorf(we, where+"/network "+nw.Name, "card %s is already used by network %s; a card may belong to one network only", card, other)
				}
				seen[card] = nw.Name
			}
			n.Networks = append(n.Networks, nw)
		}
		if len(n.Networks) == 0 {
			d.errorf(ne, where, "at least one network must be defined")
		}
		c.Nodes = append(c.Nodes, n)
	}
	if len(c.Nodes) < 2 || len(c.Nodes) != len(nodes) {
		return
	}
	a, all := netNames(c.Nodes[0]), "every node"
	if len(c.Nodes) == 2 {
		all = "both nodes"
	}
	for i := 1; i < len(c.Nodes); i++ {
		if b := netNames(c.Nodes[i]); strings.Join(a, ",") != strings.Join(b, ",") {
			d.errorf(nodes[i], "node "+c.Nodes[i].Name, "%s must define the same logical networks: %s has %s, %s has %s",
				all, c.Nodes[0].Name, strings.Join(a, ","), c.Nodes[i].Name, strings.Join(b, ","))
		}
	}
	if c.DRBDNetwork != "" {
		for i, n := range c.Nodes {
			if _, ok := n.Network(c.DRBDNetwork); !ok {
				d.errorf(nodes[i], "global/drbd_network", "network %q is not defined for node %s", c.DRBDNetwork, n.Name)
			}
		}
	}
}

func netNames(n Node) []string {
	var out []string
	for _, nw := range n.Networks {
		out = append(out, nw.Name)
	}
	sort.Strings(out)
	return out
}

// String is a short description for logs.
func (c *Cluster) String() string {
	return fmt.Sprintf("cluster %s (%s/%s, nodes %s)", c.Name, c.Data, c.DataDetail, strings.Join(c.NodeNames(), ","))
}

// NodeNames lists the node names in configuration order.
func (c *Cluster) NodeNames() []string {
	var out []string
	for _, n := range c.Nodes {
		out = append(out, n.Name)
	}
	return out
}

// ThisHost is this host's name up to the first dot, as nodes are
// usually named. Code that has the cluster's configuration asks
// (*Cluster).ThisNode instead, which also finds a node named with its
// domain.
func ThisHost() string {
	host, _ := os.Hostname()
	host, _, _ = strings.Cut(host, ".")
	return host
}

// ThisNode is the name this host has in the cluster: its full host name
// when a node is named so (clconf.xml allows "servera.example.com"),
// else its name up to the first dot. When neither is a node the short
// name is returned, for messages that say so.
func (c *Cluster) ThisNode() string {
	host, _ := os.Hostname()
	return c.nodeNamed(host)
}

// nodeNamed is ThisNode for a given host name.
func (c *Cluster) nodeNamed(host string) string {
	if _, ok := c.Node(host); ok {
		return host
	}
	short, _, _ := strings.Cut(host, ".")
	if _, ok := c.Node(short); ok {
		return short
	}
	// A host whose name has no domain on a node named with one.
	var found []string
	for _, n := range c.Nodes {
		if first, _, _ := strings.Cut(n.Name, "."); first == short {
			found = append(found, n.Name)
		}
	}
	if len(found) == 1 {
		return found[0]
	}
	return short
}

// CheckAppName refuses a name that cannot be an application's: every
// entry point that takes one (-A, app= in requests, appconf.xml, fsmap)
// checks it here.
func CheckAppName(name string) error {
	if !reAppName.MatchString(name) {
		return fmt.Errorf("invalid application name %q: letters, digits, '_', '-' and '.' only, not starting with '.', at most 64", name)
	}
	return nil
}

var reMountPart = regexp.MustCompile(`^[A-Za-z0-9_+@,=-][A-Za-z0-9_.+@,=-]*$`)

// CheckMountPath refuses a mount point or replicated directory that is
// not a plain absolute path: each component made of letters, digits and
// "_.+@,=-", none "." or "..". Such paths reach rsync's remote side, a
// remote shell and mount(8), where ';', '$', '`', '|', spaces or ".."
// would mean something else.
func CheckMountPath(p string) error {
	if !strings.HasPrefix(p, "/") || p == "/" {
		return fmt.Errorf("mount %q must be an absolute path other than /", p)
	}
	for _, part := range strings.Split(p[1:], "/") {
		if !reMountPart.MatchString(part) {
			return fmt.Errorf("mount %q: component %q may hold only letters, digits and _.+@,=- and must not start with '.'", p, part)
		}
	}
	return nil
}

// LegacyWarning is what every tool and daemon says under legacy framing.
const LegacyWarning = "global/framing is legacy: frames are neither authenticated nor bound to their recipient, so a captured frame can be replayed at any time (SECURITY.md)"

// metricsAddr reads global/metrics: "9901" (loopback) or "host:port".
func metricsAddr(v string) (string, error) {
	host, port, err := net.SplitHostPort(v)
	if err != nil {
		host, port = "127.0.0.1", v
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("%q must be a port (1-65535) or host:port", v)
	}
	return net.JoinHostPort(host, port), nil
}

// Alerts is the <alerts> section (not in the Reference): on each event of
// the cluster the agents run with Pacemaker's alert environment, mail
// goes to a relay and webhooks are posted, at most one alert of a kind per
// Period (DRCM, seed 000: four hours).
type Alerts struct {
	Period   time.Duration
	Agents   []AlertAgent
	Mail     []AlertMail
	Webhooks []AlertWebhook
}

// Any reports whether anything is to be alerted.
func (a Alerts) Any() bool { return len(a.Agents)+len(a.Mail)+len(a.Webhooks) > 0 }

// AlertAgent is one <agent path= recipient= timeout=/>.
type AlertAgent struct {
	Path      string        // an executable, run with CRM_alert_* set
	Recipient string        // CRM_alert_recipient: a file, an address, whatever the agent takes
	Timeout   time.Duration // it is killed after this long
}

// AlertMail is one <mail relay= from= to= starttls= timeout=/>: a message
// handed to an SMTP relay, as keepalived's smtp_server and
// notification_email do.
type AlertMail struct {
	Relay    string   // host:port (port 25 when none is given)
	From     string   // empty: linuxha@<this node>
	To       []string // one or more addresses
	StartTLS bool     // upgrade when the relay offers STARTTLS (default yes; the relay's certificate is checked)
	Timeout  time.Duration
}

// AlertWebhook is one <webhook url= timeout=/>: the event POSTed as JSON.
type AlertWebhook struct {
	URL     string // http:// or https://
	Timeout time.Duration
}

func parseAlerts(d *doc, c *Cluster) {
	c.Alerts.Period = 4 * time.Hour
	as := children(d.root, "alerts")
	if len(as) == 0 {
		return
	}
	a := as[0]
	if v, ok := attr(a, "period"); ok {
		p, err := time.ParseDuration(v)
		if err != nil || p < 0 {
			d.errorf(a, "alerts/period", "%q must be a duration such as 4h or 30m", v)
		} else {
			c.Alerts.Period = p
		}
	}
	for _, e := range children(a, "agent") {
		ag := AlertAgent{}
		ag.Path, _ = attr(e, "path")
		if !strings.HasPrefix(ag.Path, "/") {
			d.errorf(e, "alerts/agent/path", "%q must be an absolute path", ag.Path)
			continue
		}
		ag.Recipient, _ = attr(e, "recipient")
		var ok bool
		if ag.Timeout, ok = alertTimeout(d, e, "agent", 30*time.Second); ok {
			c.Alerts.Agents = append(c.Alerts.Agents, ag)
		}
	}
	for _, e := range children(a, "mail") {
		if m, ok := parseMail(d, e); ok {
			c.Alerts.Mail = append(c.Alerts.Mail, m)
		}
	}
	for _, e := range children(a, "webhook") {
		w := AlertWebhook{}
		w.URL, _ = attr(e, "url")
		if u, err := url.Parse(w.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			d.errorf(e, "alerts/webhook/url", "%q must be an http:// or https:// address", w.URL)
			continue
		}
		var ok bool
		if w.Timeout, ok = alertTimeout(d, e, "webhook", 10*time.Second); ok {
			c.Alerts.Webhooks = append(c.Alerts.Webhooks, w)
		}
	}
}

func parseMail(d *doc, e *etree.Element) (AlertMail, bool) {
	m := AlertMail{StartTLS: true}
	m.Relay, _ = attr(e, "relay")
	if m.Relay == "" {
		d.errorf(e, "alerts/mail/relay", "the SMTP relay (host or host:port) is missing")
		return m, false
	}
	if _, _, err := net.SplitHostPort(m.Relay); err != nil {
		m.Relay = net.JoinHostPort(m.Relay, "25")
	}
	if _, port, _ := net.SplitHostPort(m.Relay); port == "" {
		d.errorf(e, "alerts/mail/relay", "%q must be a host or host:port", m.Relay)
		return m, false
	}
	if v, ok := attr(e, "from"); ok {
		if _, err := mail.ParseAddress(v); err != nil {
			d.errorf(e, "alerts/mail/from", "%q is not a mail address", v)
			return m, false
		}
		m.From = v
	}
	to, _ := attr(e, "to")
	for _, r := range strings.Split(to, ",") {
		if r = strings.TrimSpace(r); r == "" {
			continue
		}
		if _, err := mail.ParseAddress(r); err != nil {
			d.errorf(e, "alerts/mail/to", "%q is not a mail address", r)
			return m, false
		}
		m.To = append(m.To, r)
	}
	if len(m.To) == 0 {
		d.errorf(e, "alerts/mail/to", "at least one recipient is needed")
		return m, false
	}
	if v, ok := attr(e, "starttls"); ok {
		b, err := yesNo(v)
		if err != nil {
			d.errorf(e, "alerts/mail/starttls", "%v", err)
			return m, false
		}
		m.StartTLS = b
	}
	var ok bool
	m.Timeout, ok = alertTimeout(d, e, "mail", 30*time.Second)
	return m, ok
}

// alertTimeout reads a timeout= in seconds (def when absent).
func alertTimeout(d *doc, e *etree.Element, kind string, def time.Duration) (time.Duration, bool) {
	v, ok := attr(e, "timeout")
	if !ok {
		return def, true
	}
	t, err := seconds(v)
	if err != nil || t <= 0 {
		d.errorf(e, "alerts/"+kind+"/timeout", "%q must be a positive number of seconds", v)
		return 0, false
	}
	return t, true
}
