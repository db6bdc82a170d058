package drbd

import (
	"errors"
	"testing"
)

func TestPromoteForce(t *testing.T) {
	for _, c := range []struct {
		why                string
		st                 State
		force, really      bool
		wantForce, refused bool
	}{
		{"no force asked: DRBD decides (it refuses a disk it does not know current)",
			State{Disk: "Inconsistent", PeerDisk: "DUnknown"}, false, false, false, false},
		{"takeover after the peer died, disk Outdated/Consistent: force, as the Reference's forced start (L6892)",
			State{Disk: "Consistent", PeerDisk: "DUnknown"}, true, false, true, false},
		{"forced start on an UpToDate disk",
			State{Disk: "UpToDate", PeerDisk: "DUnknown"}, true, false, true, false},
		{"takeover during a resynchronisation this node was the target of: refused, the copy is not valid (L6894)",
			State{Disk: "Inconsistent", PeerDisk: "DUnknown"}, true, false, false, true},
		{"the same with --reallyforce: the administrator's choice (L6894, L6919)",
			State{Disk: "Inconsistent", PeerDisk: "DUnknown"}, true, true, true, false},
		{"Inconsistent but connected to a current peer: no force, reads go to the peer (L6370-6372)",
			State{Disk: "Inconsistent", PeerDisk: "UpToDate"}, true, false, false, false},
		{"...even with --reallyforce, which must not make the torn copy overwrite the good one",
			State{Disk: "Inconsistent", PeerDisk: "UpToDate"}, true, true, false, false},
		{"first sync: both sides Inconsistent after fresh meta-data, clbuildapp --sync passes reallyForce",
			State{Disk: "Inconsistent", PeerDisk: "Inconsistent"}, true, true, true, false},
	} {
		f, err := PromoteForce(c.st, c.force, c.really)
		if f != c.wantForce || (err != nil) != c.refused || (err != nil && !errors.Is(err, ErrTornCopy)) {
			t.Errorf("%s: PromoteForce(%+v, %v, %v) = %v, %v", c.why, c.st, c.force, c.really, f, err)
		}
	}
}
