package state

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func names(t *testing.T, dir string) string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var s []string
	for _, d := range des {
		s = append(s, d.Name())
	}
	return strings.Join(s, " ")
}

// L1696-1742: NNNN.free -> NNNN.app.vg.lv, and re-running keeps allocations.
func TestPoolAllocateAndRerun(t *testing.T) {
	p := Pool{Dir: filepath.Join(t.TempDir(), "ports")}
	n, stranded, err := p.Ensure(9901, 9999)
	if err != nil || n != 99 || len(stranded) != 0 {
		t.Fatalf("created %d %v %v", n, stranded, err)
	}
	apache := Owner{"apache", "datavg", "data1"}
	if err := p.Claim(9901, apache); err != nil {
		t.Fatal(err)
	}
	if err := p.Claim(9901, apache); err != nil {
		t.Fatalf("re-claim by the same owner: %v", err)
	}
	if err := p.Claim(9901, Owner{"samba", "vg", "lv"}); !errors.Is(err, ErrExhausted) {
		t.Fatalf("double allocation: %v", err)
	}
	if _, err := os.Stat(filepath.Join(p.Dir, "9901.apache.datavg.data1")); err != nil {
		t.Fatal(err)
	}
	n, _, err = p.Ensure(9901, 9999)
	if err != nil || n != 0 {
		t.Fatalf("re-run created %d: %v", n, err)
	}
	got, ok, _ := p.Lookup(apache)
	if !ok || got != 9901 {
		t.Fatal("allocation lost on re-run")
	}
	// Shrinking the pool drops free files but never an allocation.
	_, stranded, err = p.Ensure(9950, 9960)
	if err != nil || len(stranded) != 1 || stranded[0].N != 9901 {
		t.Fatalf("stranded %v %v", stranded, err)
	}
	free, _ := p.Free()
	if len(free) != 11 || free[0] != 9950 {
		t.Fatalf("free %v", free)
	}
	// A file system removed from an application (§18.2, L5401-5409)
	// frees its own number and no other.
	docs := Owner{"apache", "datavg", "docs"}
	if err := p.Claim(9950, docs); err != nil {
		t.Fatal(err)
	}
	if n, ok, err := p.ReleaseOwner(docs); err != nil || !ok || n != 9950 {
		t.Fatalf("release docs: %d %v %v", n, ok, err)
	}
	if _, ok, _ := p.ReleaseOwner(docs); ok {
		t.Fatal("released docs twice")
	}
	if _, ok, _ := p.Lookup(apache); !ok {
		t.Fatal("releasing docs freed data1")
	}
	if r, err := p.Release("apache"); err != nil || r != 1 {
		t.Fatalf("release %d %v", r, err)
	}
}

func TestMinorsUnpadded(t *testing.T) {
	p := Pool{Dir: t.TempDir()}
	if _, _, err := p.Ensure(0, 2); err != nil {
		t.Fatal(err)
	}
	if got := names(t, p.Dir); got != "0.free 1.free 2.free" {
		t.Fatalf("got %s", got)
	}
}

func TestFirstCommonFree(t *testing.T) {
	n, err := FirstCommonFree([]int{1, 3, 5}, []int{2, 3, 5})
	if err != nil || n != 3 {
		t.Fatalf("%d %v", n, err)
	}
	if _, err := FirstCommonFree([]int{1}, []int{2}); !errors.Is(err, ErrExhausted) {
		t.Fatal(err)
	}
}

func TestClaimRejectsBadOwner(t *testing.T) {
	p := Pool{Dir: t.TempDir()}
	p.Ensure(0, 1)
	for _, o := range []Owner{{"a.b", "vg", "lv"}, {"a", "../x", "lv"}, {"a", "vg", ""}} {
		if err := p.Claim(0, o); err == nil {
			t.Errorf("accepted %v", o)
		}
	}
}

