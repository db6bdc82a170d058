package drbd

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The sizes whose bitmap's last word DRBD 8.4's bm_count_bits clears on
// attach: a bit count that is a multiple of 64, at 4 KiB a bit.
func TestTailAtRisk(t *testing.T) {
	for _, c := range []struct {
		size int64
		want bool
	}{
		{16 << 20, true},         // the VM fault lab's volume: 4096 bits, the bug seen
		{20 << 20, true},         // any LVM volume: 4 MiB extents
		{256 << 10, true},        // one word exactly
		{16<<20 - 36<<10, false}, // internal meta-data taken off: 4087 bits
		{16<<20 + 4<<10, false},  // 4097 bits: the last word holds one bit, masked right
		{0, false},               // not configured
	} {
		if got := TailAtRisk(c.size); got != c.want {
			t.Errorf("TailAtRisk(%d) = %v, want %v", c.size, got, c.want)
		}
	}
}

// procRunner records argv; a verify command leaves the minor Connected
// with what it "found" out of sync, as /proc/drbd shows it afterwards.
type procRunner struct {
	proc  string
	oos   string
	lines []string
}

func (r *procRunner) Run(_ context.Context, _ []byte, argv ...string) ([]byte, error) {
	r.lines = append(r.lines, strings.Join(argv, " "))
	if len(argv) > 1 && argv[1] == "verify" {
		os.WriteFile(r.proc, []byte("version: 8.4.11 (api:1/proto:86-101)\n 0: cs:Connected ro:Primary/Secondary ds:UpToDate/UpToDate C r-----\n    ns:0 nr:0 dw:0 dr:0 al:0 bm:0 lo:0 pe:0 ua:0 ap:0 ep:1 wo:f oos:"+r.oos+"\n"), 0o644)
	}
	return nil, nil
}

func TestVerifyAndResyncTranscript(t *testing.T) {
	dir := t.TempDir()
	proc, setup := filepath.Join(dir, "drbd"), filepath.Join(dir, "drbdsetup-84")
	os.WriteFile(setup, nil, 0o755)
	os.WriteFile(proc, []byte("version: 8.4.11 (api:1/proto:86-101)\n 0: cs:Connected ro:Primary/Secondary ds:UpToDate/UpToDate C r-----\n"), 0o644)
	rec := &procRunner{proc: proc, oos: "4"}
	d := &Driver{Runner: rec, ConfDir: dir, Proc: proc, Setup84: setup}
	r := Resource{App: "apache", VG: "app01vg", LV: "docs", Minor: 0}
	found, err := d.Verify(context.Background(), r, 16<<20-TailBytes, 0)
	if err != nil || found != 4096 {
		t.Fatalf("Verify: %d bytes, %v; want 4096 (oos:4 is KiB)", found, err)
	}
	if err := d.Resync(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	c := filepath.Join(dir, "apache_app01vg_docs.res")
	want := []string{
		setup + " verify 0 --start 32256", // sectors: the last 256 KiB of 16 MiB
		"drbdadm -c " + c + " disconnect apache_app01vg_docs",
		"drbdadm -c " + c + " connect apache_app01vg_docs",
	}
	if got := strings.Join(rec.lines, "\n"); got != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", got, strings.Join(want, "\n"))
	}
	// With neither node primary the disconnection starts no new data
	// generation: this node starts one, or the connection syncs nothing.
	os.WriteFile(proc, []byte("version: 8.4.11 (api:1/proto:86-101)\n 0: cs:Connected ro:Secondary/Secondary ds:UpToDate/UpToDate C r-----\n"), 0o644)
	rec.lines = nil
	if err := d.Resync(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	want = []string{
		"drbdadm -c " + c + " disconnect apache_app01vg_docs",
		"drbdadm -c " + c + " new-current-uuid apache_app01vg_docs",
		"drbdadm -c " + c + " connect apache_app01vg_docs",
	}
	if got := strings.Join(rec.lines, "\n"); got != strings.Join(want, "\n") {
		t.Fatalf("both secondary: got\n%s\nwant\n%s", got, strings.Join(want, "\n"))
	}
	// A verify that cannot run (not connected: the minor is not there)
	// is an error, never "identical".
	os.WriteFile(proc, []byte("version: 8.4.11 (api:1/proto:86-101)\n 0: cs:WFConnection ro:Primary/Unknown ds:UpToDate/DUnknown C r-----\n"), 0o644)
	rec.proc = filepath.Join(dir, "elsewhere")
	if _, err := d.Verify(context.Background(), r, 0, 0); err == nil {
		t.Fatal("verify of a resource that is not connected reported no error")
	}
}
