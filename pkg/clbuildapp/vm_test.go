package clbuildapp_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/linuxha-ng/linuxha/internal/testbed"
	"github.com/linuxha-ng/linuxha/internal/vmbed"
	"github.com/linuxha-ng/linuxha/pkg/jsonout"
	"github.com/linuxha-ng/linuxha/pkg/progress"
	"github.com/linuxha-ng/linuxha/pkg/volctl"
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
	vm.BuildCluster(t, nil)
	putApp(t, vm, "apache", "appconf.xml", "lems.local.xml", "httpd.xml")
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
	// --sync --json (issue 19): progress lines from the volumes'
	// out-of-sync bytes, ending with all three in step, then the run.
	r = run("sync", "--json")
	lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
	var doc jsonout.RunLog
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &doc); err != nil || r.Code != 0 || !doc.OK ||
		!strings.Contains(doc.Lines[len(doc.Lines)-1].Text, "Successfully Synchronised data from servera to serverb") || len(lines) < 2 {
		t.Fatalf("sync --json: %d %v\n%s", r.Code, err, r.Output())
	}
	var last progress.Line
	if err := json.Unmarshal([]byte(lines[len(lines)-2]), &last); err != nil || last.What != "3 of 3 volumes in step" || last.Percent != 100 || last.Remaining != 0 {
		t.Fatalf("last progress line %q: %v", lines[len(lines)-2], err)
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
	// drbd_tool status --json reads the real /proc/drbd.
	var st volctl.StatusDoc
	if r := vm.Exec(t, "servera", "", "drbd_tool", "-A", "apache", "--action", "status", "--json"); json.Unmarshal([]byte(r.Stdout), &st) != nil ||
		len(st.Volumes) != 3 || *st.Volumes[0].Role != "Primary" || *st.Volumes[0].PeerRole != "Secondary" || *st.Volumes[0].OutOfSync != 0 ||
		!strings.HasPrefix(*st.Volumes[0].Device, "/dev/drbd") {
		t.Fatalf("drbd_tool status --json: %s", r.Output())
	}
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

// putApp writes an example application's XML files on servera.
func putApp(t *testing.T, vm *vmbed.Bed, app string, files ...string) {
	t.Helper()
	root, _ := testbed.RepoRoot()
	for _, f := range files {
		b, err := os.ReadFile(root + "/examples/" + app + "/" + f)
		if err != nil {
			t.Fatal(err)
		}
		vm.WriteFile(t, "servera", "/etc/cluster/"+app+"/"+f, string(b), 0o644)
	}
}

// buildStage runs one clbuildapp stage on servera and fails the test
// unless it succeeds and its output has every line of want.
func buildStage(t *testing.T, vm *vmbed.Bed, app, stage string, want ...string) string {
	t.Helper()
	args := strings.Fields(stage)
	args[0] = "--" + args[0]
	r := vm.Exec(t, "servera", "", append([]string{"clbuildapp", "-A", app, "-V", "-F"}, args...)...)
	if r.Code != 0 {
		t.Fatalf("clbuildapp -A %s --%s: %s", app, stage, r.Output())
	}
	for _, w := range want {
		if !strings.Contains(r.Stdout, w) {
			t.Fatalf("clbuildapp -A %s --%s: no %q in\n%s", app, stage, w, r.Stdout)
		}
	}
	return r.Stdout
}

// waitInSync waits until a volume's two copies are UpToDate.
func waitInSync(t *testing.T, vm *vmbed.Bed, app, vg, lv string) {
	t.Helper()
	for i := 0; ; i++ {
		r := vm.ExecTimeout(t, time.Minute, "servera", "", "drbd_tool", "-A", app, "--action", "status", "--vg", vg, "--lv", lv)
		if strings.Contains(r.Stdout, "ds:UpToDate/UpToDate") {
			return
		}
		if i == 120 {
			t.Fatalf("%s/%s not in sync after 2 minutes: %s", vg, lv, r.Output())
		}
		time.Sleep(time.Second)
	}
}

// On-line changes to a running application's file systems on real DRBD
// 8.4 and LVM (§18.1.1, §18.3.1, §18.2.1): a file system is added, one is
// grown and the added one removed again, each with --vgbuild then --build,
// while a writer appends to the running application's docs volume and
// never sees an error. Then a second application (the samba example, its
// own volume group) is built and started while apache keeps running.
// Finally serverb starts apache on the data it replicated: the writer's
// records and the grown size are there.
func TestOnlineFilesystemChanges(t *testing.T) {
	vm := vmbed.Up(t)
	vm.BuildCluster(t, nil)
	putApp(t, vm, "apache", "appconf.xml", "lems.local.xml", "httpd.xml")
	vm.Sh(t, "servera", `pvcreate -q /dev/vda && vgcreate -q app01vg /dev/vda && for lv in admin docs; do
		lvcreate -q -L 16M -n $lv app01vg && mkfs.ext4 -q /dev/app01vg/$lv && mkdir -p /apache/$lv && mount /dev/app01vg/$lv /apache/$lv; done`)
	vm.Sh(t, "serverb", "pvcreate -q /dev/vda && vgcreate -q app01vg /dev/vda")
	for _, s := range []string{"check", "vgbuild", "build", "sync"} {
		buildStage(t, vm, "apache", s)
	}
	if r := vm.Exec(t, "servera", "", "clstartapp", "-A", "apache", "--force"); r.Code != 0 {
		t.Fatalf("clstartapp: %s", r.Output())
	}
	vm.Sh(t, "servera", `setsid sh -c 'i=0; while [ ! -e /tmp/stop ]; do i=$((i+1)); echo "record $i" >> /apache/docs/w.log || echo "error $i" >> /tmp/werr; sleep 0.05; done; echo $i > /tmp/wdone' </dev/null >/dev/null 2>&1 &`)

	// Add (§18.1.1, L4881-5123): data2 made and mounted on its own logical
	// volume on servera, its mount point made on serverb.
	vm.Sh(t, "servera", `lvcreate -q -L 16M -n data2 app01vg && mkfs.ext4 -q /dev/app01vg/data2 && mkdir -p /apache/data2 &&
		chmod 555 /apache/data2 && mount /dev/app01vg/data2 /apache/data2 && chmod 555 /apache/data2 && echo hello > /apache/data2/hello.txt`)
	vm.Sh(t, "serverb", "mkdir -p /apache/data2 && chmod 555 /apache/data2")
	buildStage(t, vm, "apache", "vgbuild",
		"VG app01vg does not contain LV data2 on serverb - creating...", "VG/LV app01vg/data2_meta of 131072Kb built on servera")
	// Something using the new file system: refused, nothing changed.
	vm.Sh(t, "servera", `setsid sh -c 'echo $$ > /tmp/busy.pid; cd /apache/data2 && exec sleep 600' </dev/null >/dev/null 2>&1 &
		for i in $(seq 50); do [ -s /tmp/busy.pid ] && break; sleep 0.1; done`)
	if r := vm.Exec(t, "servera", "", "clbuildapp", "-A", "apache", "-F", "--build"); r.Code == 0 || !strings.Contains(errorLine(r), "Unable to unmount local /apache/data2") {
		t.Fatalf("build with data2 busy: %d %s", r.Code, r.Output())
	}
	for _, n := range []string{"servera", "serverb"} {
		if got := vm.Sh(t, n, "grep -c data2 /etc/cluster/.resources/fsmap/apache; ls /etc/cluster/.resources/ports | grep -c data2; true"); got != "0\n0\n" {
			t.Fatalf("%s after the refused build: %q", n, got)
		}
	}
	vm.Sh(t, "servera", "p=$(cat /tmp/busy.pid); kill $p; while kill -0 $p 2>/dev/null; do sleep 0.1; done")
	buildStage(t, vm, "apache", "build", "REBUILD: Original fsmap entry count: 2", "REBUILD: Un-mounted local /apache/data2.",
		"REBUILD: DRBD device for /apache/data2 started to synchronise.", "REBUILD: File system /apache/data2 mounted successfully.",
		"Host/VG/LV serverb/app01vg/data2 allocated DRBD", "The rebuild addition / removal of file systems has been")
	vm.Sh(t, "servera", "grep -q '^/dev/drbd[0-9]* /apache/data2 ' /proc/mounts && grep -qx hello /apache/data2/hello.txt && test -e /etc/cluster/.status/apache/app01vg.data2.serverb.STALE")
	for _, n := range []string{"servera", "serverb"} {
		vm.Sh(t, n, "grep -q '^app01vg:data2:/apache/data2:ext4:' /etc/cluster/.resources/fsmap/apache && ls /etc/cluster/.resources/drbd | grep -q apache.app01vg.data2")
	}
	waitInSync(t, vm, "apache", "app01vg", "data2")

	// Grow (§18.3.1, L5554-5582): lvextend on servera only; --vgbuild
	// grows serverb's volume, --build the DRBD device and the file system.
	vm.Sh(t, "servera", "lvextend -q -L 32M app01vg/docs")
	buildStage(t, vm, "apache", "vgbuild", "VG/LV app01vg/docs extended to 32768Kb on serverb")
	buildStage(t, vm, "apache", "build", "REBUILD: File system /apache/docs grown to 32768Kb.", "REBUILD: No new resources on servera required.")
	if got := vm.Sh(t, "servera", "df -k /apache/docs | awk 'NR==2{print ($2 > 28000)}'"); got != "1\n" {
		t.Fatalf("/apache/docs did not grow: %s", vm.Sh(t, "servera", "df -k /apache/docs"))
	}
	waitInSync(t, vm, "apache", "app01vg", "docs")

	// Remove (§18.2.1, L5313-5442): unmounted, then --vgbuild and --build.
	vm.Sh(t, "servera", "umount /apache/data2")
	buildStage(t, vm, "apache", "vgbuild")
	buildStage(t, vm, "apache", "build", "VG: app01vg Used LVs: 2 Not Used LVs: 1",
		"for app01vg/data2 on host servera.", "for app01vg/data2 on host serverb.")
	for _, n := range []string{"servera", "serverb"} {
		if got := vm.Sh(t, n, "grep -c data2 /etc/cluster/.resources/fsmap/apache; ls /etc/cluster/.resources/ports /etc/cluster/.resources/drbd | grep -c data2; grep -c 'cs:' /proc/drbd; true"); got != "0\n0\n2\n" {
			t.Fatalf("%s after removing data2 (fsmap, flags, DRBD devices): %q", n, got)
		}
	}

	// A second application with its own volume group, built and started
	// while apache runs and its writer writes.
	putApp(t, vm, "samba", "appconf.xml", "lems.local.xml", "smbd.xml")
	vm.Sh(t, "servera", `pvcreate -q /dev/vdc && vgcreate -q sambavg /dev/vdc && for lv in cfg shares; do
		lvcreate -q -L 16M -n $lv sambavg && mkfs.ext4 -q /dev/sambavg/$lv && mkdir -p /samba/$lv && mount /dev/sambavg/$lv /samba/$lv; done
		echo share > /samba/shares/readme.txt`)
	vm.Sh(t, "serverb", "pvcreate -q /dev/vdc && vgcreate -q sambavg /dev/vdc")
	buildStage(t, vm, "samba", "check")
	buildStage(t, vm, "samba", "vgbuild")
	buildStage(t, vm, "samba", "build", "Host/VG/LV serverb/sambavg/cfg allocated port 9903")
	buildStage(t, vm, "samba", "sync", "Successfully Synchronised data from servera to serverb")
	if r := vm.Exec(t, "servera", "", "clstartapp", "-A", "samba", "--force"); r.Code != 0 {
		t.Fatalf("clstartapp samba: %s", r.Output())
	}
	vm.Sh(t, "servera", "grep -q '^/dev/drbd[0-9]* /samba/shares ' /proc/mounts && grep -q '^/dev/drbd[0-9]* /apache/docs ' /proc/mounts && ip -o addr | grep -q 172.16.177.86")

	// The writer never saw an error, and every record it wrote is there.
	vm.Sh(t, "servera", "touch /tmp/stop; for i in $(seq 50); do [ -e /tmp/wdone ] && break; sleep 0.2; done")
	if got := vm.Sh(t, "servera", "cat /tmp/werr 2>/dev/null; echo $(cat /tmp/wdone) $(wc -l < /apache/docs/w.log)"); len(strings.Fields(got)) != 2 || strings.Fields(got)[0] != strings.Fields(got)[1] {
		t.Fatalf("writer (errors, records written, records read): %q", got)
	}
	want := vm.Sh(t, "servera", "sha256sum /apache/docs/w.log")
	for _, app := range []string{"samba", "apache"} {
		if r := vm.Exec(t, "servera", "", "clhaltapp", "-A", app, "--force"); r.Code != 0 {
			t.Fatalf("clhaltapp %s: %s", app, r.Output())
		}
	}
	if r := vm.Exec(t, "serverb", "", "clstartapp", "-A", "apache", "--force"); r.Code != 0 {
		t.Fatalf("clstartapp on serverb: %s", r.Output())
	}
	if got := vm.Sh(t, "serverb", "sha256sum /apache/docs/w.log"); got != want {
		t.Fatalf("serverb's w.log %q, want %q", got, want)
	}
	if got := vm.Sh(t, "serverb", "df -k /apache/docs | awk 'NR==2{print ($2 > 28000)}'; grep -c /apache/data2 /proc/mounts; true"); got != "1\n0\n" {
		t.Fatalf("serverb: docs grown, data2 not mounted: %q", got)
	}

	// Off-line addition (§18.1.2, L5125-5311): apache down, all its file
	// systems and a new one mounted on their logical volumes on servera.
	// Without --fsmap an off-line rebuild keeps the fsmap; with it the
	// fsmap is rewritten, and --sync --forcesync replicates everything.
	if r := vm.Exec(t, "serverb", "", "clhaltapp", "-A", "apache", "--force"); r.Code != 0 {
		t.Fatalf("clhaltapp on serverb: %s", r.Output())
	}
	vm.Sh(t, "servera", `mount /dev/app01vg/admin /apache/admin && mount /dev/app01vg/docs /apache/docs &&
		lvcreate -q -L 8M -n data3 app01vg && mkfs.ext4 -q /dev/app01vg/data3 && mkdir -p /apache/data3 && mount /dev/app01vg/data3 /apache/data3 &&
		echo three > /apache/data3/three.txt`)
	vm.Sh(t, "serverb", "mkdir -p /apache/data3")
	buildStage(t, vm, "apache", "vgbuild", "VG app01vg does not contain LV data3 on serverb - creating...")
	buildStage(t, vm, "apache", "build", "REBUILD: fsmap kept as it is")
	vm.Sh(t, "servera", "! grep -q data3 /etc/cluster/.resources/fsmap/apache")
	buildStage(t, vm, "apache", "build --fsmap", "REBUILD: apache is not running: now run --sync --forcesync")
	vm.Sh(t, "serverb", "grep -q '^app01vg:data3:/apache/data3:ext4:' /etc/cluster/.resources/fsmap/apache")
	buildStage(t, vm, "apache", "sync --forcesync", "Successfully Synchronised data from servera to serverb")
	if r := vm.Exec(t, "serverb", "", "clstartapp", "-A", "apache", "--force"); r.Code != 0 {
		t.Fatalf("clstartapp on serverb after the off-line addition: %s", r.Output())
	}
	if got := vm.Sh(t, "serverb", "cat /apache/data3/three.txt; sha256sum /apache/docs/w.log"); got != "three\n"+want {
		t.Fatalf("serverb after the off-line addition: %q", got)
	}
}
