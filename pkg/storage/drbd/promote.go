package drbd

import "errors"

// ErrTornCopy is a forced promotion refused: this node's copy is
// Inconsistent and no current copy is connected to read from.
var ErrTornCopy = errors.New("this node's copy is Inconsistent (a resynchronisation did not finish) and no current copy is connected: " +
	"made primary by force it would serve torn data; --reallyforce does that")

// PromoteForce decides how a volume in state st is made primary when the
// caller asked for force (the peer is gone or not known to be older):
// whether to pass DRBD's --force, or to refuse.
//
// DRBD 8.4's "primary --force" promotes any attached disk, an
// Inconsistent one too — a resynchronisation target whose blocks are
// half old, half new. The Reference refuses to start on a copy this node
// holds not valid unless --reallyforce (L6892-6894, L6919), and DRBD's
// own disk state is the surest such mark: so an Inconsistent disk is
// promoted by force only with reallyForce. Connected to an UpToDate peer
// it needs no force at all (DRBD reads through to the peer, L6370-6372),
// and forcing it would make the torn copy the source of a resync that
// overwrites the good one. Consistent, Outdated and UpToDate disks are
// whole file systems of some moment: force is the caller's to give.
func PromoteForce(st State, force, reallyForce bool) (useForce bool, err error) {
	switch {
	case !force && !reallyForce:
		return false, nil
	case st.Disk != "Inconsistent":
		return true, nil
	case st.PeerDisk == "UpToDate":
		return false, nil
	case reallyForce:
		return true, nil
	}
	return false, ErrTornCopy
}
