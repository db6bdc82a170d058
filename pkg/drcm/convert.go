package drcm

import (
	"errors"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/beevik/etree"

	"github.com/linuxha-ng/linuxha/pkg/config"
)

// Options are what cm.cfg does not say.
type Options struct {
	Cluster    string // cluster name
	Key        string // the cluster key (clbuild --genkey's kind)
	DataDetail string // "filesync" (default) or "drbd"
	LemsPort   int    // the first group's Lems port; each next group takes the next
}

// Result is the converted configuration.
type Result struct {
	Clconf []byte
	Groups []Group
	// Notes say what the conversion decided that an administrator should
	// know, one line each, naming the section and line.
	Notes []string
}

// Group is one application: the resources whose primary node is Node.
type Group struct {
	Name, Node string
	Appconf    []byte
	Lems       []byte
}

// kinds are DRCM's resource categories: the CM_NODE keys that list them
// (node_<key> for a node's own, node_backup_<key> for what it backs up)
// and their section.
// Their order is the members' start order: mounts before the services
// and programs that may use them, crontabs last, so that no job runs
// before what it works on.
var kinds = []struct{ key, section string }{
	{"floating_ip_addrs", "CM_IPADDRS"},
	{"filesystems", "CM_FILESYSTEMS"},
	{"services", "CM_SERVICES"},
	{"applications", "CM_APPLICATIONS"},
	{"crontabs", "CM_CRONTABS"},
}

// stockScripts are DRCM's own resource scripts, whose work the members
// of appconf.xml(5) do; a custom script has no counterpart.
var stockScripts = map[string]map[string]bool{
	"CM_CRONTABS":    {"crontab.sh": true},
	"CM_IPADDRS":     {"ipv4addr.sh": true},
	"CM_SERVICES":    {"service.sh": true},
	"CM_FILESYSTEMS": {"nfs.sh": true, "cifs.sh": true},
}

