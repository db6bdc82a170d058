package clbuildapp_test

import (
	"os"
	"strings"
	"testing"

	"github.com/linuxha-ng/linuxha/internal/testbed"
	"github.com/linuxha-ng/linuxha/internal/vmbed"
)

func errorLine(r testbed.Result) string {
	for _, l := range strings.Split(r.Stderr, "\n") {
		if strings.HasPrefix(l, "ERROR ") && len(l) > 30 {
			return l
		}
	}
	return r.Output()
}

// The Reference's sample apache application (§7.1, §8): volume group
// app01vg with admin, docs and logs of 20 MB, ext4, mounted on servera,
// goes through --check, --vgbuild, --build and --sync on real DRBD 8.4
// and LVM; afterwards serverb holds the same files (SHA-256 per file).
func TestApacheBuildOnRealDRBD(t *testing.T) {
	vm := vmbed.Up(t)
	root, _ := testbed.RepoRoot()
	conf, _ := os.ReadFile(root + "/examples/clconf.xml")
	vm.WriteFile(t, "servera", "/etc/cluster/clconf.xml", string(conf), 0o600)
	if r := vm.Exec(t, "servera", "", "clbuild"); r.Code != 0 {
		t.Fatalf("clbuild: %s", r.Output())
	}
	for _, f := range []string{"appconf.xml", "lems.local.xml", "httpd.xml"} {
		b, _ := os.ReadFile(root + "/examples/apache/" + f)
		vm.WriteFile(t, "servera", "/etc/cluster/apache/"+f, string(b), 0o644)
	}
	vm.Sh(t, "servera", `pvcreate -q /dev/vda && vgcreate -q app01vg /dev/vda && for lv in admin docs logs; do
		lvcreate -q -L 20M -n $lv app01vg && mkfs.ext4 -q /dev/app01vg/$lv && mkdir -p /apache/$lv && mount /dev/app01vg/$lv /apache/$lv &&
		dd if=/dev/urandom of=/apache/$lv/data.bin bs=64k count=16 2>/dev/null && echo "$lv" > /apache/$lv/name.txt; done`)
	want := vm.Sh(t, "servera", "cd /apache && sha256sum */*.*")
	run := func(stage string, extra ...string) testbed.Result {
		return vm.Exec(t, "servera", "", append([]string{"clbuildapp", "-A", "apache", "-V", "--" + stage}, extra...)...)
	}

	// The VG is missing on serverb: --check refuses, one line.
	if r := run("check"); r.Code == 0 || !strings.Contains(errorLine(r), "Volume group app01vg does not exist on serverb") {
		t.Fatalf("check without the peer's VG: %d %s", r.Code, r.Output())
	}
	vm.Sh(t, "serverb", "pvcreate -q /dev/vda && vgcreate -q app01vg /dev/vda")
	if r := run("check"); r.Code != 0 {
		t.Fatalf("check: %s", r.Output())
	}
	// A stage out of order is refused with the checksum message (L2889-2894).
	if r := run("build"); r.Code == 0 || !strings.Contains(r.Stderr, "but the --vgbuild stage has not yet been rerun. Do that first") {
		t.Fatalf("build before vgbuild: %d %s", r.Code, r.Output())
	}
	// No room for the meta volumes on serverb: refused, nothing half-made.
	vm.Sh(t, "serverb", "lvcreate -q -L 400M -n filler app01vg")
	if r := run("vgbuild"); r.Code == 0 || !strings.Contains(errorLine(r), "No room for app01vg/") || !strings.Contains(errorLine(r), "on serverb") {
		t.Fatalf("vgbuild without room: %d %s", r.Code, r.Output())
	}
	for _, n := range []string{"servera", "serverb"} {
		if got := vm.Sh(t, n, "lvs --noheadings -o lv_name app01vg | tr -d ' ' | sort | tr '\\n' ' '"); got != map[string]string{"servera": "admin docs logs ", "serverb": "filler "}[n] {
			t.Fatalf("vgbuild without room changed %s: %q", n, got)
		}
	}
	vm.Sh(t, "serverb", "lvremove -q -y app01vg/filler")
	if r := run("vgbuild"); r.Code != 0 || !strings.Contains(r.Stdout, "VG/LV app01vg/docs_meta of 131072Kb built on serverb") {
		t.Fatalf("vgbuild: %s", r.Output())
	}
	if got := vm.Sh(t, "serverb", "lvs --noheadings -o lv_name,lv_size --units m app01vg | tr -s ' '"); !strings.Contains(got, "docs 20.00m") || !strings.Contains(got, "docs_meta 128.00m") {
		t.Fatalf("serverb volumes: %s", got)
	}
	// An application volume that is not mounted is refused.
	vm.Sh(t, "servera", "umount /apache/logs")
	if r := run("build"); r.Code == 0 || !strings.Contains(errorLine(r), "Logical volume app01vg/logs is not mounted on servera") {
		t.Fatalf("build with logs unmounted: %d %s", r.Code, r.Output())
	}
	vm.Sh(t, "servera", "mount /dev/app01vg/logs /apache/logs")
	r := run("build")
	if r.Code != 0 || !strings.Contains(r.Stdout, "Cluster build has completed successfully.") {
		t.Fatalf("build: %s", r.Output())
	}
	// serverb had no /apache/docs: created, with a warning.
	if !strings.Contains(r.Stdout, "WARN") || !strings.Contains(r.Stdout, "Mount point /apache/docs did not exist on serverb - created it.") {
		t.Fatalf("no warning for the missing mount point:\n%s", r.Stdout)
	}
	for _, n := range []string{"servera", "serverb"} {
		got := vm.Sh(t, n, "cat /etc/cluster/.resources/fsmap/apache; ls /etc/cluster/.resources/ports /etc/cluster/.resources/drbd | grep apache; cat /etc/cluster/apache/.clbuild.md5")
		if !strings.Contains(got, "app01vg:docs:/apache/docs:ext4:") || !strings.Contains(got, "9902.apache.app01vg.docs") || !strings.Contains(got, "1.apache.app01vg.docs") {
			t.Fatalf("%s after build:\n%s", n, got)
		}
	}
	if r := run("build"); r.Code == 0 || !strings.Contains(errorLine(r), "is already built") {
		t.Fatalf("second build without --force: %s", r.Output())
	}
	if r := run("sync"); r.Code != 0 || !strings.Contains(r.Stdout, "Successfully Synchronised data from servera to serverb") {
		t.Fatalf("sync: %s", r.Output())
	}
	// clstartapp and clhaltapp on real DRBD (L2783-2827, L3075-3139),
	// without a cluster daemon, so with --force (L6804): servera primary
	// with the file systems on DRBD devices and the address up; after the
	// halt nothing is left and serverb starts on the same data.
	if r := vm.Exec(t, "servera", "", "clstartapp", "-A", "apache", "-V"); r.Code == 0 || !strings.Contains(r.Stderr, "Cluster daemon is not running on servera.") {
		t.Fatalf("clstartapp without a daemon: %d %s", r.Code, r.Output())
	}
	r = vm.Exec(t, "servera", "", "clstartapp", "-A", "apache", "-V", "--force")
	if r.Code != 0 || !strings.Contains(r.Stdout, "Application apache started successfully on servera.") {
		t.Fatalf("clstartapp: %s", r.Output())
	}
	vm.Sh(t, "servera", "grep -q '^/dev/drbd[0-9]* /apache/docs ' /proc/mounts && ip -o addr | grep -q 172.16.177.200 && grep -q 'cs:Connected ro:Primary/Secondary' /proc/drbd")
	vm.Sh(t, "servera", "echo from-servera > /apache/docs/new.txt && sync")
	r = vm.Exec(t, "servera", "", "clhaltapp", "-A", "apache", "-V", "--force")
	if r.Code != 0 || !strings.Contains(r.Stdout, "Application apache shutdown successfully.") {
		t.Fatalf("clhaltapp: %s", r.Output())
	}
	for _, n := range []string{"servera", "serverb"} {
		if left := vm.Sh(t, n, "grep /apache /proc/mounts; ip -o addr | grep 172.16.177.200; grep 'cs:' /proc/drbd; true"); left != "" {
			t.Fatalf("%s after clhaltapp:\n%s", n, left)
		}
	}
	if r := vm.Exec(t, "serverb", "", "clstartapp", "-A", "apache", "--force"); r.Code != 0 {
		t.Fatalf("clstartapp on serverb: %s", r.Output())
	}
	if got := vm.Sh(t, "serverb", "cat /apache/docs/new.txt"); got != "from-servera\n" {
		t.Fatalf("serverb reads %q", got)
	}
	if r := vm.Exec(t, "serverb", "", "clhaltapp", "-A", "apache", "--force"); r.Code != 0 {
		t.Fatalf("clhaltapp on serverb: %s", r.Output())
	}
	vm.Sh(t, "servera", "rm -f /etc/cluster/.status/apache/TIME")

	// serverb takes the volumes and reads the same data.
	vm.Sh(t, "serverb", "drbd_tool -A apache --action start && drbd_tool -A apache --action mount")
	if got := vm.Sh(t, "serverb", "cd /apache && sha256sum */*.* | grep -v new.txt"); got != want {
		t.Fatalf("serverb data:\n%s\nwant\n%s", got, want)
	}

	// clremoveapp (§12): with no cluster daemon only --force removes; never
	// while a file system is mounted on either node; afterwards both nodes
	// have the resources free, the definition archived, and the data kept.
	rm := func(extra ...string) testbed.Result {
		return vm.Exec(t, "servera", "", append([]string{"clremoveapp", "-A", "apache", "-V"}, extra...)...)
	}
	if r := rm(); r.Code == 0 || !strings.Contains(errorLine(r), "No cluster daemon is running") {
		t.Fatalf("clremoveapp without daemons: %s", r.Output())
	}
	if r := rm("--force"); r.Code == 0 || !strings.Contains(errorLine(r), "of apache is mounted on serverb") {
		t.Fatalf("clremoveapp while mounted on serverb: %s", r.Output())
	}
	vm.Sh(t, "serverb", "drbd_tool -A apache --action unmount && drbd_tool -A apache --action down")
	if r := rm("--force"); r.Code != 0 || !strings.Contains(r.Stdout, "Successfully removed application apache from the cluster.") {
		t.Fatalf("clremoveapp: %s", r.Output())
	}
	for _, n := range []string{"servera", "serverb"} {
		got := vm.Sh(t, n, "ls /etc/cluster/.resources/ports /etc/cluster/.resources/drbd | grep -c apache; test ! -e /etc/cluster/apache && test ! -e /etc/cluster/.resources/fsmap/apache && ls /clbackup | grep -c '^apache-'; lvs --noheadings -o lv_name app01vg | grep -c docs")
		if strings.Fields(got)[0] != "0" || strings.Fields(got)[1] != "1" || strings.Fields(got)[2] != "2" {
			t.Fatalf("%s after clremoveapp (flags, archives, docs volumes): %q", n, got)
		}
		if got := vm.Sh(t, n, "ls /etc/cluster/.resources/ports | grep -c free"); strings.TrimSpace(got) != "99" {
			t.Fatalf("%s: free ports %s", n, got)
		}
	}
}
