package failover

import (
	"reflect"
	"testing"
)

func rec(st, node string) Record {
	r := Record{State: st, Node: node}
	if st == "STARTED" {
		r.Since = t0
	}
	return r
}

// Golden cases of registry reconciliation (L6762-6764): each pins the
// outcome and the reason given for it.
func TestReconcileGolden(t *testing.T) {
	cases := []struct {
		cite     string
		v        View
		theirs   map[string]Record
		rejoined bool
		want     Reconciliation
	}{
		{"agreeing registries change nothing", view(app("apache", "servera"), app("samba", "")),
			map[string]Record{"apache": rec("STARTED", "servera"), "samba": rec("DOWN", "")}, false,
			Reconciliation{}},
		{"the other node is believed about what runs on it",
			view(app("apache", "")), map[string]Record{"apache": rec("STARTED", "serverb")}, false,
			Reconciliation{Adopt: []Adoption{{App: "apache", Record: rec("STARTED", "serverb"), Was: Record{State: "DOWN"},
				Why: "serverb is believed about what runs on it"}}}},
		{"the other node no longer runs it",
			view(app("apache", "serverb")), map[string]Record{"apache": rec("DOWN", "")}, false,
			Reconciliation{Adopt: []Adoption{{App: "apache", Record: rec("DOWN", ""), Was: Record{State: "STARTED", Node: "serverb"},
				Why: "serverb no longer runs it"}}}},
		{"this node is believed about itself", view(app("apache", "servera", state("STARTING"))),
			map[string]Record{"apache": rec("DOWN", "")}, false, Reconciliation{}},
		{"the other node saying it runs here is not taken", view(app("apache", "")),
			map[string]Record{"apache": rec("STARTED", "servera")}, false, Reconciliation{}},
		{"L6764 the first duplicate in name order decides; nothing after it is looked at",
			view(app("zeta", "servera"), app("alpha", "servera"), app("beta", "")),
			map[string]Record{"alpha": rec("STARTED", "serverb"), "beta": rec("STARTED", "serverb"), "zeta": rec("STARTED", "serverb")}, false,
			Reconciliation{Duplicate: &Duplicate{App: "alpha", PeerSince: t0}}},
		{"adoptions before the duplicate still apply",
			view(app("alpha", ""), app("beta", "servera")),
			map[string]Record{"alpha": rec("STARTED", "serverb"), "beta": rec("STARTED", "serverb")}, false,
			Reconciliation{Adopt: []Adoption{{App: "alpha", Record: rec("STARTED", "serverb"), Was: Record{State: "DOWN"},
				Why: "serverb is believed about what runs on it"}}, Duplicate: &Duplicate{App: "beta", PeerSince: t0}}},
		{"a duplicate only when both have STARTED", view(app("apache", "servera", state("STARTING"))),
			map[string]Record{"apache": rec("STARTED", "serverb")}, false, Reconciliation{}},
		{"L6548 a rebooted node that reports it DOWN lost it",
			view(app("apache", "serverb"), app("samba", "serverb")),
			map[string]Record{"apache": rec("DOWN", ""), "samba": rec("STARTED", "serverb")}, true,
			Reconciliation{Lost: []string{"apache"}}},
		{"without a reboot, DOWN there is adopted, not lost",
			view(app("apache", "serverb")), map[string]Record{"apache": rec("DOWN", "")}, false,
			Reconciliation{Adopt: []Adoption{{App: "apache", Record: rec("DOWN", ""), Was: Record{State: "STARTED", Node: "serverb"},
				Why: "serverb no longer runs it"}}}},
		{"a rejoin with an unanswered record asks again", view(app("apache", "serverb"), app("samba", "")),
			map[string]Record{"samba": rec("DOWN", "")}, true, Reconciliation{AskAgain: true}},
		{"an unanswered record outside a rejoin waits for the next round", view(app("apache", "serverb")),
			map[string]Record{}, false, Reconciliation{}},
	}
	for _, c := range cases {
		t.Run(c.cite, func(t *testing.T) {
			if got := Reconcile(c.v, "UP", c.theirs, c.rejoined); !reflect.DeepEqual(got, c.want) {
				t.Fatalf("\n got %+v\nwant %+v", got, c.want)
			}
		})
	}
}

// A daemon that answers but is not in the cluster yet - restarted with its
// node faster than dead (TestRestartWithinDead) and still joining - is
// not believed: adopting its empty registry's DOWN as "no longer runs it"
// left the application down everywhere once the rejoin's check (L6548)
// ran and found nothing lost (CI, 3 Dec 2026).
func TestReconcileJoiningPeer(t *testing.T) {
	v, theirs := view(app("apache", "serverb")), map[string]Record{"apache": rec("DOWN", "")}
	if got := Reconcile(v, "STARTING", theirs, false); !reflect.DeepEqual(got, Reconciliation{}) {
		t.Errorf("a joining daemon's records: got %+v, want nothing adopted", got)
	}
	if got := Reconcile(v, "STARTING", theirs, true); !reflect.DeepEqual(got, Reconciliation{AskAgain: true}) {
		t.Errorf("a rejoin seen while its daemon answers STARTING: got %+v, want it asked again", got)
	}
	// Once it is UP the same records show the loss.
	if got := Reconcile(v, "UP", theirs, true); !reflect.DeepEqual(got, Reconciliation{Lost: []string{"apache"}}) {
		t.Errorf("after the join: got %+v, want apache lost", got)
	}
}

