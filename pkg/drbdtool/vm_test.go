package drbdtool_test

import (
	"strings"
	"testing"
	"time"

	"github.com/linuxha-ng/linuxha/internal/testbed"
	"github.com/linuxha-ng/linuxha/internal/vmbed"
)

// setup builds the cluster with clbuild (real DRBD and LVM capability
// checks, ssh between the VMs) and gives both VMs what clbuildapp --build
// would: the volume group, the data and meta volumes, resource flags and
// the fsmap.
func setup(t *testing.T, vm *vmbed.Bed) {
	if r := vm.BuildCluster(t, nil, "--verbose"); !strings.Contains(r.Stdout, "DRBD kernel module found on serverb.") {
		t.Fatalf("clbuild: %s", r.Output())
	}
	for _, n := range []string{"servera", "serverb"} {
		vm.WriteFile(t, n, "/etc/cluster/.resources/fsmap/apache", "app01vg:docs:/apache/docs:ext4:defaults:20480\n", 0o644)
		vm.Sh(t, n, `cd /etc/cluster/.resources && mv ports/9901.free ports/9901.apache.app01vg.docs && mv drbd/0.free drbd/0.apache.app01vg.docs &&
			pvcreate -q /dev/vda && vgcreate -q app01vg /dev/vda &&
			lvcreate -q -L 20M -n docs app01vg && lvcreate -q -L 128M -n docs_meta app01vg`)
	}
}

func waitSynced(t *testing.T, vm *vmbed.Bed, node string) string {
	var st string
	testbed.Eventually(t, 180*time.Second, "volumes in sync on "+node, func() bool {
		r := vm.ExecTimeout(t, 60*time.Second, node, "", "drbd_tool", "-A", "apache", "--action", "status")
		if r.Code == 255 {
			t.Fatalf("%s stopped answering: %s", node, r.Output())
		}
		st = r.Stdout
		return strings.Contains(st, "ds:UpToDate/UpToDate")
	})
	return st
}

