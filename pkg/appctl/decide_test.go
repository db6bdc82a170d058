package appctl

import (
	"strings"
	"testing"
	"time"
)

var (
	t1 = time.Unix(1_700_000_000, 0)
	t2 = t1.Add(time.Hour) // more recent
)

// Each case cites the Reference line of §22.4 (L6866-6919) it pins; the
// "consolidated view" rows are spec-part3 §5.6.
func TestDecide(t *testing.T) {
	clean := View{}
	localStale := View{LocalStale: true}
	remoteStale := View{RemoteStale: true}
	bothStale := View{LocalStale: true, RemoteStale: true}
	cases := []struct {
		name string
		in   Input
		want Decision
		why  string // substring of Reason when !Start
	}{
		// Decision 1: both nodes available (L6878-6886).
		{"L6882 views agree, clean", Input{Reach: ReachBoth, RemoteKnown: true},
			Decision{Start: true, LocalCurrent: true, RemoteCurrent: true, Believed: "local"}, ""},
		{"L6882 views agree, remote stale", Input{Reach: ReachBoth, Local: remoteStale, Remote: remoteStale, RemoteKnown: true},
			Decision{Start: true, LocalCurrent: true, Believed: "local"}, ""},
		{"L6882+L6934 views agree, local stale: data from the remote copy", Input{Reach: ReachBoth, Local: localStale, Remote: localStale, RemoteKnown: true},
			Decision{Start: true, RemoteCurrent: true, Believed: "local"}, ""},
		{"L6882 views agree, both stale: abort", Input{Reach: ReachBoth, Local: bothStale, Remote: bothStale, RemoteKnown: true},
			Decision{}, "Neither node has a current copy"},
		{"L6882 both stale, --force is not enough", Input{Reach: ReachBoth, Local: bothStale, Remote: bothStale, RemoteKnown: true, Force: true},
			Decision{}, "use --reallyforce"},
		{"L6882 both stale, --reallyforce starts on local", Input{Reach: ReachBoth, Local: bothStale, Remote: bothStale, RemoteKnown: true, ReallyForce: true},
			Decision{Start: true, LocalCurrent: true, ClearLocalStale: true, Believed: "local"}, ""},
		{"L6883 disagree, remote TIME newer: believe remote", Input{Reach: ReachBoth, Local: clean, Remote: localStale, RemoteKnown: true, LocalTime: t1, RemoteTime: t2},
			Decision{Start: true, RemoteCurrent: true, Believed: "remote"}, ""},
		{"L6883 disagree, local TIME newer: believe local", Input{Reach: ReachBoth, Local: remoteStale, Remote: localStale, RemoteKnown: true, LocalTime: t2, RemoteTime: t1},
			Decision{Start: true, LocalCurrent: true, Believed: "local"}, ""},
		{"L6883 equal TIMEs: believe local", Input{Reach: ReachBoth, Local: remoteStale, Remote: localStale, RemoteKnown: true, LocalTime: t1, RemoteTime: t1},
			Decision{Start: true, LocalCurrent: true, Believed: "local"}, ""},
		{"L6884 disagree, only remote has TIME", Input{Reach: ReachBoth, Local: clean, Remote: localStale, RemoteKnown: true, RemoteTime: t1},
			Decision{Start: true, RemoteCurrent: true, Believed: "remote"}, ""},
		{"L6884 disagree, only local has TIME", Input{Reach: ReachBoth, Local: clean, Remote: localStale, RemoteKnown: true, LocalTime: t1},
			Decision{Start: true, LocalCurrent: true, RemoteCurrent: true, Believed: "local"}, ""},
		{"L6885 disagree, no TIME: abort", Input{Reach: ReachBoth, Local: clean, Remote: localStale, RemoteKnown: true},
			Decision{}, "use --force to believe this node"},
		{"L6885 disagree, no TIME, --force believes local", Input{Reach: ReachBoth, Local: clean, Remote: localStale, RemoteKnown: true, Force: true},
			Decision{Start: true, LocalCurrent: true, RemoteCurrent: true, Believed: "local"}, ""},
		{"L6885 disagree, no TIME, --reallyforce implies --force", Input{Reach: ReachBoth, Local: remoteStale, Remote: localStale, RemoteKnown: true, ReallyForce: true},
			Decision{Start: true, LocalCurrent: true, Believed: "local"}, ""},
		{"L6880 remote view not fetched: Decision 4", Input{Reach: ReachBoth},
			Decision{Start: true, LocalCurrent: true, MarkRemoteStale: true, Believed: "local"}, ""},
		{"L6880 remote view not fetched, remote live: abort", Input{Reach: ReachBoth, RemoteLive: true},
			Decision{}, "appears to run the application"},

		// Decision 2: remote node down (L6888-6896).
		{"L6890 remote down, no --force: abort", Input{Reach: ReachDown},
			Decision{}, "Remote node is not available"},
		{"L6890 remote down, local stale, no --force: abort", Input{Reach: ReachDown, Local: localStale},
			Decision{}, "use --force"},
		{"L6892 remote down, --force, local current: start, remote stale", Input{Reach: ReachDown, Force: true},
			Decision{Start: true, LocalCurrent: true, MarkRemoteStale: true, Believed: "local"}, ""},
		{"L6892 remote down, --force, remote already stale", Input{Reach: ReachDown, Local: remoteStale, Force: true},
			Decision{Start: true, LocalCurrent: true, MarkRemoteStale: true, Believed: "local"}, ""},
		{"L6894 remote down, --force, local stale: error", Input{Reach: ReachDown, Local: localStale, Force: true},
			Decision{}, "use --reallyforce"},
		{"L6896 remote down, --reallyforce, local stale: clear flags and start", Input{Reach: ReachDown, Local: localStale, Force: true, ReallyForce: true},
			Decision{Start: true, LocalCurrent: true, ClearLocalStale: true, MarkRemoteStale: true, Believed: "local"}, ""},
		{"L6896 remote down, --reallyforce alone", Input{Reach: ReachDown, Local: bothStale, ReallyForce: true},
			Decision{Start: true, LocalCurrent: true, ClearLocalStale: true, MarkRemoteStale: true, Believed: "local"}, ""},

		// Decision 3: no replication channel, ssh works (L6898-6913).
		{"L6902 no TIME files: abort", Input{Reach: ReachSSHOnly, RemoteKnown: true},
			Decision{}, "no TIME file"},
		{"L6902 no TIME files, --force believes local", Input{Reach: ReachSSHOnly, RemoteKnown: true, Force: true},
			Decision{Start: true, LocalCurrent: true, MarkRemoteStale: true, Believed: "local"}, ""},
		{"L6904 only local TIME", Input{Reach: ReachSSHOnly, RemoteKnown: true, LocalTime: t1},
			Decision{Start: true, LocalCurrent: true, MarkRemoteStale: true, Believed: "local"}, ""},
		{"L6904 only remote TIME, remote says local stale: abort", Input{Reach: ReachSSHOnly, Remote: localStale, RemoteKnown: true, RemoteTime: t1},
			Decision{}, "use --reallyforce"},
		{"L6906 both TIMEs, remote newer and clean", Input{Reach: ReachSSHOnly, Local: localStale, RemoteKnown: true, LocalTime: t1, RemoteTime: t2},
			Decision{Start: true, LocalCurrent: true, MarkRemoteStale: true, Believed: "remote"}, ""},
		{"L6906 both TIMEs, local newer, local stale: abort", Input{Reach: ReachSSHOnly, Local: localStale, RemoteKnown: true, LocalTime: t2, RemoteTime: t1},
			Decision{}, "local data is not current"},
		{"L6908 local not current, --force is not enough", Input{Reach: ReachSSHOnly, Local: localStale, Remote: localStale, RemoteKnown: true, LocalTime: t1, Force: true},
			Decision{}, "use --reallyforce"},
		{"L6908 local not current, --reallyforce starts", Input{Reach: ReachSSHOnly, Local: localStale, Remote: localStale, RemoteKnown: true, LocalTime: t1, ReallyForce: true},
			Decision{Start: true, LocalCurrent: true, ClearLocalStale: true, MarkRemoteStale: true, Believed: "local"}, ""},
		{"L6902 remote flags unreadable, local TIME: believe local", Input{Reach: ReachSSHOnly, LocalTime: t1},
			Decision{Start: true, LocalCurrent: true, MarkRemoteStale: true, Believed: "local"}, ""},
		{"L6902 remote flags unreadable, no TIME: abort", Input{Reach: ReachSSHOnly},
			Decision{}, "use --force"},

		// Decision 4: ping only (L6915-6919).
		{"L6917 remote thought live: abort", Input{Reach: ReachPingOnly, RemoteLive: true},
			Decision{}, "appears to run the application"},
		{"L6917 remote thought live, --force: continue to 4.2", Input{Reach: ReachPingOnly, RemoteLive: true, Force: true},
			Decision{Start: true, LocalCurrent: true, MarkRemoteStale: true, Believed: "local"}, ""},
		{"L6918 local valid: start, remote invalid", Input{Reach: ReachPingOnly},
			Decision{Start: true, LocalCurrent: true, MarkRemoteStale: true, Believed: "local"}, ""},
		{"L6919 local not valid: abort", Input{Reach: ReachPingOnly, Local: localStale},
			Decision{}, "use --reallyforce"},
		{"L6919 local not valid, --force is not enough", Input{Reach: ReachPingOnly, Local: localStale, Force: true},
			Decision{}, "use --reallyforce"},
		{"L6919 local not valid, --reallyforce: warn and start", Input{Reach: ReachPingOnly, Local: localStale, ReallyForce: true},
			Decision{Start: true, LocalCurrent: true, ClearLocalStale: true, MarkRemoteStale: true, Believed: "local"}, ""},
		{"L6917 remote live and local stale, --reallyforce", Input{Reach: ReachPingOnly, Local: localStale, RemoteLive: true, ReallyForce: true},
			Decision{Start: true, LocalCurrent: true, ClearLocalStale: true, MarkRemoteStale: true, Believed: "local"}, ""},
	}
	if len(cases) < 30 {
		t.Fatalf("only %d cases", len(cases))
	}
	for _, c := range cases {
		got := Decide(c.in)
		if got.Start != c.want.Start {
			t.Errorf("%s: start = %v (%s), want %v", c.name, got.Start, got.Reason, c.want.Start)
			continue
		}
		if !got.Start {
			if got.Reason == "" || !strings.Contains(got.Reason, c.why) {
				t.Errorf("%s: reason %q, want it to contain %q", c.name, got.Reason, c.why)
			}
			continue
		}
		if got.LocalCurrent != c.want.LocalCurrent || got.RemoteCurrent != c.want.RemoteCurrent || got.ClearLocalStale != c.want.ClearLocalStale ||
			got.MarkRemoteStale != c.want.MarkRemoteStale || got.Believed != c.want.Believed {
			t.Errorf("%s:\n got %+v\nwant %+v", c.name, got, c.want)
		}
	}
}

// Every forced or degraded start says so (L6892, L6896, L6919).
func TestDecideWarnsWhenDegraded(t *testing.T) {
	for _, in := range []Input{
		{Reach: ReachDown, Force: true},
		{Reach: ReachDown, Local: View{LocalStale: true}, ReallyForce: true},
		{Reach: ReachSSHOnly, LocalTime: t1},
		{Reach: ReachPingOnly},
	} {
		if d := Decide(in); !d.Start || len(d.Warnings) == 0 {
			t.Errorf("%+v: %+v, want a start with a warning", in, d)
		}
	}
	if d := Decide(Input{Reach: ReachBoth, RemoteKnown: true}); len(d.Warnings) != 0 {
		t.Errorf("clean start warned: %v", d.Warnings)
	}
}
