package clbuild

import (
	"os"
	"strings"
	"testing"

	"github.com/linuxha-ng/linuxha/pkg/config"
	"github.com/linuxha-ng/linuxha/pkg/nodefacts"
	"github.com/linuxha-ng/linuxha/pkg/storage"
)

func cluster(t *testing.T) *config.Cluster {
	b, err := os.ReadFile("../../examples/clconf.xml")
	if err != nil {
		t.Fatal(err)
	}
	c, _, err := config.ParseCluster("clconf.xml", b)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func facts(host, pub, drbd string) nodefacts.Facts {
	return nodefacts.Facts{
		Host:      host,
		Cards:     map[string]nodefacts.Card{"eth0": {Exists: true, Up: true, Addrs: []string{pub}}, "eth1": {Exists: true, Up: true}, "eth2": {Exists: true, Up: true, Addrs: []string{drbd}}},
		Resolve:   map[string]string{"servera": "172.16.177.1", "serverb": "172.16.177.2"},
		Storage:   []storage.Capability{{Name: "DRBD kernel module", Found: true}},
		LinkState: true,
		Version:   "0.1.0+1.gabc",
	}
}

// Checks C4-C19 and R1-R3 of §7.2.4 (L1651-1681) as a pure function.
func TestCheck(t *testing.T) {
	tests := []struct {
		name   string
		mod    func(in *Input)
		want   string // refusal text; "" = passes
		warned string
	}{
		{name: "clean build (L1748-1810)"},
		{name: "C19 host not a node", mod: func(in *Input) { in.Local.Host = "serverz" }, want: "This host (serverz) is not one of the nodes"},
		{name: "C11 peer cannot resolve", mod: func(in *Input) { in.Peer.Resolve["servera"] = "" }, want: "Node name servera does not resolve to an IPv4 address on serverb"},
		{name: "versions differ (README: the same version on both nodes)", mod: func(in *Input) { in.Peer.Version = "0.1.0+2.gdef" }, want: "linuxha versions differ: servera has 0.1.0+1.gabc, serverb has 0.1.0+2.gdef; install the same version on both nodes"},
		{name: "C12 no ssh back", mod: func(in *Input) { in.Peer.SSHBack = "servera is not reachable by ssh" }, want: "serverb cannot ssh back to servera"},
		{name: "C14 card missing on peer", mod: func(in *Input) { in.Peer.Cards["eth1"] = nodefacts.Card{} }, want: "Card eth1 of network public does not exist on serverb"},
		{name: "standby card down warns (L1421)", mod: func(in *Input) { c := in.Local.Cards["eth1"]; c.Up = false; in.Local.Cards["eth1"] = c }, warned: "Card eth1 of network public on servera is not up"},
		{name: "drbd network without address", mod: func(in *Input) { in.Peer.Cards["eth2"] = nodefacts.Card{Exists: true, Up: true} }, want: "No card of the data replication network drbd has an IP address on serverb"},
		{name: "networks share a subnet (L1422)", mod: func(in *Input) {
			in.Local.Cards["eth2"] = nodefacts.Card{Exists: true, Up: true, Addrs: []string{"172.16.177.9/24"}}
		}, want: "Networks public and drbd of servera are on the same subnet 172.16.177.0/24"},
		{name: "C13 ping failure only warns", mod: func(in *Input) { delete(in.Reach, "192.100.100.2") }, warned: "Unable to ping DRBD Ip address 192.100.100.2 for serverb"},
		{name: "C17 daemon running", mod: func(in *Input) { in.Local.DaemonRunning = true }, want: "Node servera is running a cldaemon process; use --force"},
		{name: "R1 peer daemon running", mod: func(in *Input) { in.Peer.DaemonRunning = true }, want: "Node serverb is running a cldaemon process"},
		{name: "C17 with --force", mod: func(in *Input) { in.Local.DaemonRunning = true; in.Force = true }},
		{name: "C3 already built", mod: func(in *Input) { in.Local.Built = true }, want: "already been built on servera"},
		{name: "R2 peer has other clconf", mod: func(in *Input) { in.Peer.ClconfMD5 = "x"; in.Local.ClconfMD5 = "y" }, want: "serverb already has a different clconf.xml"},
		{name: "R2 same clconf is fine", mod: func(in *Input) { in.Peer.ClconfMD5 = "y"; in.Local.ClconfMD5 = "y" }},
		{name: "C8 no DRBD on peer", mod: func(in *Input) {
			in.Peer.Storage = []storage.Capability{{Name: "DRBD kernel module", Note: "not available for kernel 6.18"}}
		}, want: "DRBD kernel module not available on serverb (not available for kernel 6.18)"},
		{name: "C10 link state unreadable warns", mod: func(in *Input) { in.Peer.LinkState = false }, warned: "Physical network link state is not readable on serverb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := Input{
				Cfg:   cluster(t),
				Local: facts("servera", "172.16.177.1/24", "192.100.100.1/24"),
				Peer:  facts("serverb", "172.16.177.2/24", "192.100.100.2/24"),
				Reach: map[string]bool{"172.16.177.1": true, "172.16.177.2": true, "192.100.100.1": true, "192.100.100.2": true},
			}
			if tt.mod != nil {
				tt.mod(&in)
			}
			res := Check(in)
			if tt.want != "" {
				if res.Err == nil || !strings.Contains(res.Err.Error(), tt.want) {
					t.Fatalf("got %v, want %q", res.Err, tt.want)
				}
				return
			}
			if res.Err != nil {
				t.Fatal(res.Err)
			}
			var all []string
			for _, l := range res.Lines {
				all = append(all, l.Level.String()+" "+l.Text)
			}
			out := strings.Join(all, "\n")
			if tt.warned != "" && !strings.Contains(out, "WARN "+tt.warned) {
				t.Fatalf("no warning %q in\n%s", tt.warned, out)
			}
			if tt.warned == "" && res.Warnings != 0 {
				t.Fatalf("unexpected warnings:\n%s", out)
			}
			if len(res.Topology) != 6 {
				t.Fatalf("topology %v", res.Topology)
			}
		})
	}
}