// L2305-2311: the Reference's fsmap sample round-trips.
func TestFsmapRoundTrip(t *testing.T) {
	sample := "app01vg:clcst:/cluster/control/myapp:reiserfs:ro:10240\n" +
		"app01vg:home:/myapp/home:ext3:data=ordered:20480\n" +
		"app01vg:data:/myapp/data:reiserfs:rw,notail:102400\n"
	es, err := ParseFsmap("fsmap", []byte(sample))
	if err != nil || len(es) != 3 || es[2].Options != "rw,notail" || es[2].SizeKB != 102400 {
		t.Fatalf("%v %+v", err, es)
	}
	p := filepath.Join(t.TempDir(), "apache")
	if err := WriteFsmap(p, es); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	if string(b) != sample {
		t.Fatalf("got %q", b)
	}
	if _, err := ParseFsmap("fsmap", []byte("a:b:/c:ext4:rw\n")); err == nil || !strings.Contains(err.Error(), "fsmap:1:") {
		t.Fatalf("got %v", err)
	}
	if err := WriteFsmap(p, []FsEntry{{VG: "v", LV: "l", MountPoint: "/a:b", FSType: "ext4"}}); err == nil {
		t.Fatal("colon accepted")
	}
	if _, err := ReadFsmap(filepath.Join(t.TempDir(), "none")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
}

func TestTimeAndStale(t *testing.T) {
	dir := t.TempDir()
	tf := filepath.Join(dir, "TIME")
	if _, ok, err := ReadTime(tf); ok || err != nil {
		t.Fatal("time before any start")
	}
	now := time.Unix(1120799059, 0)
	WriteTime(tf, now)
	if got, ok, _ := ReadTime(tf); !ok || !got.Equal(now) {
		t.Fatalf("got %v", got)
	}
	s := Stale{"app01vg", "docs", "serverb.example.com"}
	SetStale(dir, s)
	l, _ := ListStale(dir)
	if len(l) != 1 || l[0] != s {
		t.Fatalf("%+v", l)
	}
	ClearStale(dir, s)
	ClearStale(dir, s)
	if l, _ := ListStale(dir); len(l) != 0 {
		t.Fatalf("%+v", l)
	}
}

// L1827-1840: a changed, unbuilt configuration is refused.
func TestChecksum(t *testing.T) {
	dir := t.TempDir()
	conf, sum := filepath.Join(dir, "clconf.xml"), filepath.Join(dir, ".clbuild.md5")
	os.WriteFile(conf, []byte("<clconf/>"), 0o600)
	if err := VerifyChecksum(sum, conf); !errors.Is(err, ErrNotBuilt) {
		t.Fatal(err)
	}
	if _, err := WriteChecksum(sum, conf); err != nil {
		t.Fatal(err)
	}
	if err := VerifyChecksum(sum, conf); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(conf, []byte("<clconf> </clconf>"), 0o600)
	if err := VerifyChecksum(sum, conf); !errors.Is(err, ErrChanged) {
		t.Fatal(err)
	}
}

func TestTopologyRoundTrip(t *testing.T) {
	in := "servera public eth0 172.16.177.1/24\nservera public eth1 -\nservera drbd eth2 192.100.100.1/24\n"
	top, err := ParseTopology("t", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if string(top.Marshal()) != in {
		t.Fatalf("got %q", top.Marshal())
	}
	if a := top.Addrs("servera"); len(a) != 2 || a[1].Card != "eth2" {
		t.Fatalf("%+v", a)
	}
	if _, err := ParseTopology("t", []byte("a b c 1.2.3\n")); err == nil {
		t.Fatal("bad prefix accepted")
	}
}

// The rebuild lock: a check is refused while a build holds it, a build
// waits for a check in progress, and both are free again once released.
func TestRebuildLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run", "linuxha", "rebuild.apache.lock")
	done, ok := HoldCheck(path)
	if !ok {
		t.Fatal("no build: check refused")
	}
	got := make(chan error, 1)
	go func() {
		release, err := HoldRebuild(path)
		if err == nil {
			release()
		}
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("build did not wait for the check in progress: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	done()
	if err := <-got; err != nil {
		t.Fatalf("build after the check: %v", err)
	}
	release, err := HoldRebuild(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := HoldCheck(path); ok {
		t.Fatal("check allowed during a build")
	}
	release()
	done, ok = HoldCheck(path)
	if !ok {
		t.Fatal("check refused after the build")
	}
	done()
}

// L2889-2894, word for word with --build and --sync.
func TestAppChangedMessage(t *testing.T) {
	want := "\nThe configuration file for this application has been altered\n" +
		"but the --build stage has not yet been rerun. Do that first\n" +
		"before running with the --sync option."
	if got := AppChangedMessage("build", "sync"); got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if got := AppChangedMessage("build", ""); !strings.HasSuffix(got, "Do that first\nbefore running this command again.") {
		t.Fatalf("got %q", got)
	}
}

func TestSumFiles(t *testing.T) {
	f := filepath.Join(t.TempDir(), "build.md5")
	sum := Checksum([]byte("<appconf/>"))
	if SumMatches(f, sum) {
		t.Fatal("a missing file matches")
	}
	if err := WriteSum(f, sum); err != nil {
		t.Fatal(err)
	}
	if !SumMatches(f, sum) || SumMatches(f, Checksum([]byte("<appconf></appconf>"))) {
		t.Fatal("SumMatches is wrong")
	}
}
