package clsimulate

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/linuxha-ng/linuxha/pkg/failover"
)

func TestParseEvent(t *testing.T) {
	good := map[string]any{
		"dies servera":           failover.NodeDies{Node: "servera"},
		"netfail public serverb": failover.NetworkFails{Net: "public", Node: "serverb"},
		"failover apache":        failover.LemsFailover{App: "apache"},
		"heal":                   failover.PartitionHeals{},
	}
	for in, want := range good {
		ev, _, err := ParseEvent(strings.Fields(in))
		if err != nil || ev != want {
			t.Errorf("%q: %v %v", in, ev, err)
		}
	}
	for _, in := range []string{"", "explode servera", "dies", "netfail public", "heal now"} {
		if _, _, err := ParseEvent(strings.Fields(in)); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}

func TestReadViews(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(s), 0o600)
		return p
	}
	good := write("good.json", `{"servera": {"Me": "servera", "Peer": "serverb", "PeerUp": true,
		"Apps": [{"Name": "apache", "State": "STARTED", "Node": "servera", "ValidNodes": ["servera", "serverb"], "Takeover": "normal"}]}}`)
	views, err := ReadViews(good)
	if err != nil || len(views) != 1 || views["servera"].Apps[0].Name != "apache" {
		t.Fatalf("%v %v", views, err)
	}
	steps, err := failover.Simulate(views, failover.NodeDies{Node: "servera"})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	Print(&out, "node servera dies", good, views, steps)
	for _, want := range []string{"Simulation: node servera dies (views of servera from " + good + ")",
		"serverb: servera is dead", "2. start apache force addrs-silent - take over the application its node lost (L6538-6540)", "Nothing was changed."} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("want %q in\n%s", want, out.String())
		}
	}
	for name, s := range map[string]string{"torn.json": `{"servera": {"Me": "ser`, "empty.json": `{}`,
		"mislabelled.json": `{"serverb": {"Me": "servera", "Peer": "serverb"}}`} {
		_, err := ReadViews(write(name, s))
		if err == nil || !strings.Contains(err.Error(), name) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: want one line naming the file, got %v", name, err)
		}
	}
}
