package faultlab_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"iter"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/linuxha-ng/linuxha/internal/testbed"
)

// The benchmark's application: three replicated file systems and a start
// script that does nothing, so that what is timed is the cluster's part.
var benchConf = appXML("bench", "",
	"    <name>benchvg</name>\n    <type>directories</type>\n    <lv name=\"one\" mount=\"/bench/one\"/>\n    <lv name=\"two\" mount=\"/bench/two\"/>\n    <lv name=\"three\" mount=\"/bench/three\"/>\n",
	"/bin/true", "/bin/true", "")

// vip is the address keepalived and Pacemaker move: one address, where
// linuxha's rows move the application's (appIP).
const vip = "172.16.177.201"

// keepalived's VRRP instance on the same cards: advert_int 0.1 or 1
// (VRRPv3; version 2 rounds 0.1 up to 1 s), moving one address.
const keepalivedConf = `global_defs {
  router_id %s
  enable_script_security
  vrrp_version 3
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority %d
  advert_int %s
  virtual_ipaddress {
    %s/24 dev eth0
  }
}
`

// pinger follows "ping -D" from the router host: the times of the echo
// replies from one address.
type pinger struct {
	cmd     *exec.Cmd
	replies chan time.Time
}

func startPinger(b *testing.B, tb *testbed.Bed, ip string) *pinger {
	cmd := tb.Router("ping", "-D", "-n", "-i", "0.005", ip)
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	p := &pinger{cmd: cmd, replies: make(chan time.Time, 1<<16)}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			if !strings.HasPrefix(line, "[") || !strings.Contains(line, "bytes from") {
				continue
			}
			ts, _, _ := strings.Cut(line[1:], "]")
			f, err := strconv.ParseFloat(ts, 64)
			if err != nil {
				continue
			}
			p.replies <- time.Unix(0, int64(f*1e9))
		}
		io.Copy(io.Discard, out)
	}()
	return p
}

func (p *pinger) stop() { p.cmd.Process.Kill(); p.cmd.Wait() }

// outage waits, after t0, for the address to fall silent and answer
// again, and returns the silence: from the last reply of the old holder
// to the first reply of the new one. Echoes go every 5 ms, so a silence
// longer than gap is the fault, not the interval.
func (p *pinger) outage(t0 time.Time, limit time.Duration) (time.Duration, bool) {
	const gap = 40 * time.Millisecond
	prev := p.drain()
	deadline := time.After(limit)
	for {
		select {
		case ts := <-p.replies:
			if ts.After(t0) && !prev.IsZero() && ts.Sub(prev) > gap {
				return ts.Sub(prev), true
			}
			prev = ts
		case <-deadline:
			return 0, false
		}
	}
}

// cardOutage cuts card on node and reads, from a capture on the router
// with an echo every millisecond, how long the address was silent: from
// the last echo reply through the failed card to the gratuitous ARP from
// the standby card, after which the router sends to it (a reply after the
// ARP is required). ping's own timing cannot give this: after an echo goes
// unanswered it waits about 10 ms before the next.
func cardOutage(b *testing.B, tb *testbed.Bed, node, card, ip string) (time.Duration, bool) {
	dump := tb.Router("timeout", "3", "tcpdump", "-i", "eth0", "-n", "-tt", "-l", "icmp or arp")
	var out bytes.Buffer
	dump.Stdout = &out
	if err := dump.Start(); err != nil {
		b.Fatal(err)
	}
	ping := tb.Router("timeout", "2.5", "ping", "-n", "-q", "-i", "0.001", ip)
	if err := ping.Start(); err != nil {
		b.Fatal(err)
	}
	time.Sleep(time.Second)
	tb.Op(b, "cut", node, card)
	ping.Wait()
	dump.Wait()
	return garpOutage(out.String(), ip)
}

// garpOutage reads tcpdump -tt lines: the time from the last echo reply
// from ip before its first gratuitous ARP to that ARP, and whether ip
// answered after it.
func garpOutage(lines, ip string) (time.Duration, bool) {
	var last, garp float64
	for ts, l := range stamped(lines) {
		switch {
		case strings.Contains(l, "ARP, Request who-has "+ip+" tell "+ip) && garp == 0 && last != 0:
			garp = ts
		case strings.Contains(l, "IP "+ip+" > ") && strings.Contains(l, "echo reply"):
			if garp == 0 {
				last = ts
			} else {
				return time.Duration((garp - last) * 1e9), true
			}
		}
	}
	return 0, false
}

