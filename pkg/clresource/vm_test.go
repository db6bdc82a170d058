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