// Convert maps a two-node DRCM configuration onto linuxha: clconf.xml,
// and one application per node holding the resources that node runs as
// primary and the other backs up. A resource every node runs (DRCM's
// "run on all nodes") is not a fail-over resource: it is left to each
// node's own system and said so in a note. What has no counterpart is
// refused, one problem per line of cm.cfg.
func Convert(c *Config, o Options) (*Result, error) {
	var ps Problems
	bad := func(line int, where, format string, args ...any) {
		ps = append(ps, &Problem{File: c.File, Line: line, Where: where, Text: fmt.Sprintf(format, args...)})
	}
	res := &Result{}
	if len(c.Nodes) != 2 {
		line := 1
		if len(c.Nodes) > 2 {
			line = c.Nodes[2].Line
		}
		bad(line, "CM_NODE", "%d nodes: linuxha's two-node mode takes two (clusters of more nodes are the etcd mode's, issue 23)", len(c.Nodes))
		return nil, ps
	}
	byName := map[string]*Node{}
	for _, n := range c.Nodes {
		byName[n.Name()] = n
	}
	// A custom resource script does what no member can be told.
	for _, list := range [][]*Resource{c.Crontabs, c.IPAddrs, c.Services, c.Filesystems} {
		for _, r := range list {
			script := r.Fields[len(r.Fields)-1]
			if script != "" && !stockScripts[r.Section][path.Base(script)] {
				bad(r.Line, r.Section+" "+r.Nick(), "custom resource script %s has no counterpart: write it as the application's start and stop scripts or as an OCF agent", script)
			}
		}
	}
	members := map[string][]*Resource{} // node -> its group's members, in kind order
	for _, k := range kinds {
		everywhere := map[string]bool{}
		for _, nick := range c.Nodes[0].List("node_" + k.key) {
			if contains(c.Nodes[1].List("node_"+k.key), nick) {
				everywhere[nick] = true
			}
		}
		for _, n := range c.Nodes {
			v := n.Fields["node_"+k.key]
			for _, nick := range n.List("node_" + k.key) {
				r, ok := c.Find(k.section, nick)
				if !ok {
					bad(v.Line, "CM_NODE "+n.Name()+"/node_"+k.key, "no %s entry named %s", k.section, nick)
					continue
				}
				if everywhere[nick] {
					if n == c.Nodes[0] {
						res.Notes = append(res.Notes, fmt.Sprintf("%s:%d: %s %s runs on every node: not a fail-over resource, left to each node's system (enable it there)", c.File, r.Line, k.section, nick))
					}
					continue
				}
				members[n.Name()] = append(members[n.Name()], r)
			}
			bv := n.Fields["node_backup_"+k.key]
			for _, entry := range n.List("node_backup_" + k.key) {
				owner, nick, ok := strings.Cut(entry, ":")
				p, known := byName[owner]
				switch {
				case !ok:
					bad(bv.Line, "CM_NODE "+n.Name()+"/node_backup_"+k.key, "%q is not node:nickname", entry)
				case !known || p == n:
					bad(bv.Line, "CM_NODE "+n.Name()+"/node_backup_"+k.key, "%q does not name the other node", entry)
				case !contains(p.List("node_"+k.key), nick):
					bad(bv.Line, "CM_NODE "+n.Name()+"/node_backup_"+k.key, "%s does not run %s (its node_%s)", owner, nick, k.key)
				}
			}
		}
	}
	if len(ps) > 0 {
		return nil, ps
	}
	cards := map[string]bool{}
	port := o.LemsPort
	for _, n := range c.Nodes {
		rs := members[n.Name()]
		if len(rs) == 0 {
			continue
		}
		g, err := group(c, n, rs, o, port, cards)
		if err != nil {
			return nil, err
		}
		port++
		res.Groups = append(res.Groups, g)
	}
	clconf, err := clusterXML(c, o, cards)
	if err != nil {
		return nil, err
	}
	res.Clconf = clconf
	return res, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// nodeName is the node's linuxha name: its host name (uname -n, DRCM's
// hostname), else its DRCM nodename.
func nodeName(n *Node) string {
	if h := n.Fields["hostname"].Text; h != "" {
		return h
	}
	return n.Name()
}

func newDoc(comment, root string) (*etree.Document, *etree.Element) {
	d := etree.NewDocument()
	d.CreateProcInst("xml", `version="1.0"`)
	d.CreateComment(" " + comment + " ")
	return d, d.CreateElement(root)
}

func text(parent *etree.Element, tag, value string) {
	parent.CreateElement(tag).SetText(value)
}

// group writes the application of node n's resources.
func group(c *Config, n *Node, rs []*Resource, o Options, lemsPort int, cards map[string]bool) (Group, error) {
	g := Group{Name: n.Name() + "_group", Node: nodeName(n)}
	d, root := newDoc(fmt.Sprintf("Converted by clconvert from %s: the resources DRCM runs on %s, backed up by the other node.", c.File, n.Name()), "appconf")
	gl := root.CreateElement("global")
	text(gl, "version", "0.2")
	text(gl, "name", g.Name)
	text(gl, "takeover", "normal")
	text(gl, "autostart", "yes") // DRCM starts every resource with its server
	text(gl, "preferred_node", g.Node)
	for _, o := range c.Nodes {
		if o != n {
			text(gl, "backup_nodes", nodeName(o)) // two nodes: the other
		}
	}
	var ips, masks []string
	var res []*etree.Element
	for _, r := range rs {
		f := r.Fields
		var e *etree.Element
		switch r.Section {
		case "CM_IPADDRS":
			ips, masks = append(ips, f[1]), append(masks, f[2])
			card, _, _ := strings.Cut(f[3], ":") // eth0:1 -> eth0
			cards[card] = true
			continue
		case "CM_CRONTABS":
			e = etree.NewElement("crontab")
			e.CreateAttr("template", f[1])
			e.CreateAttr("target", f[2])
		case "CM_SERVICES":
			e = etree.NewElement("service")
			e.CreateAttr("service", f[1])
		case "CM_APPLICATIONS":
			e = etree.NewElement("user")
			e.CreateAttr("user", f[1])
			e.CreateAttr("start", f[2])
			e.CreateAttr("stop", f[3])
			if len(f) == 5 && f[4] != "" {
				e.CreateAttr("ensure", f[4])
			}
		case "CM_FILESYSTEMS":
			e = etree.NewElement("mount")
			e.CreateAttr("source", f[1])
			e.CreateAttr("target", f[2])
			fstype := "nfs"
			if path.Base(f[3]) == "cifs.sh" || strings.HasPrefix(f[1], "//") {
				fstype = "cifs"
			}
			e.CreateAttr("fstype", fstype)
		}
		e.CreateAttr("name", r.Nick())
		// name first, as people write it
		e.Attr = append(e.Attr[len(e.Attr)-1:], e.Attr[:len(e.Attr)-1]...)
		res = append(res, e)
	}
	if len(ips) > 0 {
		for _, m := range masks[1:] {
			if m != masks[0] {
				return g, fmt.Errorf("%s: the floating addresses of %s have different netmasks (%s): give them one network each by hand", c.File, n.Name(), strings.Join(masks, ", "))
			}
		}
		nets := root.CreateElement("networks")
		ne := nets.CreateElement("network")
		ne.CreateAttr("net", "public")
		ne.CreateAttr("ip", strings.Join(ips, ", "))
		ne.CreateAttr("netmask", masks[0])
	}
	app := root.CreateElement("application")
	text(app, "startscript", "/bin/true") // the members do the work
	text(app, "stopscript", "/bin/true")
	rse := root.CreateElement("resources")
	for _, e := range res {
		rse.AddChild(e)
	}
	d.Indent(2)
	data, err := d.WriteToBytes()
	if err != nil {
		return g, err
	}
	if _, _, err := config.ParseApp(g.Name+"/appconf.xml", data); err != nil {
		return g, sourceLines(c, rs, err)
	}
	g.Appconf = data
	ld, lroot := newDoc("Lems for "+g.Name+": its resources get their checks from appconf.xml; add checks here.", "lems_config")
	glob := lroot.CreateElement("globals")
	glob.CreateAttr("modules", "/usr/lib/linuxha/lems/modules")
	glob.CreateAttr("programs", "/usr/lib/linuxha/lems/programs")
	glob.CreateAttr("logs", "/var/log/cluster/lems")
	glob.CreateAttr("port", strconv.Itoa(lemsPort))
	ld.Indent(2)
	if g.Lems, err = ld.WriteToBytes(); err != nil {
		return g, err
	}
	if _, err := config.ParseLems(g.Name+"/lems.local.xml", g.Lems); err != nil {
		return g, err
	}
	return g, nil
}

// sourceLines turns the problems of a converted appconf.xml into
// problems of the cm.cfg lines its members came from.
func sourceLines(c *Config, rs []*Resource, err error) error {
	var cps config.Problems
	if !errors.As(err, &cps) {
		return err
	}
	var ps Problems
	for _, p := range cps {
		for _, r := range rs {
			el := strings.TrimPrefix(p.Element, "resources/")
			_, rest, _ := strings.Cut(el, " ")
			name, field, _ := strings.Cut(rest, "/")
			if el != p.Element && name == r.Nick() || el == p.Element && r.Section == "CM_IPADDRS" {
				if field == "" {
					field = "values"
				}
				ps = append(ps, &Problem{File: c.File, Line: r.Line, Where: r.Section + " " + r.Nick(), Text: field + ": " + p.Text})
				break
			}
		}
	}
	if len(ps) == 0 {
		return fmt.Errorf("the converted appconf.xml is not valid: %w", err)
	}
	return ps
}

// clusterXML writes clconf.xml: DRCM's TCP port as the cluster daemon's,
// the next two for the lock and network daemons, and a port pool above;
// one network, "public", on the cards the floating addresses use.
func clusterXML(c *Config, o Options, cards map[string]bool) ([]byte, error) {
	port := 9900
	if v, ok := c.Server["tcpport"]; ok {
		p, err := strconv.Atoi(v.Text)
		if err != nil || p < 1 || p > 65535-110 {
			return nil, &Problem{File: c.File, Line: v.Line, Where: "CM_SERVER/tcpport", Text: fmt.Sprintf("%q is not a port below %d", v.Text, 65535-110)}
		}
		port = p
	}
	dd := o.DataDetail
	if dd == "" {
		dd = "filesync"
	}
	d, root := newDoc("Converted by clconvert from "+c.File+". Run clbuild on this node.", "clconf")
	gl := root.CreateElement("global")
	for _, kv := range [][2]string{
		{"name", o.Cluster}, {"version", "0.3"}, {"data", "replicated"}, {"datadetail", dd}, {"dataprotocol", "C"},
		{"logdir", "/var/log/cluster"}, {"key", o.Key}, {"port", strconv.Itoa(port)}, {"clport", strconv.Itoa(port + 1)},
		{"clnetdport", strconv.Itoa(port + 2)}, {"portpool", fmt.Sprintf("%d,%d", port+10, port+109)},
		{"maxblockdevs", "50"}, {"drbd_network", "public"}, // replication shares the one network DRCM knows
	} {
		text(gl, kv[0], kv[1])
	}
	names := make([]string, 0, len(cards))
	for cd := range cards {
		names = append(names, cd)
	}
	sort.Strings(names)
	if len(names) == 0 {
		names = []string{"eth0"}
	}
	for _, n := range c.Nodes {
		ne := root.CreateElement("node")
		text(ne, "name", nodeName(n))
		net := ne.CreateElement("network")
		net.CreateAttr("name", "public")
		net.CreateAttr("cards", strings.Join(names, ","))
	}
	d.Indent(4)
	data, err := d.WriteToBytes()
	if err != nil {
		return nil, err
	}
	if _, _, err := config.ParseCluster("clconf.xml", data); err != nil {
		return nil, fmt.Errorf("converted clconf.xml is not valid: %w", err)
	}
	return data, nil
}