// stamped yields tcpdump -tt lines with their time stamps.
func stamped(lines string) iter.Seq2[float64, string] {
	return func(yield func(float64, string) bool) {
		for _, l := range strings.Split(lines, "\n") {
			f := strings.Fields(l)
			if len(f) < 2 {
				continue
			}
			if ts, err := strconv.ParseFloat(f[0], 64); err == nil && !yield(ts, l) {
				return
			}
		}
	}
}

// allAnnounced reads tcpdump -tt lines: from the last echo reply of
// ips[0] before the first gratuitous ARP for any of ips, to the first
// gratuitous ARP for the last of ips to be announced (crash -> every
// address up, as the router sees it); ok only when all were announced.
func allAnnounced(lines string, ips []string) (time.Duration, bool) {
	var last, end float64
	first := map[string]float64{}
	for ts, l := range stamped(lines) {
		if len(first) == 0 && strings.Contains(l, "IP "+ips[0]+" > ") && strings.Contains(l, "echo reply") {
			last = ts
		}
		for _, ip := range ips {
			if _, seen := first[ip]; !seen && last != 0 && strings.Contains(l, "ARP, Request who-has "+ip+" tell "+ip+",") {
				first[ip], end = ts, max(end, ts)
			}
		}
	}
	if len(first) < len(ips) {
		return 0, false
	}
	return time.Duration((end - last) * 1e9), true
}

// drain empties the queue and returns the last reply's time.
func (p *pinger) drain() time.Time {
	var last time.Time
	for {
		select {
		case last = <-p.replies:
		default:
			return last
		}
	}
}

func holder(b testing.TB, tb bed, ip string) string {
	for _, n := range nodes {
		if tb.Alive(n) && strings.Contains(tb.Exec(b, n, "", "ip", "-o", "addr", "show").Stdout, " "+ip+"/") {
			return n
		}
	}
	return ""
}

// logs is the end of both nodes' daemon and start logs, for a failure.
func logs(b *testing.B, tb *testbed.Bed) string {
	var out strings.Builder
	for _, n := range nodes {
		if tb.Alive(n) {
			fmt.Fprintf(&out, "== %s\n%s", n, tb.Sh(b, n, "tail -25 /var/log/cluster/cldaemon-cluster1.log; tail -15 /var/log/cluster/clstart.bench.log; true"))
		}
	}
	return out.String()
}

// newTakeover reads the last of cldaemon's "Takeover from X took N ms
// after the verdict (addresses up after M ms; ...)" lines, when there are
// more than before: the verdict to the application started, and to its
// addresses up.
func newTakeover(lines string, before int) (started, addrs time.Duration, ok bool) {
	all := strings.Split(strings.TrimSpace(lines), "\n")
	if lines == "" || len(all) <= before {
		return 0, 0, false
	}
	last := all[len(all)-1]
	ms := func(after string) (time.Duration, bool) {
		_, rest, ok := strings.Cut(last, after)
		if !ok {
			return 0, false
		}
		n, _, _ := strings.Cut(rest, " ms")
		v, err := strconv.Atoi(n)
		return time.Duration(v) * time.Millisecond, err == nil
	}
	started, ok1 := ms(" took ")
	addrs, ok2 := ms("addresses up after ")
	return started, addrs, ok1 && ok2
}

type dist []time.Duration

