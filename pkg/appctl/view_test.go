package appctl

import "testing"

// Issue 18: node names may hold dots (clconf.xml allows
// servera.example.com); a STALE flag "<vg>.<lv>.<node>.STALE" (L7630-7633)
// is read with the node as everything after the second dot, so the local
// flag is seen and a start does not proceed on stale data.
func TestViewDottedNodeNames(t *testing.T) {
	c := &Ctl{peer: "serverb.example.com"}
	v := c.view([]string{"app01vg.docs.servera.example.com.STALE", "TIME"}, "servera.example.com")
	if !v.LocalStale || v.RemoteStale {
		t.Fatalf("local flag of a dotted node: %+v", v)
	}
	v = c.view([]string{"app01vg.docs.serverb.example.com.STALE"}, "servera.example.com")
	if v.LocalStale || !v.RemoteStale {
		t.Fatalf("peer's flag of a dotted node: %+v", v)
	}
}
