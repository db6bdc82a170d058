package netd

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/linuxha-ng/linuxha/pkg/config"
)

var t0 = time.Unix(1_800_000_000, 0)

func node() *config.Node {
	return &config.Node{Name: "servera", Networks: []config.Network{
		{Name: "public", Cards: []string{"eth0", "eth1", "eth3"}},
		{Name: "drbd", Cards: []string{"eth2"}},
		{Name: "xover", Cards: []string{"eth4"}, Crossover: true},
	}}
}

func pfx(s ...string) []netip.Prefix {
	var out []netip.Prefix
	for _, x := range s {
		out = append(out, netip.MustParsePrefix(x))
	}
	return out
}

func snap(up map[string]bool, addrs map[string][]netip.Prefix) Snapshot {
	s := Snapshot{}
	for _, c := range []string{"eth0", "eth1", "eth2", "eth3", "eth4"} {
		s[c] = Link{Name: c, Exists: true, Carrier: up[c], Addrs: addrs[c]}
	}
	return s
}

func allUp() map[string]bool {
	return map[string]bool{"eth0": true, "eth1": true, "eth2": true, "eth3": true, "eth4": true}
}

func names(acts []Action) string {
	var out []string
	for _, a := range acts {
		out = append(out, a.String())
	}
	return strings.Join(out, "; ")
}

func TestPlan(t *testing.T) {
	pubAddrs := map[string][]netip.Prefix{"eth0": pfx("172.16.177.1/24", "172.16.177.200/24"), "eth2": pfx("192.100.100.1/24")}
	p := NewPlan(node(), DefaultFaulty)
	if acts := p.Step(t0, snap(allUp(), pubAddrs)); len(acts) != 0 {
		t.Fatalf("steady start: %s", names(acts))
	}
	// L838-844: eth0 loses its link: all its addresses go to a card never used.
	up := allUp()
	up["eth0"] = false
	acts := p.Step(t0.Add(time.Second), snap(up, pubAddrs))
	if names(acts) != "move [172.16.177.1/24 172.16.177.200/24] from eth0 to eth1 (card eth0 lost its link)" {
		t.Fatalf("got %s", names(acts))
	}
	// eth1 fails too: eth3 was never used; eth0 is still faulty.
	up["eth0"] = true
	acts = p.Step(t0.Add(2*time.Second), snap(up, map[string][]netip.Prefix{"eth1": pfx("172.16.177.1/24"), "eth2": pfx("192.100.100.1/24")}))
	if len(acts) != 0 {
		t.Fatalf("eth0 coming back moved something: %s", names(acts))
	}
	up["eth1"] = false
	acts = p.Step(t0.Add(3*time.Second), snap(up, map[string][]netip.Prefix{"eth1": pfx("172.16.177.1/24"), "eth2": pfx("192.100.100.1/24")}))
	if names(acts) != "move [172.16.177.1/24] from eth1 to eth3 (card eth1 lost its link)" {
		t.Fatalf("got %s", names(acts))
	}
	// eth3 fails within the faulty period of eth0 and eth1: nothing left.
	up["eth3"] = false
	acts = p.Step(t0.Add(4*time.Second), snap(up, map[string][]netip.Prefix{"eth3": pfx("172.16.177.1/24"), "eth2": pfx("192.100.100.1/24")}))
	if len(acts) != 1 || acts[0].Kind != NetFailed || acts[0].Network != "public" || !p.Stopped("public") {
		t.Fatalf("got %s", names(acts))
	}
	// Stopped networks are not watched until REREAD (L858-861).
	if acts := p.Step(t0.Add(5*time.Second), snap(map[string]bool{"eth2": true}, nil)); len(acts) != 0 {
		t.Fatalf("stopped network acted on: %s", names(acts))
	}
	p.Resume()
	if p.Stopped("public") {
		t.Fatal("REREAD did not resume")
	}
}

// The card used longest ago is chosen when every candidate was used.
func TestPlanLeastRecentlyUsed(t *testing.T) {
	p := NewPlan(node(), time.Second)
	a := map[string][]netip.Prefix{"eth0": pfx("10.0.0.1/24")}
	p.Step(t0, snap(allUp(), a))
	up := allUp()
	up["eth0"] = false
	if acts := p.Step(t0.Add(time.Second), snap(up, a)); acts[0].To != "eth1" {
		t.Fatal(names(acts))
	}
	up = allUp() // eth0 back
	b := map[string][]netip.Prefix{"eth1": pfx("10.0.0.1/24")}
	p.Step(t0.Add(10*time.Second), snap(up, b))
	up["eth1"] = false
	acts := p.Step(t0.Add(11*time.Second), snap(up, b))
	if acts[0].To != "eth3" {
		t.Fatalf("never-used eth3 must win over eth0: %s", names(acts))
	}
	up = allUp()
	c := map[string][]netip.Prefix{"eth3": pfx("10.0.0.1/24")}
	p.Step(t0.Add(20*time.Second), snap(up, c))
	up["eth3"] = false
	acts = p.Step(t0.Add(21*time.Second), snap(up, c))
	if acts[0].To != "eth0" {
		t.Fatalf("eth0 (used at t0) must win over eth1 (used at 1s): %s", names(acts))
	}
}

// A one-card network (drbd) and a card without addresses; crossover
// networks are never link-checked (FAQ 3.3).
func TestPlanSingleCardAndCrossover(t *testing.T) {
	p := NewPlan(node(), DefaultFaulty)
	a := map[string][]netip.Prefix{"eth2": pfx("192.100.100.1/24"), "eth4": pfx("10.9.9.1/30")}
	p.Step(t0, snap(allUp(), a))
	up := allUp()
	up["eth1"] = false // standby, no addresses: nothing to do
	up["eth4"] = false // crossover
	if acts := p.Step(t0.Add(time.Second), snap(up, a)); len(acts) != 0 {
		t.Fatalf("got %s", names(acts))
	}
	up["eth2"] = false
	acts := p.Step(t0.Add(2*time.Second), snap(up, a))
	if len(acts) != 1 || acts[0].Kind != NetFailed || acts[0].Network != "drbd" {
		t.Fatalf("got %s", names(acts))
	}
}
