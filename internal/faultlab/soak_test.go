package faultlab_test

import (
	"fmt"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/linuxha-ng/linuxha/internal/testbed"
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
	tb := testbed.Up(b)
	tb.BuildCluster(b, tm)
	if r := tb.Exec(b, "servera", "", "clform"); r.Code != 0 {
		b.Fatalf("clform: %s", r.Output())
	}
	tb.WriteFile(b, "servera", "/etc/cluster/bench/appconf.xml", benchConf, 0o644)
	tb.Sh(b, "servera", "mkdir -p /bench/one /bench/two /bench/three")
	buildAndRun(b, tb, "bench")
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

var bucketLine = regexp.MustCompile(`^linuxha_heartbeat_interval_seconds_bucket\{network="([^"]+)",le="([^"]+)"\} (\S+)$`)

// intervalTail summarises the heartbeat interval histograms of one
// daemon's metrics: per network, the count, the bucket that holds the
// 99th and 99.9th percentile, and the largest bucket reached.
func intervalTail(metrics string) string {
	type bucket struct {
		le    float64
		count float64
	}
	per := map[string][]bucket{}
	for _, line := range strings.Split(metrics, "\n") {
		m := bucketLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		le, _ := strconv.ParseFloat(m[2], 64) // +Inf parses as infinity
		c, _ := strconv.ParseFloat(m[3], 64)
		per[m[1]] = append(per[m[1]], bucket{le, c})
	}
	if len(per) == 0 {
		return "none (metrics not read)"
	}
	var nets []string
	for n := range per {
		nets = append(nets, n)
	}
	sort.Strings(nets)
	var out []string
	for _, n := range nets {
		bs := per[n]
		sort.Slice(bs, func(i, j int) bool { return bs[i].le < bs[j].le })
		total := bs[len(bs)-1].count
		at := func(q float64) string {
			for _, bk := range bs {
				if bk.count >= q*total {
					return fmt.Sprintf("<= %gs", bk.le)
				}
			}
			return "?"
		}
		top := bs[0].le
		for i := 1; i < len(bs); i++ {
			if bs[i].count > bs[i-1].count {
				top = bs[i].le
			}
		}
		out = append(out, fmt.Sprintf("%s n=%.0f p99 %s p99.9 %s max <= %gs", n, total, at(.99), at(.999), top))
	}
	return strings.Join(out, "; ")
}