func (d dist) String() string {
	if len(d) == 0 {
		return "no samples"
	}
	s := append(dist(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	ms := func(x time.Duration) string { return fmt.Sprintf("%.0f", float64(x)/1e6) }
	return fmt.Sprintf("n=%-3d min %5s  median %5s  p90 %5s  max %5s ms", len(s), ms(s[0]), ms(s[len(s)/2]), ms(s[len(s)*9/10]), ms(s[len(s)-1]))
}

func (d dist) median() time.Duration {
	s := append(dist(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

// A timing profile of the benchmark: clconf.xml's <timings>.
type profile struct {
	name string
	tm   testbed.Timings
	runs int
}

// The fast profile (clconf.xml(5)): a heartbeat every 50 ms, a warning
// after 100 ms of silence (the echo and the partition questions start
// then), dead after 200 ms. The Reference's example (L1500-1505) is the
// default-like one; it is slow by design, so it runs fewer crashes.
func benchProfiles(runs int) []profile {
	return []profile{
		{"fast", testbed.Timings{Keepalive: "0.05", Warn: "0.1", Dead: "0.2", ClusterForm: "10"}, runs},
		{"reference", testbed.Timings{Keepalive: "3", Warn: "7", Dead: "12", ClusterForm: "30"}, envInt("FAILOVER_REF_RUNS", 5)},
	}
}

// BenchmarkFailover (make bench-failover) compares, on the namespace
// testbed at native speed, the time from crashing the active node to
// the application address answering from the other node: linuxha (three
// replicated file systems) at the fast and the Reference's timings, and
// keepalived moving one address at advert_int 0.1 and 1; and times an
// address move after the loss of a card.
func BenchmarkFailover(b *testing.B) {
	if _, err := exec.LookPath("keepalived"); err != nil {
		b.Skip("keepalived is not installed (apt-get install keepalived)")
	}
	runs := envInt("FAILOVER_RUNS", 20)
	type row struct {
		what     string
		crash    dist
		overhead dist
		addrs    dist
	}
	var ours []row
	var nic dist
	for i, pr := range benchProfiles(runs) {
		crash, overhead, addrs, cards := linuxhaCrashes(b, pr, i == 0)
		ours = append(ours, row{fmt.Sprintf("linuxha %-9s keepalive %s warn %s dead %s", pr.name, pr.tm.Keepalive, pr.tm.Warn, pr.tm.Dead), crash, overhead, addrs})
		if i == 0 {
			nic = cards
		}
	}
	theirs := map[string]dist{}
	adverts := []string{"0.1", "1"}
	tb := testbed.Up(b)
	for _, adv := range adverts {
		theirs[adv] = keepalivedCrashes(b, tb, adv, runs)
	}
	var pcmk dist
	pcmkMissing := havePacemaker()
	if pcmkMissing == "" {
		pcmk = pcmkCrashes(b, tb, envInt("FAILOVER_PCMK_RUNS", runs))
	}
	b.StopTimer()

	fast, k01 := ours[0].crash.median(), theirs["0.1"].median()
	fmt.Printf("\nFail-over after a node crash, namespace testbed (native speed), %s:\n", time.Now().Format("02/01/2006"))
	fmt.Printf("  application: 3 replicated file systems (filesync), start script /bin/true\n")
	for _, r := range ours {
		fmt.Printf("  %-50s crash -> answering: %s\n", r.what, r.crash)
		fmt.Printf("  %-50s verdict -> addresses up: %s\n", "", r.addrs)
		fmt.Printf("  %-50s verdict -> started: %s\n", "", r.overhead)
	}
	for _, adv := range adverts {
		fmt.Printf("  %-50s crash -> answering: %s\n", "keepalived VRRPv3 advert_int "+adv+", one address", theirs[adv])
	}
	if pcmkMissing != "" {
		fmt.Printf("  %-50s not run: %s\n", "Pacemaker + Corosync", pcmkMissing)
	} else {
		fmt.Printf("  %-50s crash -> answering: %s\n", "Pacemaker + Corosync, 3 Filesystem + IPaddr2", pcmk)
		fmt.Printf("  %-50s %s\n", "", pcmkSettings())
	}
	fmt.Printf("  median ratio linuxha fast / keepalived 0.1: %.2f (target <= 1.00); difference %+.0f ms\n",
		float64(fast)/float64(k01), float64(fast-k01)/1e6)
	if pcmkMissing == "" {
		fmt.Printf("  median ratio linuxha fast / Pacemaker: %.2f; Pacemaker / keepalived 0.1: %.2f\n",
			float64(fast)/float64(pcmk.median()), float64(pcmk.median())/float64(k01))
		b.ReportMetric(pcmk.median().Seconds(), "s-pacemaker-median")
	}
	fmt.Printf("  takeover overhead median (fast), verdict -> addresses up: %.0f ms (target <= 30 ms); -> started: %.0f ms\n",
		float64(ours[0].addrs.median())/1e6, float64(ours[0].overhead.median())/1e6)
	fmt.Printf("Card lost -> address on the standby card (clnetd; last reply to the gratuitous ARP, router capture, 1 ms echoes): %s (target median <= 5 ms)\n", nic)
	b.ReportMetric(fast.Seconds(), "s-linuxha-fast-median")
	b.ReportMetric(k01.Seconds(), "s-keepalived-median")
	b.ReportMetric(float64(fast)/float64(k01), "ratio-fast/keepalived")
	b.ReportMetric(nic.median().Seconds()*1000, "ms-nic-move-median")
}

// linuxhaCrashes crashes the node running the bench application pr.runs
// times on a testbed of its own and returns the outages seen from the
// router, the takeover times cldaemon logged and, with cards, the
// address moves after a card loss on the new active node.
func linuxhaCrashes(b *testing.B, pr profile, cards bool) (ours, overhead, addrs, nic dist) {
	tb := benchCluster(b, pr.tm, "")

	p := startPinger(b, tb, appIP)
	defer p.stop()
	limit := 20 * time.Second
	for i := 0; i < pr.runs; i++ {
		active := holder(b, tb, appIP)
		if active == "" {
			b.Fatalf("%s run %d: no node holds %s\n%s", pr.name, i, appIP, logs(b, tb))
		}
		survivor := map[string]string{"servera": "serverb", "serverb": "servera"}[active]
		logged := len(strings.Fields(tb.Sh(b, survivor, "grep -o 'Takeover from' /var/log/cluster/cldaemon-cluster1.log | tr ' ' _; true")))
		time.Sleep(300 * time.Millisecond)
		t0 := time.Now()
		tb.Op(b, "crash", active)
		d, ok := p.outage(t0, limit)
		if !ok {
			b.Fatalf("%s run %d: %s did not answer within %v of crashing %s\n%s", pr.name, i, appIP, limit, active, logs(b, tb))
		}
		ours = append(ours, d)
		testbed.Eventually(b, 5*time.Second, "the takeover's time logged", func() bool {
			t, a, ok := newTakeover(tb.Sh(b, survivor, "grep 'Takeover from' /var/log/cluster/cldaemon-cluster1.log; true"), logged)
			if ok {
				overhead, addrs = append(overhead, t), append(addrs, a)
			}
			return ok
		})
		rejoin(b, tb, active, func() string { return logs(b, tb) }, "bench")
		if !cards {
			continue
		}

		// A card lost on the new active node: clnetd moves the address
		// to the standby card. Each node's clnetd is fresh from its last
		// crash, so the card it falls back to is not one it marked
		// faulty (netd.DefaultFaulty) a moment ago.
		active = holder(b, tb, appIP)
		card := strings.Fields(tb.Sh(b, active, "ip -o addr show | grep ' "+appIP+"/' | cut -d' ' -f2"))[0]
		time.Sleep(500 * time.Millisecond)
		d, ok = cardOutage(b, tb, active, card, appIP)
		tb.Op(b, "restore", active, card)
		if !ok {
			b.Fatalf("card run %d: no gratuitous ARP for %s and answer after cutting %s on %s\n%s", i, appIP, card, active, logs(b, tb))
		}
		nic = append(nic, d)
	}
	if r := tb.Exec(b, holder(b, tb, appIP), "", "clhalt", "--force"); r.Code != 0 {
		b.Fatalf("clhalt --force: %s", r.Output())
	}
	return ours, overhead, addrs, nic
}

// rejoin boots crashed node n again, joins it to the cluster and makes
// both nodes valid again for apps; why adds to a failure's message.
func rejoin(b testing.TB, e bed, n string, why func() string, apps ...string) {
	e.Op(b, "start", n)
	if r := e.Exec(b, n, "", "clform", "--join"); r.Code != 0 {
		b.Fatalf("clform --join on %s: %s\n%s", n, r.Output(), why())
	}
	for _, app := range apps {
		e.Exec(b, n, "", "cldaemonctl", "--msg", "SETVALIDNODES app="+app+" forward=yes")
	}
}

// formCluster builds and forms a cluster at tm on a testbed of its own.
func formCluster(b *testing.B, tm testbed.Timings) *testbed.Bed {
	tb := testbed.Up(b)
	tb.BuildCluster(b, tm)
	if r := tb.Exec(b, "servera", "", "clform"); r.Code != 0 {
		b.Fatalf("clform: %s", r.Output())
	}
	return tb
}

// benchCluster is formCluster running the benchmark's application on
// servera, with lems as its Lems configuration unless "".
func benchCluster(b *testing.B, tm testbed.Timings, lems string) *testbed.Bed {
	tb := formCluster(b, tm)
	tb.WriteFile(b, "servera", "/etc/cluster/bench/appconf.xml", benchConf, 0o644)
	if lems != "" {
		tb.WriteFile(b, "servera", "/etc/cluster/bench/lems.local.xml", lems, 0o644)
	}
	tb.Sh(b, "servera", "mkdir -p /bench/one /bench/two /bench/three")
	buildAndRun(b, tb, "bench")
	return tb
}

// keepalivedCrashes runs keepalived on both nodes of tb at advert_int
// adv and crashes the master runs times.
func keepalivedCrashes(b *testing.B, tb *testbed.Bed, adv string, runs int) dist {
	for _, n := range nodes {
		tb.Op(b, "crash", n)
		tb.Op(b, "start", n)
	}
	kout := map[string]*bytes.Buffer{}
	startK := func(n string, prio int) {
		tb.WriteFile(b, n, "/etc/keepalived/bench.conf", fmt.Sprintf(keepalivedConf, n, prio, adv, vip), 0o644)
		_, kout[n] = tb.Background(b, n, "keepalived", "-n", "-l", "-D", "-f", "/etc/keepalived/bench.conf",
			"-p", "/run/keepalived.pid", "-r", "/run/vrrp.pid")
	}
	prios := map[string]int{"servera": 100, "serverb": 90}
	for _, n := range nodes {
		startK(n, prios[n])
	}
	p := startPinger(b, tb, vip)
	defer p.stop()
	var theirs dist
	for i := 0; i < runs; i++ {
		testbed.Eventually(b, 10*time.Second, "a keepalived master", func() bool {
			return holder(b, tb, vip) != ""
		})
		active, d, ok := crashHolder(b, tb, p, vip, 20*time.Second)
		if !ok {
			var st strings.Builder
			for _, n := range nodes {
				fmt.Fprintf(&st, "== %s\n%s\n", n, kout[n])
				if tb.Alive(n) {
					st.WriteString(tb.Sh(b, n, "ip -o -4 addr show; ps -eo args | grep -v ' \\[' | tail -20"))
				}
			}
			b.Fatalf("keepalived advert_int %s run %d: no answer within 20s of crashing %s\n%s", adv, i, active, st.String())
		}
		theirs = append(theirs, d)
		tb.Op(b, "start", active)
		startK(active, prios[active])
		// Let it settle (the higher priority takes the address back).
		time.Sleep(time.Second + 4*time.Duration(mustSeconds(adv)*float64(time.Second)))
	}
	return theirs
}

// crashHolder crashes, after a settling moment, the node holding ip and
// returns it with the outage seen from the router (false: no answer
// within limit).
func crashHolder(b *testing.B, tb *testbed.Bed, p *pinger, ip string, limit time.Duration) (string, time.Duration, bool) {
	time.Sleep(500 * time.Millisecond)
	active := holder(b, tb, ip)
	t0 := time.Now()
	tb.Op(b, "crash", active)
	d, ok := p.outage(t0, limit)
	return active, d, ok
}

func mustSeconds(s string) float64 {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		panic(err)
	}
	return f
}

// TestGarpOutage reads a capture taken on the router while a card was
// cut (04/12/2026): the last reply through eth0 at .031759, the
// gratuitous ARP from eth1 at .065448 (replies went on until the switch
// port actually went down), answering again at .074442.
func TestGarpOutage(t *testing.T) {
	capture := `1796371131.031759 eth0  In  IP 172.16.177.200 > 172.16.177.254: ICMP echo reply, id 14539, seq 1817, length 64
1796371131.062662 eth0  In  IP 172.16.177.200 > 172.16.177.254: ICMP echo reply, id 14539, seq 1833, length 64
1796371131.064151 eth0  Out IP 172.16.177.254 > 172.16.177.200: ICMP echo request, id 14539, seq 1834, length 64
1796371131.065416 eth0  B   ARP, Request who-has 172.16.177.1 tell 172.16.177.1, length 28
1796371131.065448 eth0  B   ARP, Request who-has 172.16.177.200 tell 172.16.177.200, length 28
1796371131.074424 eth0  Out IP 172.16.177.254 > 172.16.177.200: ICMP echo request, id 14539, seq 1835, length 64
1796371131.074442 eth0  In  IP 172.16.177.200 > 172.16.177.254: ICMP echo reply, id 14539, seq 1835, length 64
`
	d, ok := garpOutage(capture, "172.16.177.200")
	if !ok || d.Round(time.Microsecond) != 2786*time.Microsecond {
		t.Errorf("garpOutage = %v, %v; want 2.786ms, true", d, ok)
	}
	if _, ok := garpOutage(strings.Split(capture, "1796371131.074424")[0], "172.16.177.200"); ok {
		t.Errorf("no reply after the ARP, but garpOutage says answering")
	}
}

// The crash is the last reply of the first address; the end is the last
// address's first announcement; an address never announced is no figure.
func TestAllAnnounced(t *testing.T) {
	capture := `1796371131.031759 eth0  In  IP 172.16.177.10 > 172.16.177.254: ICMP echo reply, id 14539, seq 1817, length 64
1796371131.032759 eth0  In  IP 172.16.177.10 > 172.16.177.254: ICMP echo reply, id 14539, seq 1818, length 64
1796371131.033001 eth0  Out ARP, Request who-has 172.16.177.10 tell 172.16.177.254, length 28
1796371131.240000 eth0  B   ARP, Request who-has 172.16.177.11 tell 172.16.177.11, length 28
1796371131.241000 eth0  B   ARP, Request who-has 172.16.177.10 tell 172.16.177.10, length 28
1796371131.241100 eth0  B   ARP, Request who-has 172.16.177.10 tell 172.16.177.10, length 28
1796371131.242000 eth0  In  IP 172.16.177.10 > 172.16.177.254: ICMP echo reply, id 14539, seq 2019, length 64
1796371131.250000 eth0  B   ARP, Request who-has 172.16.177.1 tell 172.16.177.1, length 28
1796371131.252759 eth0  B   ARP, Request who-has 172.16.177.12 tell 172.16.177.12, length 28
`
	ips := []string{"172.16.177.10", "172.16.177.11", "172.16.177.12"}
	d, ok := allAnnounced(capture, ips)
	if !ok || d.Round(time.Microsecond) != 220*time.Millisecond {
		t.Errorf("allAnnounced = %v, %v; want 220ms, true", d, ok)
	}
	if _, ok := allAnnounced(capture, append(ips, "172.16.177.13")); ok {
		t.Errorf("172.16.177.13 was never announced, but allAnnounced says all were")
	}
}

// TestNewTakeover reads the line cldaemon logs after a takeover
// (pkg/cluster peerDead): a change of its wording must fail here, not
// leave bench-failover without figures.
func TestNewTakeover(t *testing.T) {
	lines := "INFO 04/12/2026 04:07:31 Takeover from servera took 102 ms after the verdict (addresses up after 61 ms; applications to start: 1).\n" +
		"INFO 04/12/2026 04:07:35 Takeover from serverb took 45 ms after the verdict (addresses up after 19 ms; applications to start: 1).\n"
	started, addrs, ok := newTakeover(lines, 1)
	if !ok || started != 45*time.Millisecond || addrs != 19*time.Millisecond {
		t.Errorf("newTakeover = %v, %v, %v; want 45ms, 19ms, true", started, addrs, ok)
	}
	if _, _, ok := newTakeover(lines, 2); ok {
		t.Errorf("no new line, but newTakeover found one")
	}
}

// TestDrbdInStep reads /proc/drbd as DRBD 8.4 writes it: a device
// resyncing or waiting for its peer is not in step; no device at all is.
func TestDrbdInStep(t *testing.T) {
	const head = "version: 8.4.11 (api:1/proto:86-101)\n"
	inStep := head + " 0: cs:Connected ro:Primary/Secondary ds:UpToDate/UpToDate C r-----\n" +
		" 1: cs:Connected ro:Primary/Secondary ds:UpToDate/UpToDate C r-----\n"
	for _, c := range []struct {
		proc string
		want bool
	}{
		{inStep, true},
		{"", true},
		{head + " 0: cs:WFConnection ro:Primary/Unknown ds:UpToDate/DUnknown C r-----\n", false},
		{inStep + " 2: cs:SyncSource ro:Primary/Secondary ds:UpToDate/Inconsistent C r-----\n", false},
		{head + " 0: cs:Connected ro:Secondary/Primary ds:Outdated/UpToDate C r-----\n", false},
	} {
		if got := drbdInStep(c.proc); got != c.want {
			t.Errorf("drbdInStep(%q) = %v, want %v", c.proc, got, c.want)
		}
	}
}
