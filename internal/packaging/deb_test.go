package packaging

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/linuxha-ng/linuxha/internal/testbed"
)

// The Debian package (issue 16): lintian finds no error; installed with
// dpkg -i in both nodes of a namespace testbed, its binaries form a
// cluster and run the apache example; installing it again (an upgrade)
// touches neither the daemons nor the application; dpkg -r removes the
// binaries and leaves the cluster's configuration.
func TestDebInTestbed(t *testing.T) {
	testbed.Require(t)
	for _, tool := range []string{"dpkg-deb", "dpkg-shlibdeps", "lintian", "gcc"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (scripts/deps test installs what make deb needs)", tool)
		}
	}
	root := repo(t)
	out := t.TempDir()
	deb := strings.TrimSpace(mustRun(t, root, "scripts/mkdeb", out))
	version := strings.TrimSpace(mustRun(t, root, "scripts/version"))
	if filepath.Base(deb) != "linuxha_"+version+"_amd64.deb" {
		t.Fatalf("package %s, want linuxha_%s_amd64.deb", deb, version)
	}
	c := exec.Command("lintian", "--no-tag-display-limit", deb)
	lint, _ := c.CombinedOutput()
	for _, l := range strings.Split(string(lint), "\n") {
		if strings.HasPrefix(l, "E: ") {
			t.Errorf("lintian: %s", l)
		}
	}
	data, err := os.ReadFile(deb)
	if err != nil {
		t.Fatal(err)
	}

	tb := testbed.Up(t)
	sbin := func(cmd string, args ...string) []string { return append([]string{"/usr/sbin/" + cmd}, args...) }
	run := func(node string, argv ...string) string {
		t.Helper()
		r := tb.Exec(t, node, "", argv...)
		if r.Code != 0 {
			t.Fatalf("on %s: %s: exit %d\n%s", node, strings.Join(argv, " "), r.Code, r.Output())
		}
		return r.Stdout
	}
	for _, n := range []string{"servera", "serverb"} {
		tb.WriteFile(t, n, "/root/linuxha.deb", string(data), 0o644)
		run(n, "dpkg", "-i", "/root/linuxha.deb")
		if got := run(n, "dpkg-query", "-W", "-f", "${Version} ${Status}", "linuxha"); got != version+" install ok installed" {
			t.Fatalf("%s: dpkg-query: %q", n, got)
		}
		if got := run(n, sbin("clform", "--version")...); got != "clform (linuxha) "+version+"\n" {
			t.Fatalf("%s: installed clform --version: %q", n, got)
		}
		run(n, "test", "-f", "/usr/lib/systemd/system/linuxha-cldaemon.service")
		// Installing started nothing.
		if ps := run(n, "ps", "-eo", "args"); strings.Contains(ps, "-cluster1") {
			t.Fatalf("%s: dpkg -i started a daemon:\n%s", n, ps)
		}
	}

	// The example clconf.xml from the package's documentation, with the
	// testbed's replication (filesync) and quick timings.
	run("servera", "sh", "-c", `mkdir -p /etc/cluster && sed 's|<datadetail>drbd<|<datadetail>filesync<|; s|<key>[^<]*<|<key>q3Vb8nT0xK2mW7pL5sR9yC4fH1jD6gZeUaNvBiOoXw_<|; s|<keepalive>3<|<keepalive>0.2<|; s|<warn>7<|<warn>0.6<|; s|<dead>12<|<dead>1<|; s|<clusterform>300<|<clusterform>10<|' /usr/share/doc/linuxha/examples/clconf.xml > /etc/cluster/clconf.xml && chmod 600 /etc/cluster/clconf.xml`)
	run("servera", sbin("clbuild")...)
	run("servera", sbin("clform")...)
	conf := run("servera", "cat", "/usr/share/doc/linuxha/examples/apache/appconf.filesync.xml")
	tb.ApacheFiles(t, "servera", conf)
	for _, stage := range []string{"check", "vgbuild", "build", "sync"} {
		run("servera", sbin("clbuildapp", "-A", "apache", "--"+stage)...)
	}
	run("servera", sbin("clrunapp", "-A", "apache")...)
	page := func() string {
		out, _ := tb.Router("curl", "-s", "--max-time", "2", "http://172.16.177.200/").Output()
		return string(out)
	}
	testbed.Eventually(t, 10*time.Second, "the page from the installed package's cluster", func() bool { return page() == "hello from linuxha\n" })
	// The daemons' PIDs and binaries (after an upgrade the old binary
	// runs on, "(deleted)", until the daemon is restarted).
	daemons := "for p in $(pgrep -f -- '-cluster1$'); do echo $p $(readlink /proc/$p/exe | sed 's/ (deleted)$//'); done | sort"
	before := run("servera", "sh", "-c", daemons)
	if !strings.Contains(before, "/usr/sbin/cldaemon") || !strings.Contains(before, "/usr/sbin/clnetd") {
		t.Fatalf("daemons not run from the package:\n%s", before)
	}
	apache := run("servera", "pgrep", "-o", "-x", "apache2")

	// An upgrade (the same package again) leaves daemons and application alone.
	run("servera", "dpkg", "-i", "/root/linuxha.deb")
	if after := run("servera", "sh", "-c", daemons); after != before {
		t.Fatalf("dpkg -i while running changed the daemons:\n%s\nwas\n%s", after, before)
	}
	if got := run("servera", "pgrep", "-o", "-x", "apache2"); got != apache || page() != "hello from linuxha\n" {
		t.Fatalf("dpkg -i while running touched apache: pid %q was %q, page %q", got, apache, page())
	}

	run("servera", sbin("clhaltapp", "-A", "apache")...)
	run("servera", sbin("clhalt")...)
	for _, n := range []string{"servera", "serverb"} {
		run(n, "dpkg", "-r", "linuxha")
		left := tb.Exec(t, n, "", "sh", "-c", "ls /usr/sbin/clbuild /usr/share/man/man8/clbuild.8.gz /usr/lib/systemd/system/linuxha-clstartup.service /usr/lib/systemd/system/linuxha-cldaemon.service /usr/share/doc/linuxha 2>/dev/null")
		if strings.TrimSpace(left.Stdout) != "" {
			t.Errorf("%s: dpkg -r left:\n%s", n, left.Stdout)
		}
		run(n, "test", "-f", "/etc/cluster/clconf.xml")
	}
}
