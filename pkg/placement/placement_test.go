package placement

import (
	"slices"
	"testing"

	"github.com/linuxha-ng/linuxha/pkg/config"
)

func TestOrder(t *testing.T) {
	all := func(alive ...bool) []Candidate {
		cs := []Candidate{{Name: "a", Apps: 2, Load: 0.5}, {Name: "b", Apps: 0, Load: 1.5}, {Name: "c", Apps: 1, Load: 0.1}, {Name: "d", Apps: 0, Load: 0.9}}
		for i := range cs {
			cs[i].Alive = i >= len(alive) || alive[i]
		}
		return cs
	}
	for _, c := range []struct {
		name      string
		preferred string
		backups   []string
		cands     []Candidate
		want      []string
	}{
		// L5795: preferred_node first; then the configuration's order.
		{"preferred node", "c", nil, all(), []string{"c", "a", "b", "d"}},
		{"no preference: the configuration's order", "", nil, all(), []string{"a", "b", "c", "d"}},
		// DRCM's node_backup: only the preferred and its backups, in order.
		{"ordered backups", "c", []string{"d", "a"}, all(), []string{"c", "d", "a"}},
		{"preferred down: the first backup alive", "c", []string{"d", "a"}, all(true, true, false, false), []string{"a"}},
		{"nothing valid alive", "c", []string{"d"}, all(true, true, false, false), nil},
		// L5845: the fewest applications; ties in the configuration's order.
		{"least application load", config.LeastAppLoad, nil, all(), []string{"b", "d", "c", "a"}},
		{"least CPU load", config.LeastCPULoad, nil, all(), []string{"c", "a", "d", "b"}},
		{"least CPU load among the valid", config.LeastCPULoad, []string{"b", "d"}, all(), []string{"d", "b"}},
	} {
		if got := Order(c.preferred, c.backups, c.cands); !slices.Equal(got, c.want) {
			t.Errorf("%s: Order = %v; want %v", c.name, got, c.want)
		}
	}
	if r, ok := Rank("d", "c", []string{"d", "a"}, all()); r != 1 || !ok {
		t.Errorf("Rank(d) = %d %v; want 1 true", r, ok)
	}
	if _, ok := Rank("b", "c", []string{"d", "a"}, all()); ok {
		t.Error("b is not a valid node but ranks")
	}
	// Without a preference no node waits for another.
	if r, ok := Rank("d", "", nil, all()); r != 0 || !ok {
		t.Errorf("Rank(d) without a preference = %d %v; want 0 true", r, ok)
	}
}

func TestLeaderFor(t *testing.T) {
	for _, c := range []struct {
		name    string
		me      string
		members []string
		owned   map[string]int
		witness string
		want    string
	}{
		{"an owner leading: to a member owning none", "a", []string{"a", "b", "c"}, map[string]int{"a": 1}, "", "b"},
		{"the witness owns none", "a", []string{"a", "b", "witness"}, map[string]int{"a": 1, "b": 1}, "witness", "witness"},
		// CI22: led by the node that owns nothing, a split between the
		// pair cut the owner off from the leader and moved the application.
		{"a pair node owning nothing still hands it to the witness", "a", []string{"a", "b", "witness"}, map[string]int{"b": 1}, "witness", "witness"},
		{"the witness leading: stay", "witness", []string{"a", "b", "witness"}, map[string]int{"a": 1}, "witness", ""},
		{"owning nothing: stay", "a", []string{"a", "b", "c"}, map[string]int{"b": 1}, "", ""},
		{"every other owns as much: stay", "a", []string{"a", "b", "c"}, map[string]int{"a": 1, "b": 1, "c": 2}, "", ""},
		{"the fewest", "a", []string{"a", "b", "c"}, map[string]int{"a": 3, "b": 2, "c": 1}, "", "c"},
	} {
		got, ok := LeaderFor(c.me, c.members, c.owned, c.witness)
		if got != c.want || ok != (c.want != "") {
			t.Errorf("%s: LeaderFor = %q %v; want %q", c.name, got, ok, c.want)
		}
	}
}
