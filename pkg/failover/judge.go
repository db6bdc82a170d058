package failover

// Verdict is what a node concludes when every path to the other node is
// silent and it does not answer an echo (§21.6, L6739-6766).
type Verdict string

const (
	Dead        Verdict = "DEAD"        // take over its applications
	Partitioned Verdict = "PARTITIONED" // change nothing
	DaemonDied  Verdict = "DAEMON-DIED" // the node is fine, only its daemon went
)

// Silence is what the silent node's applications and this node's
// reachability say, gathered by the daemon before judging.
type Silence struct {
	// PeerApps counts the applications thought to run on the other node.
	PeerApps int
	// AppAddrAnswers: an address of one of those applications answers a
	// ping (L6746).
	AppAddrAnswers bool
	// Checklists: applications here or there define checklists (L6748).
	Checklists bool
	// ChecklistOK: this node reaches the checklist hosts (checkpercent).
	ChecklistOK bool
	// ReachList: clconf.xml lists hosts every node should reach (seed
	// 004); ReachMine is the share of them this node reaches, 0-100.
	ReachList bool
	ReachMine int
	// TieWinner: this node's name sorts before the other's, so it is the
	// one that acts when the reach list cannot tell (exactly half each).
	TieWinner bool
}

// Judge answers the Reference's questions in order (L6743-6752), with the
// reach list of seed 004 first: a node that cannot see the hosts both
// nodes should see is the one cut off, and it stands down rather than
// start a second copy of everything. The Reference's own last rule, "if
// any applications run on the other node, assume it is down", is kept
// only when nothing else can tell, and it is where split-brain comes
// from (L6758); the TOC of Duplicate ends that.
//
// Reaching exactly half of the list is a tie the two nodes of a
// symmetric partition both see: the node whose name sorts first goes on
// to the other rules, the other stands down, so that a 50/50 split never
// makes both take over (the tie rule of duplicates, L6764, applied
// before the fact).
func Judge(s Silence) Verdict {
	if s.ReachList && (s.ReachMine < 50 || s.ReachMine == 50 && !s.TieWinner) {
		return Partitioned
	}
	if s.AppAddrAnswers {
		return DaemonDied
	}
	if s.Checklists {
		if s.ChecklistOK {
			return Dead
		}
		return Partitioned
	}
	if s.ReachList {
		return Dead // this node reaches most of the list: the other is the one gone
	}
	if s.PeerApps > 0 {
		return Dead
	}
	return Partitioned
}
