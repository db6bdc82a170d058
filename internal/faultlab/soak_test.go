package faultlab_test

import (
	"fmt"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// BenchmarkSoak (make bench-soak) runs the fast profile for SOAK_MINUTES
// (10) with both nodes' cores saturated by stress-ng (two CPU hogs per
// node on this machine's two cores) and counts false deaths: the other
// node judged dead, or its daemon judged died, while both run. It prints
// the heartbeat interval distribution each daemon measured
// (linuxha_heartbeat_interval_seconds) against warn and dead.
func BenchmarkSoak(b *testing.B) {
	if _, err := exec.LookPath("stress-ng"); err != nil {
		b.Skip("stress-ng is not installed (scripts/deps bench)")
	}
	minutes := envInt("SOAK_MINUTES", 10)
	pr := benchProfiles(1)[0]
	tm := pr.tm
	tm.Global = "<metrics>9100</metrics>"
	tb := benchCluster(b, tm, "")
	first := holder(b, tb, appIP)
	b.ResetTimer()

	for _, n := range nodes {
		tb.Background(b, n, "stress-ng", "--cpu", "0", "--timeout", fmt.Sprintf("%ds", minutes*60), "--quiet")
	}
	end := time.Now().Add(time.Duration(minutes) * time.Minute)
	moved := 0
	for time.Now().Before(end) {
		time.Sleep(min(10*time.Second, time.Until(end)+time.Millisecond))
		if h := holder(b, tb, appIP); h != first {
			moved++
			first = h
		}
	}
	b.StopTimer()
	tb.Sh(b, "servera", "pkill stress-ng; true")
	tb.Sh(b, "serverb", "pkill stress-ng; true")

	fmt.Printf("\nSoak: fast profile (keepalive %s warn %s dead %s), %d minutes, stress-ng --cpu 0 in both nodes:\n",
		tm.Keepalive, tm.Warn, tm.Dead, minutes)
	falseDeaths := 0
	for _, n := range nodes {
		count := func(pattern string) int {
			out := strings.TrimSpace(tb.Sh(b, n, "grep -c -E '"+pattern+"' /var/log/cluster/cldaemon-cluster1.log; true"))
			c, _ := strconv.Atoi(out)
			return c
		}
		dead, died := count("is DEAD"), count("has died but the node still responds")
		falseDeaths += dead + died
		fmt.Printf("  %s: judged dead %d, daemon judged died %d, path warnings (silent > warn) %d\n",
			n, dead, died, count("No heartbeat from"))
		fmt.Printf("  %s: heartbeat intervals %s\n", n, intervalTail(tb.Sh(b, n, "curl -s http://127.0.0.1:9100/metrics; true")))
	}
	fmt.Printf("  false deaths: %d (target 0); application moved %d times\n", falseDeaths, moved)
	b.ReportMetric(float64(falseDeaths), "false-deaths")
	if falseDeaths > 0 || moved > 0 {
		b.Errorf("%d false deaths and %d moves of the application under load at the fast profile", falseDeaths, moved)
	}
}

// intervalTail summarises the heartbeat interval histograms of one
// daemon's metrics: per network, the count, the bucket that holds the
// 99th and 99.9th percentile, and the largest bucket reached.
func intervalTail(metrics string) string {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(metrics))
	fam := fams["linuxha_heartbeat_interval_seconds"]
	if err != nil || fam == nil {
		return fmt.Sprintf("none (metrics not read: %v)", err)
	}
	var out []string
	for _, m := range fam.GetMetric() {
		h, network := m.GetHistogram(), ""
		for _, l := range m.GetLabel() {
			if l.GetName() == "network" {
				network = l.GetValue()
			}
		}
		total := float64(h.GetSampleCount())
		at := func(q float64) string {
			for _, bk := range h.GetBucket() {
				if float64(bk.GetCumulativeCount()) >= q*total {
					return fmt.Sprintf("<= %gs", bk.GetUpperBound())
				}
			}
			return "> the last bucket"
		}
		out = append(out, fmt.Sprintf("%s n=%.0f p99 %s p99.9 %s max %s", network, total, at(.99), at(.999), at(1)))
	}
	sort.Strings(out)
	return strings.Join(out, "; ")
}

// The soak's summary of a histogram as cldaemon serves it.
func TestIntervalTail(t *testing.T) {
	const text = `# HELP linuxha_heartbeat_interval_seconds Time between two heartbeats.
# TYPE linuxha_heartbeat_interval_seconds histogram
linuxha_heartbeat_interval_seconds_bucket{network="public",le="0.05"} 990
linuxha_heartbeat_interval_seconds_bucket{network="public",le="0.075"} 999
linuxha_heartbeat_interval_seconds_bucket{network="public",le="0.1"} 1000
linuxha_heartbeat_interval_seconds_bucket{network="public",le="+Inf"} 1000
linuxha_heartbeat_interval_seconds_sum{network="public"} 50
linuxha_heartbeat_interval_seconds_count{network="public"} 1000
`
	want := "public n=1000 p99 <= 0.05s p99.9 <= 0.075s max <= 0.1s"
	if got := intervalTail(text); got != want {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}
