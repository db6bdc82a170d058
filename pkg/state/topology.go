package state

import (
	"bufio"
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"sort"
	"strings"

	"github.com/linuxha-ng/linuxha/pkg/atomicfile"
)

// CardAddr is one card of one node as clbuild found it: the address it
// holds, or none for a standby card (L1421).
type CardAddr struct {
	Node, Network, Card string
	Prefix              netip.Prefix // invalid for a standby card
}

// Topology is the recorded address of every card of both nodes ("network
// configuration", L1780). Tools read it to reach the peer on any network
// when its name does not answer (L1862).
type Topology []CardAddr

// Addrs lists the addresses of node's cards, in file order: the first
// network first, as configured.
func (t Topology) Addrs(node string) []CardAddr {
	var out []CardAddr
	for _, c := range t {
		if c.Node == node && c.Prefix.IsValid() {
			out = append(out, c)
		}
	}
	return out
}

// Marshal renders "node network card address/prefix|-" lines.
func (t Topology) Marshal() []byte {
	var b bytes.Buffer
	for _, c := range t {
		a := "-"
		if c.Prefix.IsValid() {
			a = c.Prefix.String()
		}
		fmt.Fprintf(&b, "%s %s %s %s\n", c.Node, c.Network, c.Card, a)
	}
	return b.Bytes()
}

// ParseTopology reads what Marshal wrote.
func ParseTopology(file string, data []byte) (Topology, error) {
	var t Topology
	sc := bufio.NewScanner(bytes.NewReader(data))
	for ln := 1; sc.Scan(); ln++ {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if len(f) != 4 {
			return nil, fmt.Errorf("%s:%d: topology: want 4 fields", file, ln)
		}
		c := CardAddr{Node: f[0], Network: f[1], Card: f[2]}
		if f[3] != "-" {
			p, err := netip.ParsePrefix(f[3])
			if err != nil {
				return nil, fmt.Errorf("%s:%d: topology: %v", file, ln, err)
			}
			c.Prefix = p
		}
		t = append(t, c)
	}
	return t, sc.Err()
}

// ReadTopology reads the topology file.
func ReadTopology(path string) (Topology, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseTopology(path, data)
}

// WriteTopology writes it atomically, sorted by node for stable output.
func WriteTopology(path string, t Topology) error {
	s := append(Topology(nil), t...)
	sort.SliceStable(s, func(i, j int) bool { return s[i].Node < s[j].Node })
	return atomicfile.WriteFile(path, s.Marshal(), 0o644)
}
