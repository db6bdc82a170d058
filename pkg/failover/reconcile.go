package failover

import (
	"sort"
	"time"

	"github.com/linuxha-ng/linuxha/pkg/daemonapi"
)

// Record is the other daemon's word on one application (APP_STATUS with
// nodeinfo): each node is believed about what runs on it.
type Record struct {
	State, Node string
	Since       time.Time
}

// Adoption is a registry entry this node takes from the other daemon.
type Adoption struct {
	App    string
	Record Record
	// Was is the entry it replaces, so that the daemon applies it only
	// when nothing changed it meanwhile.
	Was Record
	Why string
}

// Reconciliation is what comparing the two registries finds. At most one
// of Duplicate and Lost is set: a duplicate is resolved first, and the
// next comparison looks again.
type Reconciliation struct {
	Adopt []Adoption
	// Duplicate is the first application, in name order, that runs on
	// both nodes: only it decides which node resets (L6764).
	Duplicate *Duplicate
	// Lost are applications this node had running on the other node,
	// which rebooted and now reports them DOWN: the PeerRestarted event.
	Lost []string
	// AskAgain: the other node has rejoined but some records went
	// unanswered, so the rejoin check runs again next time.
	AskAgain bool
}

// Reconcile compares this node's registry (v.Apps) with the other
// daemon's records (theirs; an application missing from it went
// unanswered). peerDaemon is the other daemon's own state (ECHO), asked
// before its records; rejoined says the other node has just joined after
// a reboot (ECHO boot=yes). It runs every ReconcileEvery while both are
// up and at once when the other node comes back (L6762-6764).
func Reconcile(v View, peerDaemon string, theirs map[string]Record, rejoined bool) Reconciliation {
	if peerDaemon != daemonapi.NodeUp {
		// A daemon that is not UP yet (restarted within dead and still
		// joining) answers from a registry it has only begun to fill:
		// its DOWN would be adopted as "no longer runs it", and the
		// reboot's check that follows its join would then find nothing
		// lost (L6548) - the application would stay down everywhere.
		// Its join brings the next comparison.
		return Reconciliation{AskAgain: rejoined}
	}
	apps := append([]App(nil), v.Apps...)
	sort.Slice(apps, func(i, j int) bool { return apps[i].Name < apps[j].Name })
	var r Reconciliation
	unasked := false
	for _, a := range apps {
		pr, ok := theirs[a.Name]
		if !ok {
			unasked = true
			continue
		}
		if rejoined && a.Node == v.Peer && a.State == daemonapi.AppStarted && pr.State == daemonapi.AppDown {
			r.Lost = append(r.Lost, a.Name)
			continue
		}
		mineHere := a.Node == v.Me && a.State != daemonapi.AppDown
		peerThere := pr.Node == v.Peer && pr.State != daemonapi.AppDown
		if mineHere && a.State == daemonapi.AppStarted && peerThere && pr.State == daemonapi.AppStarted {
			return Reconciliation{Adopt: r.Adopt, Duplicate: &Duplicate{App: a.Name, PeerSince: pr.Since}}
		}
		if mineHere || a.State == pr.State && a.Node == pr.Node {
			continue // this node's word about itself stands, or they agree
		}
		was := Record{State: a.State, Node: a.Node}
		switch {
		case peerThere:
			r.Adopt = append(r.Adopt, Adoption{App: a.Name, Record: pr, Was: was,
				Why: v.Peer + " is believed about what runs on it"})
		case a.Node == v.Peer && a.State != daemonapi.AppDown && pr.Node != v.Me:
			r.Adopt = append(r.Adopt, Adoption{App: a.Name, Record: pr, Was: was,
				Why: v.Peer + " no longer runs it"})
		}
	}
	r.AskAgain = rejoined && unasked
	return r
}

// Resync is an application to bring up to date on the other node now.
type Resync struct {
	App, Why string
}

// Resyncs is what this node does when the other node comes back (its
// heartbeats return or it joins): each application running here whose
// copy there is flagged stale is resynchronised at once rather than at
// the replication's next period, so the STALE flags a partition or an
// outage left go as soon as the data is back in step (L2664 "the data
// replication ... started shortly", L6370 "automatically updated after a
// short period").
func Resyncs(v View) []Resync {
	var out []Resync
	for _, a := range v.Apps {
		if a.Node == v.Me && a.State == daemonapi.AppStarted && a.PeerStale {
			out = append(out, Resync{App: a.Name, Why: "it runs here and " + v.Peer + "'s copy is stale"})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].App < out[j].App })
	return out
}

// NewlyStale is the data-currency alert (issue 19): the applications
// running here whose copy on the other node has become STALE since the
// last look (was), and what to remember for the next one. Only the
// node running an application tells: it holds the current copy and the
// flag for the other one (L2996), so one event is sent, not two.
func NewlyStale(v View, was map[string]bool) (now map[string]bool, news []string) {
	now = map[string]bool{}
	for _, a := range v.Apps {
		if a.Node == v.Me && a.State == daemonapi.AppStarted && a.PeerStale {
			now[a.Name] = true
			if !was[a.Name] {
				news = append(news, a.Name)
			}
		}
	}
	sort.Strings(news)
	return now, news
}
