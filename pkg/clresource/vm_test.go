package clresource_test

import (
	"strings"
	"testing"
	"time"

	"github.com/linuxha-ng/linuxha/internal/testbed"
	"github.com/linuxha-ng/linuxha/internal/vmbed"
)

// nfsApp is an application whose one member is an NFS client mount of
// serverb's export; soft, so that a dead or stale server fails the
// client's calls instead of hanging them.
const nfsApp = `<appconf><global><version>0.2</version><name>nfsapp</name></global>
<application><startscript>/bin/true</startscript><stopscript>/bin/true</stopscript></application>
<resources>
  <mount name="data" source="172.16.177.2:/srv/export" target="/mnt/data" fstype="nfs4"
         options="soft,timeo=20,retrans=1,vers=4.2" timeout="20"/>
</resources></appconf>`

// exportAs (re)exports serverb's /srv/export under an fsid: a new fsid
// makes every file handle a client holds from the old one stale.
func exportAs(t *testing.T, vm *vmbed.Bed, fsid string) {
	vm.Sh(t, "serverb", "exportfs -ua; exportfs -o rw,no_root_squash,insecure,no_subtree_check,fsid="+fsid+" '*:/srv/export'")
}

// Issue 22 on the VMs' kernel (it has nfs and nfsd): serverb serves an
// NFSv4 export; servera mounts it as an application resource; the export
// is withdrawn and offered again under another fsid, which leaves
// servera's mount stale (seed 000: "check for stale mounts and
// automatically remount"); the resource's monitor finds it stale and
// the check Lems runs detaches and mounts it again.
func TestNFSMountOnVMs(t *testing.T) {
	vm := vmbed.Up(t)
	vm.Sh(t, "serverb", `set -e
mkdir -p /proc/fs/nfsd /var/lib/nfs /srv/export
mount -t nfsd nfsd /proc/fs/nfsd
echo 10 > /proc/fs/nfsd/nfsv4gracetime; echo 10 > /proc/fs/nfsd/nfsv4leasetime
echo old > /srv/export/before`)
	exportAs(t, vm, "1")
	vm.Sh(t, "serverb", "rpc.mountd -N 3 && rpc.nfsd -p 2049 -N 3 4")
	vm.WriteFile(t, "servera", "/etc/cluster/nfsapp/appconf.xml", nfsApp, 0o644)
	op := func(o string) testbed.Result {
		return vm.Exec(t, "servera", "", "clresource", "-A", "nfsapp", "-R", "data", o)
	}

	if r := op("check"); r.Code != 0 {
		t.Fatalf("check: %s", r.Output())
	}
	if r := op("monitor"); r.Code != 7 {
		t.Fatalf("monitor before start: %d %s", r.Code, r.Output())
	}
	// The server's grace period (10 s here) may refuse the first opens.
	testbed.Eventually(t, 60*time.Second, "mounted", func() bool { return op("start").Code == 0 })
	if got := vm.Sh(t, "servera", "cat /mnt/data/before"); got != "old\n" {
		t.Fatalf("read through the mount: %q", got)
	}
	if r := op("monitor"); r.Code != 0 {
		t.Fatalf("monitor: %s", r.Output())
	}

	exportAs(t, vm, "2")
	vm.Sh(t, "serverb", "echo new > /srv/export/after")
	if r := op("monitor"); r.Code != 1 || !strings.Contains(r.Output(), "/mnt/data is stale") {
		t.Fatalf("monitor of the stale mount: %d %s", r.Code, r.Output())
	}
	r := op("recover")
	if r.Code != 0 || !strings.Contains(r.Output(), "restart 1 of 3") || !strings.Contains(r.Output(), "Resource data (mount data) restarted.") {
		t.Fatalf("recover: %d %s", r.Code, r.Output())
	}
	if got := vm.Sh(t, "servera", "cat /mnt/data/after"); got != "new\n" {
		t.Fatalf("read after the remount: %q", got)
	}
	if r := op("monitor"); r.Code != 0 {
		t.Fatalf("monitor after the remount: %s", r.Output())
	}
	if r := op("stop"); r.Code != 0 || vm.Sh(t, "servera", "grep -c ' /mnt/data ' /proc/mounts || true") != "0\n" {
		t.Fatalf("stop: %s", r.Output())
	}
}

// nfsClusterApp is an application with no replicated data, only an NFS
// client mount (DRCM's CM_FILESYSTEMS on a NAS): the export is served from
// 172.16.177.50, an address serverb carries outside the cluster, and the
// mount is checked every 2 s and restarted once before the application
// moves.
const nfsClusterApp = `<?xml version="1.0"?>
<appconf>
  <global>
    <version>0.2</version>
    <name>nfsapp</name>
    <takeover>force</takeover>
    <autostart>no</autostart>
    <preferred_node>servera</preferred_node>
  </global>
  <application>
    <startscript>/bin/true</startscript>
    <stopscript>/bin/true</stopscript>
    <maxstoptime>30</maxstoptime>
    <maxstarttime>30</maxstarttime>
  </application>
  <resources>
    <mount name="data" source="172.16.177.50:/srv/export" target="/mnt/data" fstype="nfs4"
           options="soft,timeo=20,retrans=1,vers=4.2,retry=0" interval="2" timeout="10" restarts="1" window="600"/>
  </resources>
</appconf>
`

