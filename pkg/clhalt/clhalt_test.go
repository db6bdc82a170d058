package clhalt

import "testing"

// Golden cases of what becomes of an application on a node leaving the
// cluster (§13.3, L3515-3531; "move" is the shutdown's).
func TestRemoval(t *testing.T) {
	for _, c := range []struct {
		action string
		peerUp bool
		want   string
	}{
		{"error", true, "error"},
		{"halt", true, "halt"},
		{"failover", true, "failover"},
		{"failover", false, "failover"}, // the Reference's: tried, and fails
		{"move", true, "failover"},
		{"move", false, "halt"},
	} {
		if got := Removal(c.action, c.peerUp); got != c.want {
			t.Errorf("Removal(%s, peer up %v) = %s, want %s", c.action, c.peerUp, got, c.want)
		}
	}
}