// The Reference's flow on real DRBD 8.4 and LVM (L2195-2266): data on
// servera's LV is replicated, read back on serverb after a switch of
// primary, and resynchronised after the replication card was cut.
func TestReplicationOnRealDRBD(t *testing.T) {
	vm := vmbed.Up(t)
	start := time.Now()
	setup(t, vm)
	// The application's data exists on servera's volume before the build.
	vm.Sh(t, "servera", `mkfs.ext4 -q /dev/app01vg/docs && mkdir -p /mnt && mount /dev/app01vg/docs /mnt &&
		for i in 1 2 3 4 5; do dd if=/dev/urandom of=/mnt/page$i.html bs=64k count=$i 2>/dev/null; done &&
		echo '<h1>linuxha</h1>' > /mnt/index.html && umount /mnt`)
	want := vm.Sh(t, "servera", "mount /dev/app01vg/docs /mnt && cd /mnt && sha256sum *.html; cd /; umount /mnt")

	for _, n := range []string{"servera", "serverb"} {
		vm.Sh(t, n, "drbd_tool -A apache --action create_md")
	}
	vm.Sh(t, "serverb", "drbd_tool -A apache --action start --noprimary")
	vm.Sh(t, "servera", "drbd_tool -A apache --action start --reallyforce") // servera's copy wins the first sync (both Inconsistent: --force alone refuses)
	st := waitSynced(t, vm, "servera")
	if !strings.Contains(st, "ro:Primary/Secondary") {
		t.Fatalf("servera: %s", st)
	}
	vm.Sh(t, "servera", "drbd_tool -A apache --action mount")
	if got := vm.Sh(t, "servera", "cd /apache/docs && sha256sum *.html"); got != want {
		t.Fatalf("data through DRBD differs on servera:\n%s\nwant\n%s", got, want)
	}
	vm.Sh(t, "servera", "drbd_tool -A apache --action unmount && drbd_tool -A apache --action down")

	// Switch: serverb takes over with its replicated copy. The promotion
	// is asked of the module by netlink, not by a drbdsetup-84 process
	// (a wrapper records each call of it).
	vm.Sh(t, "serverb", `cd /usr/lib/drbd && mv drbdsetup-84 drbdsetup-84.real &&
		printf '#!/bin/sh\necho "$@" >> /tmp/setup84.calls\nexec /usr/lib/drbd/drbdsetup-84.real "$@"\n' > drbdsetup-84 && chmod 755 drbdsetup-84`)
	vm.Sh(t, "serverb", "drbd_tool -A apache --action set_primary && drbd_tool -A apache --action mount")
	if calls := vm.Sh(t, "serverb", "cat /tmp/setup84.calls 2>/dev/null; cd /usr/lib/drbd && mv drbdsetup-84.real drbdsetup-84"); strings.Contains(calls, "primary") {
		t.Fatalf("serverb was promoted by drbdsetup-84, not by netlink: %s", calls)
	}
	if st := vm.Sh(t, "serverb", "cat /proc/drbd"); !strings.Contains(st, "ro:Primary/") {
		t.Fatalf("serverb not primary after set_primary:\n%s", st)
	}
	if got := vm.Sh(t, "serverb", "cd /apache/docs && sha256sum *.html"); got != want {
		t.Fatalf("replicated data on serverb:\n%s\nwant\n%s", got, want)
	}

	// servera comes back as secondary; then its replication card is cut
	// while serverb writes, and restored: servera catches up.
	vm.Sh(t, "servera", "drbd_tool -A apache --action start --noprimary")
	waitSynced(t, vm, "serverb")
	vm.Op(t, "cut", "servera", "eth2")
	testbed.Eventually(t, 60*time.Second, "disconnect seen on serverb", func() bool {
		return !strings.Contains(vm.Sh(t, "serverb", "drbd_tool -A apache --action status"), "cs:Connected")
	})
	vm.Sh(t, "serverb", "echo written-while-cut > /apache/docs/late.html && sync")
	vm.Op(t, "restore", "servera", "eth2")
	waitSynced(t, vm, "serverb")
	want2 := vm.Sh(t, "serverb", "cd /apache/docs && sha256sum *.html")
	vm.Sh(t, "serverb", "drbd_tool -A apache --action unmount && drbd_tool -A apache --action down")
	vm.Sh(t, "servera", "drbd_tool -A apache --action set_primary && drbd_tool -A apache --action mount")
	if got := vm.Sh(t, "servera", "cd /apache/docs && sha256sum *.html"); got != want2 {
		t.Fatalf("servera after the resync:\n%s\nwant\n%s", got, want2)
	}

	// A copy whose resynchronisation never finished is Inconsistent:
	// DRBD's "primary --force" would promote it and serve torn data, so
	// --force refuses it (the Reference refuses a copy known not valid
	// without --reallyforce, L6894) and only --reallyforce promotes it.
	// serverb's copy is made so: standalone, then invalidated.
	vm.Sh(t, "serverb", `drbd_tool -A apache --action start --noprimary &&
		drbdadm -c /etc/cluster/.resources/drbdconf/apache_app01vg_docs.res disconnect apache_app01vg_docs &&
		drbdadm -c /etc/cluster/.resources/drbdconf/apache_app01vg_docs.res invalidate apache_app01vg_docs`)
	if st := vm.Sh(t, "serverb", "drbd_tool -A apache --action status"); !strings.Contains(st, "ds:Inconsistent/") {
		t.Fatalf("serverb's copy should be Inconsistent:\n%s", st)
	}
	r := vm.Exec(t, "serverb", "", "drbd_tool", "-A", "apache", "--action", "set_primary", "--force")
	if r.Code == 0 || !strings.Contains(r.Output(), "Inconsistent") || !strings.Contains(vm.Sh(t, "serverb", "cat /proc/drbd"), "ro:Secondary/") {
		t.Fatalf("set_primary --force on an Inconsistent copy: exit %d, %s\n%s", r.Code, r.Output(), vm.Sh(t, "serverb", "cat /proc/drbd"))
	}
	vm.Sh(t, "serverb", "drbd_tool -A apache --action set_primary --reallyforce")
	if st := vm.Sh(t, "serverb", "cat /proc/drbd"); !strings.Contains(st, "ro:Primary/") {
		t.Fatalf("set_primary --reallyforce: serverb not primary:\n%s", st)
	}
	vm.Sh(t, "serverb", "drbd_tool -A apache --action down")

	// The end of a volume DRBD 8.4 forgets (drbd.TailBytes): servera,
	// alone, writes the last 4 KiB of the 20 MiB volume (a size LVM makes a
	// multiple of 256 KiB), then restarts its replication: the module
	// reads the bitmap back without that mark, and the resync when
	// serverb returns leaves serverb's last 4 KiB as they were. verify_tail
	// (what fsmon runs after each resync) finds and resynchronises them.
	vm.Sh(t, "serverb", "drbd_tool -A apache --action create_md && drbd_tool -A apache --action start --noprimary")
	waitSynced(t, vm, "servera")
	vm.Sh(t, "serverb", "drbd_tool -A apache --action down")
	vm.Sh(t, "servera", `drbd_tool -A apache --action unmount &&
		dd if=/dev/urandom of=/dev/drbd0 bs=4096 seek=5119 count=1 oflag=direct 2>/dev/null &&
		drbd_tool -A apache --action down && drbd_tool -A apache --action start --noprimary`)
	vm.Sh(t, "serverb", "drbd_tool -A apache --action start --noprimary")
	waitSynced(t, vm, "servera")
	tail := func(n string) string {
		return strings.Fields(vm.Sh(t, n, "echo 1 > /proc/sys/vm/drop_caches; dd if=/dev/app01vg/docs bs=4096 skip=5056 count=64 2>/dev/null | md5sum") + " -")[0]
	}
	t.Logf("after the resync, the last 256 KiB: servera %s, serverb %s (different: the 8.4 module forgot them)", tail("servera"), tail("serverb"))
	t.Logf("verify_tail: %s", vm.Sh(t, "servera", "drbd_tool -A apache --action verify_tail"))
	waitSynced(t, vm, "servera")
	if a, b := tail("servera"), tail("serverb"); a != b {
		t.Fatalf("the last 256 KiB still differ after verify_tail: servera %s, serverb %s\n%s", a, b, vm.Sh(t, "servera", "dmesg | grep drbd | tail -30"))
	}
	if out := vm.Sh(t, "servera", "drbd_tool -A apache --action verify"); !strings.Contains(out, "identical") {
		t.Fatalf("DRBD's online verify of the whole volume after verify_tail: %s", out)
	}
	t.Logf("scenario took %v under emulation (not a performance figure)", time.Since(start).Round(time.Second))
}
