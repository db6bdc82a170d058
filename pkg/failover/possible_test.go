package failover

import "testing"

func TestPossible(t *testing.T) {
	nodes := [2]string{"servera", "serverb"}
	both := []string{"servera", "serverb"}
	for _, c := range []struct {
		cite  string
		node  string
		valid []string
		up    [2]bool
		want  bool
	}{
		{"L2990 running, both valid and up", "servera", both, [2]bool{true, true}, true},
		{"L2991 down, both valid and up", "", both, [2]bool{true, true}, true},
		{"L4734 after a software fail-over to serverb: no fail-back", "serverb", []string{"serverb"}, [2]bool{true, true}, false},
		{"the same asked from the other side gives the same answer", "serverb", []string{"serverb"}, [2]bool{true, true}, false},
		{"the other node is down", "servera", both, [2]bool{true, false}, false},
		{"down with one node down", "", both, [2]bool{true, false}, false},
		{"running where it may not fail over from but the other is valid", "servera", []string{"serverb"}, [2]bool{true, true}, true},
	} {
		if got := Possible(c.node, c.valid, nodes, c.up); got != c.want {
			t.Errorf("%s: Possible(%q, %v, %v) = %v, want %v", c.cite, c.node, c.valid, c.up, got, c.want)
		}
	}
}
