package clbuildapp_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/linuxha-ng/linuxha/internal/testbed"
	"github.com/linuxha-ng/linuxha/pkg/jsonout"
	"github.com/linuxha-ng/linuxha/pkg/progress"
)

// FilesyncApache is examples/apache/appconf.xml with its volume group
// replaced by directories (datadetail filesync, DESIGN §6).
func filesyncApache(t *testing.T) string {
	root, _ := testbed.RepoRoot()
	b, err := os.ReadFile(root + "/examples/apache/appconf.filesync.xml")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The four stages with datadetail filesync in the namespace testbed: the
// directories of the sample apache application reach serverb with the
// same SHA-256 per file; the syncer then replicates a change by itself,
// says it is asynchronous, and a stop makes a final pass.
func TestFilesyncBuildAndReplicate(t *testing.T) {
	tb := testbed.Up(t)
	tb.BuildCluster(t, testbed.Timings{Keepalive: "0.5", Warn: "1", Dead: "2", ClusterForm: "10"})
	tb.WriteFile(t, "servera", "/etc/cluster/apache/appconf.xml", filesyncApache(t), 0o644)
	tb.Sh(t, "servera", `for d in admin docs logs; do mkdir -p /apache/$d/sub && head -c 200000 /dev/urandom > /apache/$d/data.bin &&
		echo $d > /apache/$d/sub/name.txt; done`)
	want := tb.Sh(t, "servera", "cd /apache && find . -type f | sort | xargs sha256sum")
	run := func(stage string, extra ...string) testbed.Result {
		return tb.Exec(t, "servera", "", append([]string{"clbuildapp", "-A", "apache", "-V", "--" + stage}, extra...)...)
	}
	if r := run("vgbuild"); r.Code == 0 || !strings.Contains(r.Stderr, "but the --check stage has not yet been rerun. Do that first") {
		t.Fatalf("vgbuild before check: %d %s", r.Code, r.Output())
	}
	// As JSON (issue 19): the refusal with its exit code, then the
	// check's lines.
	var doc jsonout.RunLog
	r := run("vgbuild", "--json")
	if err := json.Unmarshal([]byte(r.Stdout), &doc); err != nil || r.Code == 0 || doc.Schema != jsonout.RunSchema || doc.OK ||
		doc.Error == nil || !strings.Contains(*doc.Error, "Do that first") || *doc.Stage != "vgbuild" || r.Stderr != "" {
		t.Fatalf("vgbuild --json before check: %d %+v %v\n%s", r.Code, doc, err, r.Output())
	}
	r = run("check", "--json")
	doc = jsonout.RunLog{}
	if err := json.Unmarshal([]byte(r.Stdout), &doc); err != nil || r.Code != 0 || !doc.OK || doc.Errors != 0 || len(doc.Lines) == 0 || *doc.Application != "apache" {
		t.Fatalf("check --json: %d %+v %v\n%s", r.Code, doc, err, r.Output())
	}
	for _, s := range []string{"vgbuild", "build"} {
		if r := run(s); r.Code != 0 {
			t.Fatalf("%s: %s", s, r.Output())
		}
	}
	fsmap := tb.Sh(t, "serverb", "cat /etc/cluster/.resources/fsmap/apache")
	if !strings.Contains(fsmap, "app01vg:docs:/apache/docs:dir:filesync:") {
		t.Fatalf("fsmap on serverb:\n%s", fsmap)
	}
	// --sync --json: JSON lines, each directory's progress up to 100%,
	// then the run's document (issue 19).
	r = run("sync", "--json")
	lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
	doc = jsonout.RunLog{}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &doc); err != nil || r.Code != 0 || !doc.OK ||
		!strings.Contains(doc.Lines[len(doc.Lines)-1].Text, "Successfully Synchronised data from servera to serverb") {
		t.Fatalf("sync --json: %d %v\n%s", r.Code, err, r.Output())
	}
	done := map[string]float64{}
	for _, l := range lines[:len(lines)-1] {
		var p progress.Line
		if err := json.Unmarshal([]byte(l), &p); err != nil || p.Schema != progress.Schema || p.Application != "apache" {
			t.Fatalf("progress line %q: %v", l, err)
		}
		done[p.What] = p.Percent
	}
	for _, d := range []string{"/apache/admin", "/apache/docs", "/apache/logs"} {
		if done[d] != 100 {
			t.Errorf("progress of %s ended at %v%%:\n%s", d, done[d], r.Stdout)
		}
	}
	if got := tb.Sh(t, "serverb", "cd /apache && find . -type f | sort | xargs sha256sum"); got != want {
		t.Fatalf("serverb differs after sync:\n%s\nwant:\n%s", got, want)
	}

	// Started as primary, the syncer copies changes without being asked.
	if r := tb.Exec(t, "servera", "", "drbd_tool", "-A", "apache", "--action", "start"); r.Code != 0 {
		t.Fatalf("drbd_tool start: %s", r.Output())
	}
	tb.Sh(t, "servera", "echo changed > /apache/docs/index.html && rm /apache/logs/data.bin")
	testbed.Eventually(t, 10*time.Second, "change replicated to serverb", func() bool {
		r := tb.Exec(t, "serverb", "", "sh", "-c", "cat /apache/docs/index.html && ! test -e /apache/logs/data.bin")
		return r.Code == 0 && r.Stdout == "changed\n"
	})
	st := tb.Sh(t, "servera", "drbd_tool -A apache --action status")
	if !strings.Contains(st, "app01vg/docs /apache/docs filesync async running") {
		t.Fatalf("status:\n%s", st)
	}
	if !strings.Contains(tb.Sh(t, "servera", "ps -eo comm"), "filesync-apache") {
		t.Fatal("no filesync-apache process")
	}
	// The last write before a stop reaches the peer.
	tb.Sh(t, "servera", "echo last > /apache/admin/last && drbd_tool -A apache --action down")
	if got := tb.Sh(t, "serverb", "cat /apache/admin/last"); got != "last\n" {
		t.Fatalf("final pass: %q", got)
	}
	if strings.Contains(tb.Sh(t, "servera", "ps -eo comm"), "filesync-apache") {
		t.Fatal("filesync-apache still running after down")
	}
	// With serverb unreachable on every path, a pass fails and marks
	// serverb's copy stale; the next good pass clears it.
	tb.Op(t, "partition")
	tb.Sh(t, "servera", "echo x > /apache/docs/x && drbd_tool -A apache --action invalidate_remote || true")
	tb.Sh(t, "servera", "test -e /etc/cluster/.status/apache/app01vg.docs.serverb.STALE")
	tb.Op(t, "heal")
	tb.Sh(t, "servera", "drbd_tool -A apache --action invalidate_remote && ! test -e /etc/cluster/.status/apache/app01vg.docs.serverb.STALE")

	// On-line addition and removal of a directory (§18.1.1, §18.2.1): the
	// application's definition changes, the three stages run again with
	// --force while the syncer runs, and the syncer replicates the new list.
	if r := tb.Exec(t, "servera", "", "drbd_tool", "-A", "apache", "--action", "start"); r.Code != 0 {
		t.Fatalf("drbd_tool start: %s", r.Output())
	}
	withData2 := strings.Replace(filesyncApache(t), `<lv name="logs" mount="/apache/logs"/>`,
		`<lv name="logs" mount="/apache/logs"/><lv name="data2" mount="/apache/data2"/>`, 1)
	rebuild := func(conf string, want string) {
		t.Helper()
		tb.WriteFile(t, "servera", "/etc/cluster/apache/appconf.xml", conf, 0o644)
		for _, s := range []string{"check", "vgbuild", "build"} {
			if r := run(s, "--force"); r.Code != 0 || s == "build" && !strings.Contains(r.Stdout, want) {
				t.Fatalf("%s --force: %s", s, r.Output())
			}
		}
	}
	tb.Sh(t, "servera", "mkdir -p /apache/data2 && echo hello > /apache/data2/hello.txt")
	rebuild(withData2, "REBUILD: Restarted filesync replication of apache with 4 directories.")
	testbed.Eventually(t, 10*time.Second, "data2 replicated to serverb", func() bool {
		r := tb.Exec(t, "serverb", "", "cat", "/apache/data2/hello.txt")
		return r.Code == 0 && r.Stdout == "hello\n"
	})
	rebuild(filesyncApache(t), "REBUILD: Restarted filesync replication of apache with 3 directories.")
	for _, n := range []string{"servera", "serverb"} {
		if got := tb.Sh(t, n, "grep -c data2 /etc/cluster/.resources/fsmap/apache; true"); got != "0\n" {
			t.Fatalf("%s: data2 still in the fsmap", n)
		}
	}
	tb.Sh(t, "servera", "echo after > /apache/docs/after.txt")
	testbed.Eventually(t, 10*time.Second, "syncer still replicating", func() bool {
		r := tb.Exec(t, "serverb", "", "cat", "/apache/docs/after.txt")
		return r.Code == 0 && r.Stdout == "after\n"
	})
	tb.Sh(t, "servera", "drbd_tool -A apache --action down")
}
