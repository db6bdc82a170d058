package faultlab_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/linuxha-ng/linuxha/internal/testbed"
)

// benchLems monitors the benchmark's application the way the examples
// do: its flags, and its address.
const benchLems = `<?xml version="1.0"?>
<lems_config>
  <globals logs="/var/log/cluster/lems" port="8801"/>
  <check>
    <name>flag_check</name>
    <type>internal</type>
    <module>flag_check bench</module>
    <interval>5</interval>
    <action_list>
      <action rc="0" action="NOP"/>
      <action rc="1" action="%RCDATA%"/>
      <action rc="2" action="ABORT"/>
    </action_list>
  </check>
  <check>
    <name>ip</name>
    <type>internal</type>
    <module>ip_module bench</module>
    <interval>10</interval>
    <action_list>
      <action rc="0" action="NOP"/>
      <action rc="1" action="NOP"/>
      <action rc="2" action="NOP"/>
    </action_list>
  </check>
</lems_config>
`

// footprint is one process's resident memory and CPU share over a window.
type footprint struct {
	name   string
	rssKB  int
	anonKB int     // of rssKB, the process's own (heap, stacks); the rest is its binary's pages, shared
	cpu    float64 // percent of one core
}

// footprints reads, on node, the RSS and the CPU time over window of the
// daemons of one node (cldaemon, clnetd, cllockd, Lems): /proc/PID/status
// and /proc/PID/stat read twice (utime + stime in clock ticks of 1/100 s).
func footprints(b *testing.B, tb *testbed.Bed, node string, window time.Duration) []footprint {
	// The daemons name themselves (comm) cldaemon-CLUSTER, clnetd-...,
	// cllockd-... and lems-APP.
	const script = `for d in /proc/[0-9]*; do
  n=$(cat $d/comm 2>/dev/null) || continue
  case "$n" in cldaemon-*|clnetd-*|cllockd-*|lems-*) ;; *) continue;; esac
  r=$(awk '/^VmRSS/{r=$2} /^RssAnon/{a=$2} END{print r, a}' $d/status)
  t=$(awk '{print $14+$15}' $d/stat)
  echo "${d#/proc/} $n $r $t"
done`
	first := tb.Sh(b, node, script)
	time.Sleep(window)
	second := tb.Sh(b, node, script)
	ticks := map[string]int{}
	for _, l := range strings.Split(strings.TrimSpace(first), "\n") {
		f := strings.Fields(l)
		if len(f) == 5 {
			ticks[f[0]], _ = strconv.Atoi(f[4])
		}
	}
	var out []footprint
	for _, l := range strings.Split(strings.TrimSpace(second), "\n") {
		f := strings.Fields(l)
		t0, ok := ticks[f[0]]
		if len(f) != 5 || !ok {
			continue
		}
		rss, _ := strconv.Atoi(f[2])
		anon, _ := strconv.Atoi(f[3])
		t1, _ := strconv.Atoi(f[4])
		out = append(out, footprint{name: f[1], rssKB: rss, anonKB: anon, cpu: float64(t1-t0) / 100 / window.Seconds() * 100})
	}
	return out
}

// BenchmarkFootprint (make bench-footprint) measures an idle cluster
// running one application: each daemon's and Lems' resident memory and
// CPU share over FOOTPRINT_SECONDS (60) at the Reference's timings and at
// the fast profile, and how long clstat takes to answer (20 calls).
// Targets (issue 20): 15 MiB and 0.2 % of a core per idle daemon, 15 MiB
// per Lems, clstat within 50 ms.
func BenchmarkFootprint(b *testing.B) {
	window := time.Duration(envInt("FOOTPRINT_SECONDS", 60)) * time.Second
	for _, pr := range benchProfiles(0) {
		tb := benchCluster(b, pr.tm, benchLems)
		// Lems started, its first monitor rounds and the application's
		// start-up work over (measured: both daemons were still busy
		// with it for 20 to 30 s after the cluster formed).
		time.Sleep(30 * time.Second)
		// Entering the node's namespaces costs time of its own: true,
		// run the same way, is the baseline.
		var clstat, baseline dist
		for range 20 {
			t0 := time.Now()
			if r := tb.Exec(b, "servera", "", "clstat"); r.Code != 0 {
				b.Fatalf("clstat: %s", r.Output())
			}
			clstat = append(clstat, time.Since(t0))
			t0 = time.Now()
			tb.Exec(b, "servera", "", "true")
			baseline = append(baseline, time.Since(t0))
		}
		fps := footprints(b, tb, "servera", window)
		fmt.Printf("\nIdle footprint, %s profile (keepalive %s), node running the application, over %v (%s):\n",
			pr.name, pr.tm.Keepalive, window, time.Now().Format("02/01/2006"))
		for _, f := range fps {
			fmt.Printf("  %-16s RSS %5.1f MiB (its own %4.1f MiB, its binary's pages %4.1f)  CPU %5.2f %% of a core\n",
				f.name, float64(f.rssKB)/1024, float64(f.anonKB)/1024, float64(f.rssKB-f.anonKB)/1024, f.cpu)
		}
		fmt.Printf("  clstat (a process started in the node, both daemons asked): %s\n", clstat)
		fmt.Printf("  true, started the same way (the testbed's own cost):         %s\n", baseline)
		if len(fps) < 4 {
			b.Errorf("found %d daemons on servera, want cldaemon, clnetd, cllockd and lems", len(fps))
		}
	}
}
