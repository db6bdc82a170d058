// Package nodefacts gathers what one node knows about itself for the
// cluster and application build checks (Reference §7.2.4-7.2.6): its
// cards and their addresses, name resolution, a listening daemon, the
// clconf.xml checksum, the replication tools, ssh back to the peer. The
// same code runs on both nodes: the peer's answer comes from
// "clbuild probe" over ssh as JSON.
package nodefacts

import (
	"bufio"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/linuxha-ng/linuxha/pkg/layout"
	"github.com/linuxha-ng/linuxha/pkg/remote"
	"github.com/linuxha-ng/linuxha/pkg/storage"
	"github.com/linuxha-ng/linuxha/pkg/version"
)

// Card is what a node knows about one of its interfaces.
type Card struct {
	Exists  bool     `json:"exists"`
	Up      bool     `json:"up"`
	Carrier bool     `json:"carrier"`
	Addrs   []string `json:"addrs,omitempty"` // IPv4 prefixes, e.g. 172.16.177.1/24
}

// Facts is one node's answer to the build checks.
type Facts struct {
	Host          string               `json:"host"`
	Cards         map[string]Card      `json:"cards"`
	Resolve       map[string]string    `json:"resolve"` // node name -> first IPv4, "" if it does not resolve
	DaemonRunning bool                 `json:"daemon_running"`
	ClconfMD5     string               `json:"clconf_md5,omitempty"` // "" when there is no clconf.xml
	Built         bool                 `json:"built"`                // a cluster build checksum exists
	Storage       []storage.Capability `json:"storage"`
	LinkState     bool                 `json:"link_state"` // carrier readable from /sys/class/net
	SSHBack       string               `json:"ssh_back,omitempty"`
	Version       string               `json:"version"` // of the linuxha build that probed
}

// ProbeArgs says what to look at.
type ProbeArgs struct {
	Port       int      // Global.port: is a cldaemon listening on it?
	DataDetail string   // replication driver whose tools to probe
	Cards      []string // this node's cards in the topology
	Names      []string // node names to resolve
	SSHBack    string   // node name to ssh back to ("" = skip)
	LoadDRBD   bool     // load the DRBD module if it is loadable (C8)
}

// Probe gathers the facts of the node it runs on.
func Probe(ctx context.Context, l layout.Layout, a ProbeArgs) Facts {
	f := Facts{Cards: map[string]Card{}, Resolve: map[string]string{}, Version: version.String()}
	// The host name as the system has it; clbuild, which knows the
	// configuration, puts the node's name in its place.
	f.Host, _ = os.Hostname()
	for _, c := range a.Cards {
		f.Cards[c] = card(c)
	}
	for _, n := range a.Names {
		f.Resolve[n] = resolve(n)
	}
	f.DaemonRunning = listening(a.Port)
	if b, err := os.ReadFile(l.Clconf()); err == nil {
		s := md5.Sum(b)
		f.ClconfMD5 = hex.EncodeToString(s[:])
	}
	_, err := os.Stat(l.BuildChecksum())
	f.Built = err == nil
	env := storage.Env{}
	if a.LoadDRBD {
		env.Modprobe = storage.Modprobe
	}
	f.Storage = storage.Probe(a.DataDetail, env)
	_, err = os.ReadDir("/sys/class/net")
	f.LinkState = err == nil
	if a.SSHBack != "" {
		p := &remote.Peer{Node: a.SSHBack}
		if _, err := p.Output(ctx, "true"); err != nil {
			f.SSHBack = err.Error()
		}
	}
	return f
}

func card(name string) Card {
	ifc, err := net.InterfaceByName(name)
	if err != nil {
		return Card{}
	}
	c := Card{Exists: true, Up: ifc.Flags&net.FlagUp != 0}
	if b, err := os.ReadFile(filepath.Join("/sys/class/net", name, "carrier")); err == nil {
		c.Carrier = strings.TrimSpace(string(b)) == "1"
	}
	addrs, _ := ifc.Addrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil {
			c.Addrs = append(c.Addrs, n.String())
		}
	}
	return c
}

func resolve(name string) string {
	ips, err := net.LookupIP(name)
	if err != nil {
		return ""
	}
	for _, ip := range ips {
		if ip.To4() != nil {
			return ip.String()
		}
	}
	return ""
}

// listening reports whether any socket of this network namespace listens
// on TCP port; daemons are found by their port, not their name.
func listening(port int) bool {
	if port == 0 {
		return false
	}
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		fh, err := os.Open(f)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			fs := strings.Fields(sc.Text())
			if len(fs) < 4 || fs[3] != "0A" { // 0A = LISTEN
				continue
			}
			_, hexPort, ok := strings.Cut(fs[1], ":")
			if !ok {
				continue
			}
			if p, err := strconv.ParseUint(hexPort, 16, 16); err == nil && int(p) == port {
				fh.Close()
				return true
			}
		}
		fh.Close()
	}
	return false
}

func (f Facts) String() string { return fmt.Sprintf("facts of %s", f.Host) }
