package clbuild_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/linuxha-ng/linuxha/internal/testbed"
	"github.com/linuxha-ng/linuxha/pkg/clitool"
	"github.com/linuxha-ng/linuxha/pkg/jsonout"
)

const snapshot = `for d in /etc/cluster /clbackup; do [ -d $d ] && find $d -exec stat -c '%n %a %u' {} + && find $d -type f -exec md5sum {} +; done | sort; true`

func sample(t *testing.T) string {
	b, err := os.ReadFile("../../examples/clconf.xml")
	if err != nil {
		t.Fatal(err)
	}
	// The namespace testbed has no DRBD module: replicate with filesync.
	return strings.NewReplacer("<datadetail>drbd</datadetail>", "<datadetail>filesync</datadetail>",
		testbed.ExampleKey, testbed.Key).Replace(string(b))
}

func errorLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "ERROR ") {
			out = append(out, l)
		}
	}
	return out
}

// The new user's flow of §7.2 (L1744-1810): copy the example, clbuild
// --verbose on servera; serverb ends with the same clconf.xml (0600,
// root), the resource files and the checksum; re-running keeps
// allocations.
func TestBuildInTestbed(t *testing.T) {
	tb := testbed.Up(t)
	// A configuration error as JSON (issue 19): the problem named with
	// its file and line, exit 3 (configuration), nothing on stderr.
	tb.WriteFile(t, "servera", "/etc/cluster/clconf.xml", strings.Replace(sample(t), "<dead>12</dead>", "<dead>soon</dead>", 1), 0o600)
	r := tb.Exec(t, "servera", "", "clbuild", "--json")
	var doc jsonout.RunLog
	if err := json.Unmarshal([]byte(r.Stdout), &doc); err != nil || r.Code != clitool.ExitConfig || doc.OK || doc.Error == nil ||
		!strings.Contains(*doc.Error, "clconf.xml:") || !strings.Contains(*doc.Error, "dead") || r.Stderr != "" {
		t.Fatalf("clbuild --json with a bad dead: %d %+v %v\n%s", r.Code, doc, err, r.Output())
	}
	tb.WriteFile(t, "servera", "/etc/cluster/clconf.xml", sample(t), 0o600)
	r = tb.Exec(t, "servera", "", "clbuild", "--verbose")
	if r.Code != 0 {
		t.Fatalf("clbuild: exit %d\n%s", r.Code, r.Output())
	}
	for _, want := range []string{
		`SSH communication to serverb will be: 172.16.177.2 ("public" network)`,
		"INFO", "Validated network IP for public on serverb: eth0 - 172.16.177.2",
		"Able to send ping to DRBD Ip address 192.100.100.2 for serverb",
		"Node serverb is not running a cldaemon process (good)",
		"Created 99 port allocation files on serverb", "Created 50 DRBD allocation files on serverb",
		"Clbuild has completed without errors or warnings",
	} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("output lacks %q\n%s", want, r.Stdout)
		}
	}
	a := tb.Sh(t, "servera", "md5sum < /etc/cluster/clconf.xml; cat /etc/cluster/.clbuild.md5; ls /etc/cluster/.resources/ports | wc -l; ls /etc/cluster/.resources/drbd | wc -l")
	b := tb.Sh(t, "serverb", "md5sum < /etc/cluster/clconf.xml; cat /etc/cluster/.clbuild.md5; ls /etc/cluster/.resources/ports | wc -l; ls /etc/cluster/.resources/drbd | wc -l")
	if a != b {
		t.Fatalf("nodes differ:\nservera:\n%s\nserverb:\n%s", a, b)
	}
	if got := tb.Sh(t, "serverb", "stat -c '%a %u' /etc/cluster/clconf.xml"); got != "600 0\n" {
		t.Fatalf("peer clconf.xml mode/owner: %q", got)
	}
	if !strings.Contains(b, "99\n50\n") {
		t.Fatalf("resource files: %s", b)
	}
	for _, n := range []string{"servera", "serverb"} {
		r := tb.Exec(t, n, "", "clstat")
		if r.Code == 0 || !strings.Contains(r.Stderr, "ERROR") || !strings.Contains(r.Stderr, "Cluster cluster1 is not running.") {
			t.Fatalf("clstat on %s: %d %s", n, r.Code, r.Output())
		}
	}

	// An allocation made by an application build survives a rebuild.
	for _, n := range []string{"servera", "serverb"} {
		tb.Sh(t, n, "cd /etc/cluster/.resources && mv ports/9901.free ports/9901.apache.app01vg.docs && mv drbd/0.free drbd/0.apache.app01vg.docs")
	}
	r = tb.Exec(t, "servera", "", "clbuild")
	if r.Code == 0 || !strings.Contains(r.Stderr, "already been built") {
		t.Fatalf("rebuild without --force: %d %s", r.Code, r.Output())
	}
	r = tb.Exec(t, "servera", "", "clbuild", "-V", "-F")
	if r.Code != 0 || !strings.Contains(r.Stdout, "Created 0 port allocation files on serverb") {
		t.Fatalf("clbuild -F: %d\n%s", r.Code, r.Output())
	}
	for _, n := range []string{"servera", "serverb"} {
		tb.Sh(t, n, "test -e /etc/cluster/.resources/ports/9901.apache.app01vg.docs && test ! -e /etc/cluster/.resources/ports/9901.free && test -e /etc/cluster/.resources/drbd/0.apache.app01vg.docs")
		if got := tb.Sh(t, n, "ls /clbackup | wc -l"); strings.TrimSpace(got) != "1" {
			t.Fatalf("%s: previous configuration not archived: %s", n, got)
		}
	}

	// A changed, unbuilt configuration is refused with the Reference's
	// message (L1827-1838).
	tb.Sh(t, "servera", "echo '<!-- edited -->' >> /etc/cluster/clconf.xml")
	r = tb.Exec(t, "servera", "", "clstat")
	if r.Code == 0 || !strings.Contains(r.Stderr, "/etc/cluster/clconf.xml appears to have been changed") ||
		!strings.Contains(r.Stderr, "Please run the clbuild(1M) command first before") {
		t.Fatalf("clstat after edit: %s", r.Output())
	}
}

