package appcmd

import (
	"testing"

	"github.com/linuxha-ng/linuxha/internal/golden"
	"github.com/linuxha-ng/linuxha/pkg/jsonout"
)

func TestChooseNode(t *testing.T) {
	a := func(up, valid bool, apps int, load float64) NodeView {
		return NodeView{Name: "servera", Up: up, Valid: valid, Apps: apps, Load: load}
	}
	b := func(up, valid bool, apps int, load float64) NodeView {
		return NodeView{Name: "serverb", Up: up, Valid: valid, Apps: apps, Load: load}
	}
	cases := []struct {
		cite          string
		nodes         []NodeView
		me, req, pref string
		want          string
		wantErr       bool
	}{
		{"L5886 --node overrides preferred_node", []NodeView{a(true, true, 0, 0), b(true, true, 0, 0)}, "servera", "serverb", "servera", "serverb", false},
		{"L5886 --node only if available", []NodeView{a(true, true, 0, 0), b(false, true, 0, 0)}, "servera", "serverb", "", "", true},
		{"L5886 --node not valid for the app", []NodeView{a(true, true, 0, 0), b(true, false, 0, 0)}, "servera", "serverb", "", "", true},
		{"L7033 only available node beats preferred_node", []NodeView{a(true, true, 0, 0), b(false, true, 0, 0)}, "servera", "", "serverb", "servera", false},
		{"L7033 only valid node (software fail-over left it out)", []NodeView{a(true, false, 0, 0), b(true, true, 0, 0)}, "servera", "", "servera", "serverb", false},
		{"L5795 preferred node by name", []NodeView{a(true, true, 0, 0), b(true, true, 0, 0)}, "servera", "", "serverb", "serverb", false},
		{"L5845 LEAST_APP_LOAD picks fewer applications", []NodeView{a(true, true, 1, 0), b(true, true, 0, 0)}, "servera", "", "LEAST_APP_LOAD", "serverb", false},
		{"L5878 LEAST_APP_LOAD: mysql went to serverd", []NodeView{a(true, true, 1, 0), b(true, true, 0, 0)}, "servera", "", "LEAST_APP_LOAD", "serverb", false},
		{"LEAST_APP_LOAD tie goes to the current node", []NodeView{a(true, true, 1, 0), b(true, true, 1, 0)}, "serverb", "", "LEAST_APP_LOAD", "serverb", false},
		{"L5795 LEAST_CPU_LOAD picks lower load", []NodeView{a(true, true, 0, 2.5), b(true, true, 5, 0.3)}, "servera", "", "LEAST_CPU_LOAD", "serverb", false},
		{"LEAST_CPU_LOAD tie goes to the current node", []NodeView{a(true, true, 0, 1), b(true, true, 0, 1)}, "servera", "", "LEAST_CPU_LOAD", "servera", false},
		{"L7034 no preference: the current node", []NodeView{a(true, true, 0, 0), b(true, true, 0, 0)}, "serverb", "", "", "serverb", false},
		{"L7034 no preference, run from a non-node", []NodeView{a(true, true, 0, 0), b(true, true, 0, 0)}, "", "", "", "servera", false},
		{"preferred node down: the other", []NodeView{a(true, true, 0, 0), b(false, false, 0, 0)}, "serverb", "", "serverb", "servera", false},
		{"nothing available", []NodeView{a(false, true, 0, 0), b(true, false, 0, 0)}, "servera", "", "", "", true},
	}
	for _, c := range cases {
		got, _, err := ChooseNode(c.nodes, c.me, c.req, c.pref)
		if (err != nil) != c.wantErr || got != c.want {
			t.Errorf("%s: ChooseNode = %q, %v; want %q (error %v)", c.cite, got, err, c.want, c.wantErr)
		}
	}
}

// clrunapp --json's schema (issue 19): a dependency already running, the
// application started on its preferred node with the command used.
func TestRunDocGolden(t *testing.T) {
	node, other := "servera", "serverb"
	secs := jsonout.Seconds(2.25)
	golden.JSON(t, "clrunapp.json", RunDoc{Schema: RunSchema, Application: "apache", Steps: []RunStep{
		{Application: "db", State: "STARTED", Action: "none", Node: &other, Why: "already STARTED", DependsOn: []string{}},
		{Application: "apache", State: "DOWN", Action: "start", Node: &node, Why: "preferred_node", DependsOn: []string{"db"},
			Command: []string{"/usr/sbin/clstartapp", "--application", "apache", "--maxdelay", "30", "--verbose"}, Started: true, StartSeconds: &secs},
	}})
}
