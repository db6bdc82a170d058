package failover

import (
	"reflect"
	"strings"
	"testing"
)

// steps renders a simulation as "node: action (why)" lines.
func steps(t *testing.T, views map[string]View, ev any) []string {
	t.Helper()
	ss, err := Simulate(views, ev)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range ss {
		for _, a := range s.Actions {
			out = append(out, s.Node+": "+a.String()+" ("+a.Why+")")
		}
	}
	return out
}

// Golden cases of the what-if simulator: the event as clsimulate takes
// it, the views it reads, and the actions with their reasons.
func TestSimulateGolden(t *testing.T) {
	onA := view(app("apache", "servera"), app("samba", "serverb"))
	cases := []struct {
		cite  string
		views map[string]View
		ev    any
		want  []string
	}{
		{"L6538 servera dies: serverb, seen through servera's view, takes apache over",
			map[string]View{"servera": onA}, NodeDies{Node: "servera"},
			[]string{
				"serverb: mark-down apache (it ran on the dead node (L6548))",
				"serverb: start apache force addrs-silent (take over the application its node lost (L6538-6540))",
			}},
		{"L6538 serverb dies: servera takes samba over",
			map[string]View{"servera": onA}, NodeDies{Node: "serverb"},
			[]string{
				"servera: mark-down samba (it ran on the dead node (L6548))",
				"servera: start samba force addrs-silent (take over the application its node lost (L6538-6540))",
			}},
		{"L7636 Lems on servera asks to move apache", map[string]View{"servera": onA}, LemsFailover{App: "apache"},
			nil},
		{"no Lems watches an application that runs nowhere", map[string]View{"servera": view(app("apache", ""))},
			LemsFailover{App: "apache"}, []string{"servera: note apache (it runs nowhere, so no Lems watches it)"}},
		{"L6762-6764 the partition heals with apache on both nodes",
			map[string]View{"servera": view(app("apache", "servera", since(t0))), "serverb": asB(view(app("apache", "serverb", since(t0.Add(5e9)))))},
			PartitionHeals{}, nil},
		{"a heal seen from one view alone finds the registries agreeing", map[string]View{"servera": onA}, PartitionHeals{},
			[]string{"servera: note (the registries agree: nothing to do)", "serverb: note (the registries agree: nothing to do)"}},
	}
	for _, c := range cases {
		t.Run(c.cite, func(t *testing.T) {
			got := steps(t, c.views, c.ev)
			if c.want == nil {
				// Decide's own golden cases pin these actions: here
				// they must be exactly what Decide gives that node.
				c.want = decided(t, c.views, c.ev)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(c.want, "\n     "))
			}
		})
	}
}

// decided is what Decide says on the node the event belongs to.
func decided(t *testing.T, views map[string]View, ev any) []string {
	var out []string
	add := func(node string, acts []Action) {
		for _, a := range acts {
			out = append(out, node+": "+a.String()+" ("+a.Why+")")
		}
	}
	switch e := ev.(type) {
	case LemsFailover:
		add("servera", Decide(views["servera"], FailoverRequest{App: e.App}))
	case PartitionHeals:
		a, b := views["servera"], views["serverb"]
		add("servera", Decide(a, Duplicate{App: "apache", PeerSince: t0.Add(5e9)}))
		add("serverb", Decide(b, Duplicate{App: "apache", PeerSince: t0}))
	}
	if len(out) == 0 {
		t.Fatal("no decision to compare with")
	}
	return out
}

func TestSimulateRefusesStrangers(t *testing.T) {
	if _, err := Simulate(map[string]View{"servera": view()}, NodeDies{Node: "serverc"}); err == nil {
		t.Fatal("a node outside the cluster was simulated")
	}
	if _, err := Simulate(nil, PartitionHeals{}); err == nil {
		t.Fatal("no view, yet a simulation")
	}
}

func TestPerspective(t *testing.T) {
	v := view(app("apache", "serverb", localStale))
	w, err := v.Perspective("serverb")
	if err != nil {
		t.Fatal(err)
	}
	if w.Me != "serverb" || w.Peer != "servera" || w.Apps[0].LocalStale || !w.Apps[0].PeerStale {
		t.Fatalf("%+v", w)
	}
	if v.Apps[0].PeerStale {
		t.Fatal("Perspective changed the view it was given")
	}
}
