package config

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// withNodes is base with a <membership> section and n nodes in all (a
// and b, then c, d, ...), every one with the same networks.
func withNodes(membership string, n int) []byte {
	top := membership
	for i := 2; i < n; i++ {
		top += fmt.Sprintf(`<node><name>%c</name><network name="public" cards="eth0"/><network name="drbd" cards="eth2"/></node>`, 'a'+i)
	}
	return variant("", top, "")
}

func TestMembership(t *testing.T) {
	const tls = `<tls ca="/etc/cluster/.etcd/ca.pem" cert="/etc/cluster/.etcd/c.pem" key="/etc/cluster/.etcd/c.key"/>`
	for _, c := range []struct {
		name, section string
		nodes         int
		wantErr       string
		check         func(Membership) bool
	}{
		{"absent: the Reference's heartbeat", "", 2, "", func(m Membership) bool { return !m.Etcd() && m.Mode == "heartbeat" }},
		{"three nodes without etcd", "", 3, "exactly two <node> sections are required, found 3 (more take <membership mode=\"etcd\">)", nil},
		{"heartbeat with a variant", `<membership mode="heartbeat" variant="embedded"/>`, 2, "membership/variant: \"embedded\" goes with mode=\"etcd\" only", nil},
		{"unknown mode", `<membership mode="raft"/>`, 2, "membership/mode: \"raft\" is neither heartbeat nor etcd", nil},
		{"embedded, three nodes, defaults", `<membership mode="etcd"/>`, 3, "", func(m Membership) bool {
			return m.Etcd() && m.Variant == "embedded" && m.LeaseTTL == 5*time.Second && m.Heartbeat == 100*time.Millisecond && m.Election == time.Second
		}},
		{"embedded, seven nodes", `<membership mode="etcd" variant="embedded"/>`, 7, "", nil},
		{"embedded, eight nodes", `<membership mode="etcd"/>`, 8, "embedded etcd needs 3 to 7 nodes (one voting member each), found 8", nil},
		{"embedded, two nodes", `<membership mode="etcd"/>`, 2, "two nodes take variant=\"witness\"", nil},
		{"fast timings", `<membership mode="etcd" ttl="2s" heartbeat="50ms" election="500ms"/>`, 3, "", func(m Membership) bool {
			return m.LeaseTTL == 2*time.Second && m.Heartbeat == 50*time.Millisecond && m.Election == 500*time.Millisecond
		}},
		{"election under ten heartbeats", `<membership mode="etcd" heartbeat="100ms" election="500ms"/>`, 3, "membership/election: election (500ms) must be at least ten heartbeats (100ms)", nil},
		{"ttl not outlasting an election", `<membership mode="etcd" ttl="1s" election="1s"/>`, 3, "membership/ttl: the lease TTL (1s) must outlast an election (1s)", nil},
		{"bad ttl", `<membership mode="etcd" ttl="soon"/>`, 3, "membership/ttl: \"soon\" must be a duration of at least 1s", nil},
		{"witness", `<membership mode="etcd" variant="witness"><witness name="w1" address="192.168.1.9"/></membership>`, 2, "", func(m Membership) bool {
			return m.Variant == "witness" && m.Witness == "w1" && m.WitnessAddr == "192.168.1.9"
		}},
		{"witness without its host", `<membership mode="etcd" variant="witness"/>`, 2, "membership/witness: variant=\"witness\" needs one <witness name=... address=.../>, found 0", nil},
		{"witness for three nodes", `<membership mode="etcd" variant="witness"><witness name="w1" address="192.168.1.9"/></membership>`, 3, "a witness breaks the tie of exactly two nodes, found 3", nil},
		{"external", `<membership mode="etcd" variant="external"><endpoint url="https://10.0.0.5:2379"/><endpoint url="https://10.0.0.6:2379"/>` + tls + `</membership>`, 4, "", func(m Membership) bool {
			return len(m.Endpoints) == 2 && m.CA == "/etc/cluster/.etcd/ca.pem" && m.KeyFile == "/etc/cluster/.etcd/c.key"
		}},
		{"external over plain http", `<membership mode="etcd" variant="external"><endpoint url="http://10.0.0.5:2379"/>` + tls + `</membership>`, 2, "membership/endpoint/url: \"http://10.0.0.5:2379\" must be an https:// address (client TLS)", nil},
		{"external without TLS", `<membership mode="etcd" variant="external"><endpoint url="https://10.0.0.5:2379"/></membership>`, 2, "membership/tls: variant=\"external\" needs one <tls", nil},
		{"external, relative key", `<membership mode="etcd" variant="external"><endpoint url="https://e:2379"/><tls ca="/a" cert="/b" key="c.key"/></membership>`, 2, "membership/tls/key: \"c.key\" must be an absolute path", nil},
		{"two sections", `<membership mode="etcd"/><membership mode="etcd"/>`, 3, "membership: the section is given 2 times", nil},
		{"unknown variant", `<membership mode="etcd" variant="consul"/>`, 3, "membership/variant: \"consul\" is not embedded, witness or external", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			cl, _, err := ParseCluster("clconf.xml", withNodes(c.section, c.nodes))
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("got %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(cl.Nodes) != c.nodes {
				t.Fatalf("%d nodes read, want %d", len(cl.Nodes), c.nodes)
			}
			if c.check != nil && !c.check(cl.Membership) {
				t.Fatalf("read %+v", cl.Membership)
			}
		})
	}
	// Every node of an N-node cluster is checked against the first one in
	// the file (here c: withNodes puts the extra nodes before a and b).
	bad := strings.Replace(string(withNodes(`<membership mode="etcd"/>`, 4)), `<node><name>d</name><network name="public" cards="eth0"/>`, `<node><name>d</name><network name="backup" cards="eth0"/>`, 1)
	if _, _, err := ParseCluster("clconf.xml", []byte(bad)); err == nil || !strings.Contains(err.Error(), "every node must define the same logical networks: c has drbd,public, d has backup,drbd") {
		t.Fatalf("a fourth node with other networks: %v", err)
	}
}
