package cluster

import (
	"encoding/json"
	"os"
	"os/exec"
	"regexp"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// The examples' Grafana dashboard and Prometheus configuration read only
// metrics cldaemon exports (issue 19), and promtool takes the
// configuration.
func TestMetricsExamples(t *testing.T) {
	m := newMetrics(&Daemon{})
	ch := make(chan *prometheus.Desc, 64)
	collector{}.Describe(ch)
	for _, c := range []prometheus.Collector{m.failovers, m.takeovers, m.tocs, m.partitions, m.fenceAttempts, m.fenceFail, m.takeoverTime, m.takeoverAddrs, m.hbInterval} {
		c.Describe(ch)
	}
	close(ch)
	exported := map[string]bool{}
	fq := regexp.MustCompile(`fqName: "([^"]+)"`)
	for d := range ch {
		if s := fq.FindStringSubmatch(d.String()); s != nil {
			exported[s[1]] = true
		}
	}
	if len(exported) < 12 {
		t.Fatalf("only %d metrics described: %v", len(exported), exported)
	}
	data, err := os.ReadFile("../../examples/grafana/linuxha-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(data, &dash); err != nil {
		t.Fatalf("dashboard: %v", err)
	}
	used := 0
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			for _, name := range regexp.MustCompile(`linuxha_[a-z_]+`).FindAllString(tg.Expr, -1) {
				used++
				if !exported[name] {
					t.Errorf("panel %q reads %s, which cldaemon does not export", p.Title, name)
				}
			}
		}
	}
	if used == 0 {
		t.Error("the dashboard reads no linuxha metric")
	}
	if _, err := exec.LookPath("promtool"); err == nil {
		if out, err := exec.Command("promtool", "check", "config", "../../examples/prometheus/linuxha.yml").CombinedOutput(); err != nil {
			t.Errorf("promtool check config: %v\n%s", err, out)
		}
	}
}
