package drbdtool_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/linuxha-ng/linuxha/internal/testbed"
	"github.com/linuxha-ng/linuxha/internal/vmbed"
)

// BenchmarkSync measures, in the VM testbed, the initial DRBD sync of a
// 40 MB volume with syncrate unlimited against a raw copy of the same
// volume into the other node's volume over the same drbd link, and the time drbd_tool takes to start
// and stop replication for an application with three volumes. Under
// software emulation: the ratio means something, the absolute numbers do
// not. Run: LINUXHA_TESTBED=vm go test ./pkg/drbdtool -run '^$' -bench Sync -benchtime 1x
func BenchmarkSync(b *testing.B) {
	vm := vmbed.Up(b)
	vm.BuildCluster(b, nil)
	app := `<appconf><global><version>0.2</version><name>bench</name><syncrate>10000000</syncrate></global></appconf>`
	var fsmap strings.Builder
	for i, lv := range []string{"v1", "v2", "v3"} {
		fmt.Fprintf(&fsmap, "benchvg:%s:/bench/%s:ext4:defaults:40960\n", lv, lv)
		for _, n := range []string{"servera", "serverb"} {
			vm.Sh(b, n, fmt.Sprintf("cd /etc/cluster/.resources && mv ports/99%02d.free ports/99%02d.bench.benchvg.%s && mv drbd/%d.free drbd/%d.bench.benchvg.%s", i+1, i+1, lv, i, i, lv))
		}
	}
	for _, n := range []string{"servera", "serverb"} {
		vm.WriteFile(b, n, "/etc/cluster/bench/appconf.xml", app, 0o644)
		vm.WriteFile(b, n, "/etc/cluster/.resources/fsmap/bench", fsmap.String(), 0o644)
		vm.Sh(b, n, `pvcreate -q /dev/vda && vgcreate -q benchvg /dev/vda && for lv in v1 v2 v3; do
			lvcreate -q -L 40M -n $lv benchvg && lvcreate -q -L 128M -n ${lv}_meta benchvg; done`)
	}
	vm.Sh(b, "servera", "dd if=/dev/urandom of=/dev/benchvg/v1 bs=1M count=40 2>/dev/null")

	// Raw: the 40 MB volume copied by a plain TCP stream over the drbd
	// link into the other node's volume ("dd over the same link").
	vm.Sh(b, "serverb", "rm -f /tmp/rx; setsid sh -c '/linuxha/helper sink 5001 /dev/benchvg/v1 > /tmp/rx' < /dev/null > /dev/null 2>&1 &")
	time.Sleep(time.Second)
	start := time.Now()
	vm.Sh(b, "servera", "/linuxha/helper source 192.100.100.2:5001 41943040 /dev/benchvg/v1")
	testbed.Eventually(b, time.Minute, "all bytes received", func() bool {
		return strings.TrimSpace(vm.Sh(b, "serverb", "cat /tmp/rx 2>/dev/null; true")) == "41943040"
	})
	raw := time.Since(start)

	// DRBD: full initial sync of the same 40 MB volume.
	for _, n := range []string{"servera", "serverb"} {
		vm.Sh(b, n, "drbd_tool -A bench --action create_md --vg benchvg --lv v1")
	}
	vm.Sh(b, "serverb", "drbd_tool -A bench --action start --noprimary --vg benchvg --lv v1")
	start = time.Now()
	vm.Sh(b, "servera", "drbd_tool -A bench --action start --reallyforce --vg benchvg --lv v1")
	testbed.Eventually(b, 10*time.Minute, "sync", func() bool {
		return strings.Contains(vm.ExecTimeout(b, time.Minute, "servera", "", "drbd_tool", "-A", "bench", "--action", "status", "--vg", "benchvg", "--lv", "v1").Stdout, "ds:UpToDate/UpToDate")
	})
	sync := time.Since(start)
	for _, n := range []string{"servera", "serverb"} {
		vm.Sh(b, n, "drbd_tool -A bench --action down --vg benchvg --lv v1")
	}

	// Start and stop replication of three volumes (meta-data in place).
	for _, n := range []string{"servera", "serverb"} {
		vm.Sh(b, n, "for lv in v2 v3; do drbd_tool -A bench --action create_md --vg benchvg --lv $lv; done")
	}
	vm.Sh(b, "serverb", "drbd_tool -A bench --action start --noprimary")
	start = time.Now()
	vm.Sh(b, "servera", "drbd_tool -A bench --action start --noprimary")
	up := time.Since(start)
	start = time.Now()
	vm.Sh(b, "servera", "drbd_tool -A bench --action down")
	down := time.Since(start)

	mbs := func(d time.Duration) float64 { return 40 / d.Seconds() }
	b.ReportMetric(mbs(sync)/mbs(raw), "sync/raw")
	b.Logf("under emulation (not performance figures): raw stream %.1f MB/s, DRBD initial sync %.1f MB/s, ratio %.2f; start 3 volumes %v, stop %v",
		mbs(raw), mbs(sync), mbs(sync)/mbs(raw), up.Round(time.Millisecond), down.Round(time.Millisecond))
}
