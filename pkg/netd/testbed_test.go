package netd_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/linuxha-ng/linuxha/internal/testbed"
)

func formed(t testing.TB) *testbed.Bed {
	tb := testbed.Up(t)
	tb.BuildCluster(t, testbed.Timings{Keepalive: "1", Warn: "2", Dead: "4", ClusterForm: "10"})
	if r := tb.Exec(t, "servera", "", "clform"); r.Code != 0 {
		t.Fatalf("clform: %s", r.Output())
	}
	testbed.Eventually(t, 5*time.Second, "clnetd running", func() bool {
		return tb.Exec(t, "servera", "", "clnetd", "--msg", "ECHO").Stdout == "UP\n"
	})
	return tb
}

// Cutting the card that holds the node address and an application-style
// alias moves both to the standby card, and each is announced with a
// gratuitous ARP seen on the bridge (L838-844).
func TestMoveOnCarrierLoss(t *testing.T) {
	tb := formed(t)
	tb.Sh(t, "servera", "ip addr add 172.16.177.200/24 dev eth0 label eth0:1")
	capture := tb.Capture(t, 2, "arp and src host 0.0.0.0 or arp[6:2] = 1 and arp[14:4] = arp[24:4]")
	tb.Op(t, "cut", "servera", "eth0")
	testbed.Eventually(t, 3*time.Second, "addresses on eth1", func() bool {
		out := tb.Sh(t, "servera", "ip -4 -o addr show dev eth1")
		return strings.Contains(out, "172.16.177.1/24") && strings.Contains(out, "172.16.177.200/24")
	})
	if out := tb.Sh(t, "servera", "ip -4 -o addr show dev eth0"); out != "" {
		t.Fatalf("addresses left on the failed card: %s", out)
	}
	arp := capture()
	for _, ip := range []string{"172.16.177.1", "172.16.177.200"} {
		if !strings.Contains(arp, "who-has "+ip+" tell "+ip) {
			t.Errorf("no gratuitous ARP for %s captured:\n%s", ip, arp)
		}
	}
	// The node is still reachable on its address, through the standby card.
	if r := tb.Exec(t, "serverb", "", "ping", "-c1", "-W1", "172.16.177.1"); r.Code != 0 {
		t.Fatalf("servera unreachable after the move: %s", r.Output())
	}
	tb.Sh(t, "servera", "grep -q 'Link lost on eth0 (network public): moved 172.16.177.1/24,172.16.177.200/24 to eth1' /var/log/cluster/clnetd.log")
}

// Cutting the last card of a network tells cldaemon it failed.
func TestNetworkFailed(t *testing.T) {
	tb := formed(t)
	tb.Op(t, "cut", "servera", "eth2")
	testbed.Eventually(t, 3*time.Second, "cldaemon told", func() bool {
		return tb.Exec(t, "servera", "", "grep", "-q", "Network drbd has failed on servera", "/var/log/cluster/cldaemon-cluster1.log").Code == 0
	})
	if got := tb.Exec(t, "servera", "", "clnetd", "--msg", "STATUS").Stdout; got != "public=watched,drbd=stopped\n" {
		t.Fatalf("STATUS: %q", got)
	}
	tb.Op(t, "restore", "servera", "eth2")
	if got := tb.Exec(t, "servera", "", "clnetd", "--msg", "REREAD").Stdout; got != "OK\n" {
		t.Fatalf("REREAD: %q", got)
	}
	if got := tb.Exec(t, "servera", "", "clnetd", "--msg", "STATUS").Stdout; got != "public=watched,drbd=watched\n" {
		t.Fatalf("STATUS after REREAD: %q", got)
	}
}

// moveTime reads "ip -ts monitor link address" output: from the failed
// card's NO-CARRIER to the last address appearing on the target card.
func moveTime(mon, from, to string, n int) (time.Duration, error) {
	var lost, last time.Time
	added := 0
	for _, line := range strings.Split(mon, "\n") {
		if len(line) < 28 || line[0] != '[' {
			continue
		}
		ts, err := time.Parse("2006-01-02T15:04:05.000000", line[1:27])
		if err != nil {
			continue
		}
		switch {
		case lost.IsZero() && strings.Contains(line, " "+from+"@") && strings.Contains(line, "NO-CARRIER"):
			lost = ts
		case !lost.IsZero() && strings.Contains(line, " "+to+" ") && strings.Contains(line, " inet ") && !strings.Contains(line, "Deleted"):
			last = ts
			added++
		}
	}
	if lost.IsZero() || added < n {
		return 0, fmt.Errorf("incomplete monitor output:\n%s", mon)
	}
	return last.Sub(lost), nil
}

// BenchmarkAddressMove cuts the card holding the node address and an
// alias 20 times and reports carrier loss -> both addresses on the
// standby card, from the node's own netlink timestamps (target: median
// <= 50 ms). Run: LINUXHA_TESTBED=ns go test ./pkg/netd -run '^$'
// -bench AddressMove -benchtime 1x
func BenchmarkAddressMove(b *testing.B) {
	tb := formed(b)
	tb.Sh(b, "servera", "ip addr add 172.16.177.200/24 dev eth0 label eth0:1")
	var got []time.Duration
	from, to := "eth0", "eth1"
	for range b.N {
		for i := 0; i < 20; i++ {
			mon, out := tb.Background(b, "servera", "timeout", "3", "ip", "-ts", "monitor", "link", "address")
			time.Sleep(200 * time.Millisecond)
			tb.Op(b, "cut", "servera", from)
			testbed.Eventually(b, 3*time.Second, "move", func() bool {
				return strings.Count(tb.Sh(b, "servera", "ip -4 -o addr show dev "+to), "inet ") == 2
			})
			mon.Wait()
			d, err := moveTime(out.String(), from, to, 2)
			if err != nil {
				b.Fatal(err)
			}
			got = append(got, d)
			tb.Op(b, "restore", "servera", from)
			tb.Exec(b, "servera", "", "clnetd", "--msg", "REREAD") // forget the faulty card
			from, to = to, from
		}
	}
	sort.Slice(got, func(i, j int) bool { return got[i] < got[j] })
	med := got[len(got)/2]
	b.ReportMetric(float64(med.Microseconds())/1000, "ms-median")
	b.Logf("carrier loss -> addresses on standby over %d cuts: min %v median %v max %v", len(got), got[0], med, got[len(got)-1])
}