// Each bad input is refused with one line naming the problem and leaves
// both nodes as they were.
func TestBuildRefusals(t *testing.T) {
	tb := testbed.Up(t)
	good := sample(t)
	tests := []struct {
		name   string
		conf   string
		mode   os.FileMode
		setup  string // shell on servera before the run
		psetup string // shell on serverb before the run
		undo   string // shell on serverb after the run
		want   string
	}{
		{name: "mode not 0600", conf: good, mode: 0o644, want: "/etc/cluster/clconf.xml must be readable only by root: mode is 0644"},
		{name: "not owned by root", conf: good, mode: 0o600, setup: "chown 1000 /etc/cluster/clconf.xml", want: "must be owned by root (owner uid is 1000)"},
		{name: "unknown card", conf: strings.Replace(good, `<name>serverb</name>
    <network name="public" cards="eth0,eth1"/>`, `<name>serverb</name>
    <network name="public" cards="eth0,eth7"/>`, 1), mode: 0o600, want: "Card eth7 of network public does not exist on serverb"},
		{name: "card in two networks", conf: strings.Replace(good, `<network name="drbd" cards="eth2"/>
</node>
<node>`, `<network name="drbd" cards="eth1"/>
</node>
<node>`, 1), mode: 0o600, want: "node servera/network drbd: card eth1 is already used by network public"},
		{name: "missing drbd_network", conf: strings.Replace(good, "<drbd_network>drbd</drbd_network>", "", 1), mode: 0o600, want: "global/drbd_network: required value missing"},
		{name: "node name does not resolve", conf: strings.ReplaceAll(good, "serverb", "serverc"), mode: 0o600, want: "Node name serverc does not resolve"},
		{name: "peer unreachable by ssh", conf: good, mode: 0o600, psetup: "kill $(cat /run/sshd.pid)", undo: "/usr/sbin/sshd -f /etc/ssh/linuxha-testbed-sshd_config", want: "serverb is not reachable by ssh: serverb: ssh: connect to host serverb port 22: Connection refused"},
		{name: "portpool under 10 ports", conf: strings.Replace(good, "9901,9999", "9901,9909", 1), mode: 0o600, want: "global/portpool: \"9901,9909\" holds 9 ports; at least 10 are required"},
		{name: "no DRBD module", conf: good /* filesync */, mode: 0o600, setup: "sed -i 's/filesync/drbd/' /etc/cluster/clconf.xml", want: "DRBD kernel module not available on servera"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb.WriteFile(t, "servera", "/etc/cluster/clconf.xml", tt.conf, tt.mode)
			if tt.setup != "" {
				tb.Sh(t, "servera", tt.setup)
			}
			if tt.psetup != "" {
				tb.Sh(t, "serverb", tt.psetup)
			}
			if tt.undo != "" {
				defer tb.Sh(t, "serverb", tt.undo)
			}
			before := [2]string{tb.Sh(t, "servera", snapshot), tb.Sh(t, "serverb", snapshot)}
			r := tb.Exec(t, "servera", "", "clbuild", "--verbose")
			if r.Code == 0 {
				t.Fatalf("accepted:\n%s", r.Output())
			}
			errs := errorLines(r.Stderr)
			if len(errs) != 1 || !strings.Contains(errs[0], tt.want) {
				t.Fatalf("want one ERROR line with %q, got:\n%s", tt.want, r.Stderr)
			}
			after := [2]string{tb.Sh(t, "servera", snapshot), tb.Sh(t, "serverb", snapshot)}
			if before != after {
				t.Fatalf("nodes changed:\nbefore %v\nafter %v", before, after)
			}
		})
	}
}