// The STALE alert: once per application running here when the other
// node's copy goes stale, again only after it was in step.
func TestNewlyStaleGolden(t *testing.T) {
	v := view(app("apache", "servera", peerStale), app("samba", "servera"), app("db", "serverb", peerStale),
		app("web", "servera", state("STARTING"), peerStale), app("nfs", "servera", localStale))
	now, news := NewlyStale(v, nil)
	if !reflect.DeepEqual(news, []string{"apache"}) || !reflect.DeepEqual(now, map[string]bool{"apache": true}) {
		t.Fatalf("first look: news %v now %v; want apache only (db runs on serverb, web is starting, nfs is stale here)", news, now)
	}
	if _, news = NewlyStale(v, now); len(news) != 0 {
		t.Errorf("still stale: told again %v", news)
	}
	inStep := view(app("apache", "servera"))
	now, _ = NewlyStale(inStep, now)
	if _, news = NewlyStale(v, now); !reflect.DeepEqual(news, []string{"apache"}) {
		t.Errorf("stale again after being in step: %v", news)
	}
}

// Golden cases of the registry's claims (STARTING_APP and friends,
// L7609-7617), reasons included.
func TestClaimGolden(t *testing.T) {
	cases := []struct {
		cite string
		a    App
		c    Claim
		want ClaimResult
	}{
		{"L7610 a start on a valid node is recorded", app("apache", ""), Claim{State: "STARTING", Node: "servera"},
			ClaimResult{Reply: "OK", Why: "recorded", Record: true, State: "STARTING", Node: "servera"}},
		{"L7610 one start at a time", app("apache", "serverb", state("STARTING")), Claim{State: "STARTING", Node: "servera"},
			ClaimResult{Reply: "ALREADY_STARTING", Why: "one start at a time: it is starting on serverb (L7610)"}},
		{"the starter may repeat its claim", app("apache", "servera", state("STARTING")), Claim{State: "STARTING", Node: "servera"},
			ClaimResult{Reply: "OK", Why: "recorded", Record: true, State: "STARTING", Node: "servera"}},
		{"L7610 already running elsewhere", app("apache", "serverb"), Claim{State: "STARTING", Node: "servera"},
			ClaimResult{Reply: "ALREADY_STARTED", Why: "it is already running on serverb (L7610)"}},
		{"L7613 not a valid node", app("apache", "", valid(onlyB)), Claim{State: "STARTING", Node: "servera"},
			ClaimResult{Reply: "INVALID_NODE", Why: "servera is not a valid node for it (L7610-7613)"}},
		{"L6762-6764 the other node claims what runs here", app("apache", "servera"), Claim{State: "STARTED", Node: "serverb"},
			ClaimResult{Reply: "ALREADY_STARTED", Reconcile: true,
				Why: "it runs here: a takeover that finished after a partition healed; this node is believed about itself (L6762-6764)"}},
		{"L7609 started here: start time, Lems and an alert", app("apache", "servera", state("STARTING")), Claim{State: "STARTED", Node: "servera"},
			ClaimResult{Reply: "OK", Why: "recorded", Record: true, State: "STARTED", Node: "servera", Started: true, StartLems: true, Alert: "started"}},
		{"a takeover alerts by itself", app("apache", "servera", state("STARTING")), Claim{State: "STARTED", Node: "servera", Takeover: true},
			ClaimResult{Reply: "OK", Why: "recorded", Record: true, State: "STARTED", Node: "servera", Started: true, StartLems: true}},
		{"started on the other node: no Lems here", app("apache", "serverb", state("STARTING")), Claim{State: "STARTED", Node: "serverb"},
			ClaimResult{Reply: "OK", Why: "recorded", Record: true, State: "STARTED", Node: "serverb", Started: true}},
		{"a repeated STARTED keeps the start time", app("apache", "servera"), Claim{State: "STARTED", Node: "servera"},
			ClaimResult{Reply: "OK", Why: "recorded", Record: true, State: "STARTED", Node: "servera"}},
		{"stopping is recorded even on the other node's word", app("apache", "servera"), Claim{State: "STOPPING", Node: "servera"},
			ClaimResult{Reply: "OK", Why: "recorded", Record: true, State: "STOPPING", Node: "servera"}},
		{"stopped leaves no node", app("apache", "servera", state("STOPPING")), Claim{State: "DOWN", Node: "servera"},
			ClaimResult{Reply: "OK", Why: "recorded", Record: true, State: "DOWN", Alert: "stopped"}},
		{"a start undone is a failed start", app("apache", "servera", state("STARTING")), Claim{State: "DOWN", Node: "servera"},
			ClaimResult{Reply: "OK", Why: "recorded", Record: true, State: "DOWN", Alert: "start failed"}},
		{"the other node's stop is its daemon's to tell", app("apache", "serverb", state("STOPPING")), Claim{State: "DOWN", Node: "serverb"},
			ClaimResult{Reply: "OK", Why: "recorded", Record: true, State: "DOWN"}},
	}
	for _, c := range cases {
		t.Run(c.cite, func(t *testing.T) {
			if got := DecideClaim("servera", c.a, c.c); !reflect.DeepEqual(got, c.want) {
				t.Fatalf("\n got %+v\nwant %+v", got, c.want)
			}
		})
	}
}

// Golden cases of what is resynchronised when the other node comes back
// (L2664, L6370).
func TestResyncsGolden(t *testing.T) {
	v := view(app("samba", "servera", peerStale), app("apache", "servera", peerStale), app("nfs", "servera"),
		app("db", "serverb", localStale), app("web", "", peerStale), app("mail", "servera", state("STARTING"), peerStale))
	want := []Resync{
		{App: "apache", Why: "it runs here and serverb's copy is stale"},
		{App: "samba", Why: "it runs here and serverb's copy is stale"},
	}
	if got := Resyncs(v); !reflect.DeepEqual(got, want) {
		t.Fatalf("\n got %+v\nwant %+v", got, want)
	}
}
