package faultlab_test

import (
	"bytes"
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
// 30 applications at the fast profile and measures how long after the
// crash the router saw the last of their addresses announced (the
// takeover time of issue 20, which asks for 30 applications at most 2x
// one), and, from the surviving cldaemon's log, how long after the death
// verdict the last of them had its addresses up and was started:
// independent applications start together (failover.Action.Wave). GROWTH_RUNS crashes each (default 5);
// GROWTH_APPS picks the sizes (default "1,10,30"; the first is the base
// of the ratio).
func BenchmarkGrowth(b *testing.B) {
	runs := envInt("GROWTH_RUNS", 5)
	type point struct {
		apps                     int
		announced, addrs, starts dist
	}
	var curve []point
	for _, n := range envInts(b, "GROWTH_APPS", []int{1, 10, 30}) {
		announced, addrs, starts := growthCrashes(b, n, runs)
		curve = append(curve, point{n, announced, addrs, starts})
	}
	b.StopTimer()
	fmt.Printf("\nTakeover of N applications after a node crash, namespace testbed (native speed), fast profile, %s:\n", time.Now().Format("02/01/2006"))
	fmt.Printf("  each application: one address, one replicated directory (filesync), start script /bin/true\n")
	for _, p := range curve {
		fmt.Printf("  %2d applications  crash -> every address announced (router capture): %s\n", p.apps, p.announced)
		fmt.Printf("  %2d applications  verdict -> all addresses up: %s\n", p.apps, p.addrs)
		fmt.Printf("  %2d applications  verdict -> all started:      %s\n", p.apps, p.starts)
	}
	one, last := curve[0], curve[len(curve)-1]
	ratio := func(f func(point) dist) float64 {
		a, z := f(one), f(last)
		if len(a) == 0 || len(z) == 0 {
			return 0
		}
		return float64(z.median()) / float64(a.median())
	}
	crash := ratio(func(p point) dist { return p.announced })
	fmt.Printf("  median ratio %d / %d applications: crash -> all announced %.2f (target <= 2.00 for 30 / 1); verdict -> addresses up %.2f; verdict -> started %.2f\n",
		last.apps, one.apps, crash, ratio(func(p point) dist { return p.addrs }), ratio(func(p point) dist { return p.starts }))
	b.ReportMetric(crash, "ratio-30/1-apps")
}

// growthCrashes builds n applications on a testbed of its own, runs them
// on servera and crashes the node running them runs times.
func growthCrashes(b *testing.B, n, runs int) (announced, addrs, starts dist) {
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
		// The router's view: echoes to the first address every
		// millisecond until the crash, and every address's gratuitous
		// ARP from the survivor.
		dump := tb.Router("timeout", "4", "tcpdump", "-i", "eth0", "-n", "-tt", "-l", "icmp or arp")
		var capture bytes.Buffer
		dump.Stdout = &capture
		if err := dump.Start(); err != nil {
			b.Fatal(err)
		}
		ping := tb.Router("timeout", "3.5", "ping", "-n", "-q", "-i", "0.001", ips[0])
		if err := ping.Start(); err != nil {
			b.Fatal(err)
		}
		time.Sleep(time.Second)
		tb.Op(b, "crash", active)
		testbed.Eventually(b, 60*time.Second, fmt.Sprintf("the takeover of %d applications logged", n), func() bool {
			s, a, ok := newTakeover(tb.Sh(b, survivor, "grep 'Takeover from' /var/log/cluster/cldaemon-cluster1.log; true"), logged)
			if ok {
				starts, addrs = append(starts, s), append(addrs, a)
			}
			return ok
		})
		ping.Wait()
		dump.Wait()
		if d, ok := allAnnounced(capture.String(), ips); ok {
			announced = append(announced, d)
		} else {
			b.Logf("%d apps, run %d: not every address was announced within the capture", n, i)
		}
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
	return announced, addrs, starts
}
