// Package drcm reads the DataReel Cluster Manager's configuration,
// /etc/drcm/cm.cfg (seeds 000 and 001): INI sections, CM_SERVER and one
// CM_NODE per node with "key = value" lines, and the resource sections
// CM_CRONTABS, CM_IPADDRS, CM_SERVICES, CM_APPLICATIONS and
// CM_FILESYSTEMS with one CSV line per resource, each starting with its
// nickname. Problems name the file, the line and the section.
package drcm

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
)

// Config is a parsed cm.cfg.
type Config struct {
	File   string
	Server map[string]Value // CM_SERVER
	Nodes  []*Node
	// Resources by section, in file order.
	Crontabs, IPAddrs, Services, Applications, Filesystems []*Resource
}

// Value is a key's value and its line.
type Value struct {
	Text string
	Line int
}

// Node is one CM_NODE section.
type Node struct {
	Line   int
	Fields map[string]Value // nodename, hostname, keep_alive_ip, node_* lists
}

// Name is the node's nodename.
func (n *Node) Name() string { return n.Fields["nodename"].Text }

// List splits a node_* list ("user,system,apps1" or, for backups,
// "cmnode2:apps2,cmnode1:user").
func (n *Node) List(key string) []string {
	var out []string
	for _, f := range strings.Split(n.Fields[key].Text, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// Resource is one CSV line of a resource section.
type Resource struct {
	Section string
	Line    int
	Fields  []string // Fields[0] is the nickname
}

// Nick is the resource's nickname.
func (r *Resource) Nick() string { return r.Fields[0] }

// Problem is one error, as "cm.cfg:12: CM_NODE cmnode1/node_crontabs: text".
type Problem struct {
	File, Where string
	Line        int
	Text        string
}

func (p *Problem) Error() string {
	return fmt.Sprintf("%s:%d: %s: %s", p.File, p.Line, p.Where, p.Text)
}

// Problems is every problem found; Error puts one per line.
type Problems []*Problem

func (ps Problems) Error() string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.Error()
	}
	return strings.Join(s, "\n")
}

// csvFields is how many fields each resource section's lines have (seed
// 000's "CSV format" comments); applications take an optional fifth,
// the ensure script.
var csvFields = map[string][2]int{
	"CM_CRONTABS":     {4, 4},
	"CM_IPADDRS":      {5, 5},
	"CM_SERVICES":     {3, 3},
	"CM_APPLICATIONS": {4, 5},
	"CM_FILESYSTEMS":  {4, 4},
}

// Parse reads cm.cfg.
func Parse(file string, data []byte) (*Config, error) {
	c := &Config{File: file, Server: map[string]Value{}}
	var ps Problems
	bad := func(line int, where, format string, args ...any) {
		ps = append(ps, &Problem{File: file, Line: line, Where: where, Text: fmt.Sprintf(format, args...)})
	}
	section := ""
	var node *Node
	nicks := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";") {
			continue
		}
		if strings.HasPrefix(line, "[") {
			if !strings.HasSuffix(line, "]") {
				bad(n, "section", "%q is not a [SECTION] line", line)
				continue
			}
			section = strings.ToUpper(strings.TrimSpace(line[1 : len(line)-1]))
			switch section {
			case "CM_SERVER":
			case "CM_NODE":
				node = &Node{Line: n, Fields: map[string]Value{}}
				c.Nodes = append(c.Nodes, node)
			default:
				if _, ok := csvFields[section]; !ok {
					bad(n, "section", "unknown section [%s]", section)
					section = "?"
				}
			}
			continue
		}
		switch section {
		case "":
			bad(n, "section", "line outside any section")
		case "?":
			// Lines of an unknown section: reported once, at its header.
		case "CM_SERVER", "CM_NODE":
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				bad(n, section, "%q is not \"key = value\"", line)
				continue
			}
			if i := strings.Index(v, "#"); i >= 0 { // "nodename = cmnode1  # a comment"
				v = v[:i]
			}
			k, v = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)
			if section == "CM_SERVER" {
				c.Server[k] = Value{v, n}
			} else {
				if _, dup := node.Fields[k]; dup {
					bad(n, "CM_NODE "+node.Name()+"/"+k, "given twice")
				}
				node.Fields[k] = Value{v, n}
			}
		default:
			fields := strings.Split(line, ",")
			for i := range fields {
				fields[i] = strings.TrimSpace(fields[i])
			}
			want := csvFields[section]
			if len(fields) < want[0] || len(fields) > want[1] {
				if want[0] == want[1] {
					bad(n, section, "%d fields, want %d", len(fields), want[0])
				} else {
					bad(n, section, "%d fields, want %d or %d", len(fields), want[0], want[1])
				}
				continue
			}
			r := &Resource{Section: section, Line: n, Fields: fields}
			if r.Nick() == "" {
				bad(n, section, "the nickname (first field) is empty")
				continue
			}
			key := section + " " + r.Nick()
			if first, dup := nicks[key]; dup {
				bad(n, section+" "+r.Nick(), "nickname used already on line %d", first)
				continue
			}
			nicks[key] = n
			switch section {
			case "CM_CRONTABS":
				c.Crontabs = append(c.Crontabs, r)
			case "CM_IPADDRS":
				c.IPAddrs = append(c.IPAddrs, r)
			case "CM_SERVICES":
				c.Services = append(c.Services, r)
			case "CM_APPLICATIONS":
				c.Applications = append(c.Applications, r)
			case "CM_FILESYSTEMS":
				c.Filesystems = append(c.Filesystems, r)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	for _, nd := range c.Nodes {
		if nd.Name() == "" {
			bad(nd.Line, "CM_NODE", "nodename is required")
		}
	}
	if len(ps) > 0 {
		return nil, ps
	}
	return c, nil
}

// Find returns the resource of section named nick.
func (c *Config) Find(section, nick string) (*Resource, bool) {
	var list []*Resource
	switch section {
	case "CM_CRONTABS":
		list = c.Crontabs
	case "CM_IPADDRS":
		list = c.IPAddrs
	case "CM_SERVICES":
		list = c.Services
	case "CM_APPLICATIONS":
		list = c.Applications
	case "CM_FILESYSTEMS":
		list = c.Filesystems
	}
	for _, r := range list {
		if r.Nick() == nick {
			return r, true
		}
	}
	return nil, false
}
