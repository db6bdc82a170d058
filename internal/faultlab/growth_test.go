package faultlab_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/linuxha-ng/linuxha/internal/testbed"
)

// growthApp is application i of the growth benchmark: its own address
// (172.16.177.10+i), one replicated directory and a start script that
// does nothing.
func growthApp(i int) (name, ip, conf string) {
	name, ip = fmt.Sprintf("g%02d", i), fmt.Sprintf("172.16.177.%d", 10+i)
	vg := fmt.Sprintf("    <name>%svg</name>\n    <type>directories</type>\n    <lv name=\"data\" mount=\"/growth/%s\"/>\n", name, name)
	conf = strings.Replace(appXML(name, "", vg, "/bin/true", "/bin/true", ""), appIP, ip, 1)
	return name, ip, conf
}

// BenchmarkGrowth (make bench-growth) crashes the node running 1, 10 and
// 30 applications at the fast profile and reads, from the surviving
// cldaemon's log, how long after the death verdict the last of them had
// its addresses up and was started: independent applications start
// together (failover.Action.Wave), so 30 should cost little more than
// one (issue 20: at most 2x). GROWTH_RUNS crashes each (default 5);
// GROWTH_APPS picks the sizes (default "1,10,30"; the first is the base
// of the ratio).
func BenchmarkGrowth(b *testing.B) {
	runs := envInt("GROWTH_RUNS", 5)
	type point struct {
		apps          int
		addrs, starts dist
	}
	var curve []point
	for _, n := range envInts(b, "GROWTH_APPS", []int{1, 10, 30}) {
		addrs, starts := growthCrashes(b, n, runs)
		curve = append(curve, point{n, addrs, starts})
	}
	b.StopTimer()
	fmt.Printf("\nTakeover of N applications after a node crash, namespace testbed (native speed), fast profile, %s:\n", time.Now().Format("02/01/2006"))
	fmt.Printf("  each application: one address, one replicated directory (filesync), start script /bin/true\n")
	for _, p := range curve {
		fmt.Printf("  %2d applications  verdict -> all addresses up: %s\n", p.apps, p.addrs)
		fmt.Printf("  %2d applications  verdict -> all started:      %s\n", p.apps, p.starts)
	}
	one, last := curve[0], curve[len(curve)-1]
	ratio := float64(last.addrs.median()) / float64(one.addrs.median())
	fmt.Printf("  median ratio %d / %d applications: addresses up %.2f (target <= 2.00 for 30 / 1); started %.2f\n",
		last.apps, one.apps, ratio, float64(last.starts.median())/float64(one.starts.median()))
	b.ReportMetric(ratio, "ratio-30/1-apps")
}

// growthCrashes builds n applications on a testbed of its own, runs them
// on servera and crashes the node running them runs times.
func growthCrashes(b *testing.B, n, runs int) (addrs, starts dist) {
	tb := formCluster(b, benchProfiles(0)[0].tm)
	var ips, names []string
	for i := range n {
		name, ip, conf := growthApp(i)
		names = append(names, name)
		tb.WriteFile(b, "servera", "/etc/cluster/"+name+"/appconf.xml", conf, 0o644)
		tb.Sh(b, "servera", "mkdir -p /growth/"+name)
		buildAndRun(b, tb, name)
		ips = append(ips, ip)
	}
	last := ips[len(ips)-1]
	for i := 0; i < runs; i++ {
		active := holder(b, tb, last)
		if active == "" {
			b.Fatalf("%d apps, run %d: no node holds %s\n%s", n, i, last, logs(b, tb))
		}
		survivor := map[string]string{"servera": "serverb", "serverb": "servera"}[active]
		logged := len(strings.Fields(tb.Sh(b, survivor, "grep -o 'Takeover from' /var/log/cluster/cldaemon-cluster1.log | tr ' ' _; true")))
		time.Sleep(300 * time.Millisecond)
		tb.Op(b, "crash", active)
		testbed.Eventually(b, 60*time.Second, fmt.Sprintf("the takeover of %d applications logged", n), func() bool {
			s, a, ok := newTakeover(tb.Sh(b, survivor, "grep 'Takeover from' /var/log/cluster/cldaemon-cluster1.log; true"), logged)
			if ok {
				starts, addrs = append(starts, s), append(addrs, a)
			}
			return ok
		})
		for _, ip := range ips {
			if h := holder(b, tb, ip); h != survivor {
				b.Fatalf("%d apps, run %d: %s held by %q, not %s\n%s", n, i, ip, h, survivor, logs(b, tb))
			}
		}
		rejoin(b, tb, active, func() string { return logs(b, tb) }, names...)
	}
	if r := tb.Exec(b, holder(b, tb, last), "", "clhalt", "--force"); r.Code != 0 {
		b.Fatalf("clhalt --force: %s", r.Output())
	}
	return addrs, starts
}