// Issue 22 through the whole cluster on the VMs: the mount member is
// started by clrunapp, watched by the Lems daemon the start launches,
// remounted by it when the export goes stale (seed 000: "check for stale
// mounts and automatically remount"), and when servera loses its way to
// the NFS server the restart's mount fails and the application moves to
// serverb, which mounts the export there (start-failure-is-fatal, as
// Pacemaker treats a failed restart).
func TestNFSMountFailoverOnVMs(t *testing.T) {
	vm := vmbed.Up(t)
	vm.BuildCluster(t, strings.NewReplacer("<keepalive>3</keepalive>", "<keepalive>0.5</keepalive>",
		"<warn>7</warn>", "<warn>1.5</warn>", "<dead>12</dead>", "<dead>3</dead>"))
	if r := vm.Exec(t, "servera", "", "clform"); r.Code != 0 {
		t.Fatalf("clform: %s", r.Output())
	}
	vm.Sh(t, "serverb", `set -e
ip addr add 172.16.177.50/24 dev $(ip -o -4 addr show | awk '/ 172\.16\.177\.2\//{print $2}')
mkdir -p /proc/fs/nfsd /var/lib/nfs /srv/export
mount -t nfsd nfsd /proc/fs/nfsd
echo 10 > /proc/fs/nfsd/nfsv4gracetime; echo 10 > /proc/fs/nfsd/nfsv4leasetime
echo old > /srv/export/before`)
	exportAs(t, vm, "1")
	vm.Sh(t, "serverb", "rpc.mountd -N 3 && rpc.nfsd -p 2049 -N 3 4 && sleep 11") // past the grace period
	vm.WriteFile(t, "servera", "/etc/cluster/nfsapp/appconf.xml", nfsClusterApp, 0o644)
	vm.WriteFile(t, "servera", "/etc/cluster/nfsapp/lems.local.xml",
		`<?xml version="1.0"?>`+"\n"+`<lems_config><globals logs="/var/log/cluster/lems" port="8802"/></lems_config>`+"\n", 0o644)
	for _, s := range []string{"check", "vgbuild", "build", "sync"} {
		if r := vm.Exec(t, "servera", "", "clbuildapp", "-A", "nfsapp", "--"+s); r.Code != 0 {
			t.Fatalf("clbuildapp --%s: %s", s, r.Output())
		}
	}
	if r := vm.Exec(t, "servera", "", "clrunapp", "-A", "nfsapp"); r.Code != 0 {
		t.Fatalf("clrunapp: %s", r.Output())
	}
	mounted := func(node string) bool {
		return vm.Sh(t, node, "grep -c ' /mnt/data ' /proc/mounts || true") != "0\n"
	}
	if got := vm.Sh(t, "servera", "cat /mnt/data/before"); got != "old\n" || mounted("serverb") {
		t.Fatalf("servera reads %q through the mount; serverb mounted: %v", got, mounted("serverb"))
	}
	lemsLog := func(node string) string {
		return vm.Sh(t, node, "cat /var/log/cluster/lems/lems-nfsapp.log 2>/dev/null; true")
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, n := range []string{"servera", "serverb"} {
				t.Logf("%s:\n%s%s", n, lemsLog(n), vm.Sh(t, n, "clstat -A nfsapp; grep nfs /proc/mounts; tail -30 /var/log/cluster/cldaemon-*.log; true"))
			}
		}
	})
	// Polled every 2 s: each look is a process in an emulated machine.
	wait := func(d time.Duration, what string, cond func() bool) {
		t.Helper()
		for end := time.Now().Add(d); !cond(); time.Sleep(2 * time.Second) {
			if time.Now().After(end) {
				t.Fatalf("timed out after %v waiting for %s", d, what)
			}
		}
	}

	// Stale: the Lems daemon's check finds it and mounts it again.
	exportAs(t, vm, "2")
	vm.Sh(t, "serverb", "echo new > /srv/export/after")
	wait(90*time.Second, "Lems remounting the stale export", func() bool {
		return strings.Contains(lemsLog("servera"), "Resource data (mount data) restarted.")
	})
	if got := vm.Sh(t, "servera", "cat /mnt/data/after"); got != "new\n" {
		t.Fatalf("read after the remount: %q\n%s", got, lemsLog("servera"))
	}
	// A new count, so that the next failure is restarted once more.
	if r := vm.Exec(t, "servera", "", "lemsctl", "-A", "nfsapp", "--msg", "CMD data RESET"); r.Code != 0 {
		t.Fatalf("lemsctl RESET: %s", r.Output())
	}

	// servera loses its way to the server (its heartbeats are untouched):
	// the monitor fails, the restart's mount fails, the application moves.
	vm.Sh(t, "servera", "ip route add unreachable 172.16.177.50/32")
	wait(180*time.Second, "the application on serverb with the export mounted", func() bool {
		return mounted("serverb") && strings.Contains(vm.Exec(t, "serverb", "", "clstat", "-A", "nfsapp").Stdout, "serverb")
	})
	if got := vm.Sh(t, "serverb", "cat /mnt/data/after"); got != "new\n" {
		t.Fatalf("serverb reads %q through its mount", got)
	}
	if mounted("servera") {
		t.Fatalf("servera still has the mount after the fail-over:\n%s", lemsLog("servera"))
	}
	if l := lemsLog("servera"); !strings.Contains(l, "Resource data (mount data): restart answered") {
		t.Fatalf("servera's Lems log has no failed restart:\n%s", l)
	}
}
