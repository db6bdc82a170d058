package faultlab_test

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/linuxha-ng/linuxha/internal/testbed"
	"github.com/linuxha-ng/linuxha/internal/vmbed"
)

// The file-system growth curve: where volumes cost something to start.
// Each size is an application of its own, in a volume group on a disk of
// its own (a "filesystems" volume group holds every mounted volume), with
// 4 MB ext4 volumes on real DRBD 8.4 and the Reference's 128 MB meta-data
// volume each (L1459); only one of them runs at a time.
var growthFS = []struct {
	n    int
	disk string
}{{1, "vda"}, {3, "vdc"}, {10, "vdd"}, {30, "vde"}}

// BenchmarkGrowthVM (make bench-growth-vm) crashes the node running an
// application with 1, 3, 10 and 30 replicated file systems, GROWTH_VM_RUNS
// times each (default 3), and reads from the surviving cldaemon's log how
// long after the death verdict the addresses were up and the application
// started. Emulated times are not figures: only the ratios within the run
// are (issue 20: 30 file systems at most 1.5 times one).
func BenchmarkGrowthVM(b *testing.B) {
	runs := envInt("GROWTH_VM_RUNS", 3)
	sizes := growthFS
	if v := os.Getenv("GROWTH_VM_SIZES"); v != "" {
		sizes = nil
		for _, g := range growthFS {
			if slices.Contains(strings.Split(v, ","), strconv.Itoa(g.n)) {
				sizes = append(sizes, g)
			}
		}
	}
	// 30 volumes and their meta-data volumes take 4 GB; the disks are
	// sparse files.
	b.Setenv("VM_DISK_SIZE", "4400M")
	vm := vmbed.Up(b)
	vm.BuildCluster(b, strings.NewReplacer("<keepalive>3</keepalive>", "<keepalive>0.5</keepalive>",
		"<warn>7</warn>", "<warn>1.5</warn>", "<dead>12</dead>", "<dead>3</dead>"))
	if r := vm.Exec(b, "servera", "", "clform"); r.Code != 0 {
		b.Fatalf("clform: %s", r.Output())
	}
	for i, g := range sizes {
		name, ip := fmt.Sprintf("fs%02d", g.n), fmt.Sprintf("172.16.177.%d", 20+i)
		for _, n := range nodes {
			vm.Sh(b, n, fmt.Sprintf("pvcreate -q /dev/%s && vgcreate -q %svg /dev/%s", g.disk, name, g.disk))
		}
		vm.Sh(b, "servera", fmt.Sprintf(`set -e; for i in $(seq %d); do
	lvcreate -q -L 4M -n d$i %[2]svg; mkfs.ext4 -q /dev/%[2]svg/d$i; mkdir -p /g/%[2]s/d$i; mount /dev/%[2]svg/d$i /g/%[2]s/d$i
done`, g.n, name))
		conf := strings.Replace(appXML(name, "", "    <name>"+name+"vg</name>\n    <type>filesystems</type>\n", "/bin/true", "/bin/true",
			"    <maxstarttime>600</maxstarttime>\n"), appIP, ip, 1)
		vm.WriteFile(b, "servera", "/etc/cluster/"+name+"/appconf.xml", conf, 0o644)
		// Lems with fsmon: a rejoined node's copies are resynchronised by
		// it, and the next crash waits for them.
		vm.WriteFile(b, "servera", "/etc/cluster/"+name+"/lems.local.xml", fmt.Sprintf(`<?xml version="1.0"?>
<lems_config>
  <globals logs="/var/log/cluster/lems" port="%d"/>
%s</lems_config>
`, 8810+i, fsmonCheck(name)), 0o644)
		buildAndRun(b, vm, name)
		if r := vm.Exec(b, "servera", "", "clhaltapp", "-A", name); r.Code != 0 {
			b.Fatalf("clhaltapp -A %s: %s", name, r.Output())
		}
	}
	type point struct {
		fs            int
		addrs, starts dist
	}
	var curve []point
	for i, g := range sizes {
		name, ip := fmt.Sprintf("fs%02d", g.n), fmt.Sprintf("172.16.177.%d", 20+i)
		addrs, starts := growthVMCrashes(b, vm, name, ip, runs)
		curve = append(curve, point{g.n, addrs, starts})
	}
	b.StopTimer()
	fmt.Printf("\nTakeover of an application with N file systems on real DRBD 8.4 after a node crash, VM testbed (software emulation: ratios only), %s:\n", time.Now().Format("02/01/2006"))
	for _, p := range curve {
		fmt.Printf("  %2d file systems  verdict -> addresses up: %s (%.2f x one)\n", p.fs, p.addrs, float64(p.addrs.median())/float64(curve[0].addrs.median()))
		fmt.Printf("  %2d file systems  verdict -> started:      %s (%.2f x one)\n", p.fs, p.starts, float64(p.starts.median())/float64(curve[0].starts.median()))
	}
	ratio := float64(curve[len(curve)-1].addrs.median()) / float64(curve[0].addrs.median())
	fmt.Printf("  median ratio 30 / 1 file systems, addresses up: %.2f (target <= 1.50)\n", ratio)
	b.ReportMetric(ratio, "ratio-30/1-fs")
}

// growthVMCrashes starts app, crashes the node running it runs times
// (each time after the other node is back and every DRBD device is in
// step again) and halts it.
func growthVMCrashes(b *testing.B, vm *vmbed.Bed, app, ip string, runs int) (addrs, starts dist) {
	var running string
	for _, n := range nodes {
		if nodeState(b, vm, n, "5s") == "UP" {
			running = n
		}
	}
	if r := vm.Exec(b, running, "", "clrunapp", "-A", app); r.Code != 0 {
		b.Fatalf("clrunapp -A %s: %s", app, r.Output())
	}
	inStep := func() bool {
		for _, n := range nodes {
			if !drbdInStep(vm.Sh(b, n, "cat /proc/drbd")) {
				return false
			}
		}
		return true
	}
	for i := 0; i < runs; i++ {
		testbed.Eventually(b, 15*time.Minute, app+"'s volumes in step on both nodes", inStep)
		active := holder(b, vm, ip)
		if active == "" {
			b.Fatalf("%s run %d: no node holds %s", app, i, ip)
		}
		survivor := map[string]string{"servera": "serverb", "serverb": "servera"}[active]
		logged := len(strings.Fields(vm.Sh(b, survivor, "grep -o 'Takeover from' /var/log/cluster/cldaemon-cluster1.log | tr ' ' _; true")))
		time.Sleep(2 * time.Second)
		vm.Op(b, "crash", active)
		testbed.Eventually(b, 15*time.Minute, "the takeover of "+app+" logged", func() bool {
			s, a, ok := newTakeover(vm.Sh(b, survivor, "grep 'Takeover from' /var/log/cluster/cldaemon-cluster1.log; true"), logged)
			if ok {
				starts, addrs = append(starts, s), append(addrs, a)
			}
			return ok
		})
		// The takeover's phases (appctl's line in clstart.APP.log).
		fmt.Printf("  %s run %d: %s\n", app, i, strings.TrimSpace(vm.Sh(b, survivor, "grep 'up to its addresses' /var/log/cluster/clstart."+app+".log | tail -1 | cut -d' ' -f4-; true")))
		rejoin(b, vm, active, func() string { return "" }, app)
	}
	testbed.Eventually(b, 15*time.Minute, app+"'s volumes in step on both nodes", inStep)
	if r := vm.Exec(b, holder(b, vm, ip), "", "clhaltapp", "-A", app); r.Code != 0 {
		b.Fatalf("clhaltapp -A %s: %s", app, r.Output())
	}
	return addrs, starts
}
