package filesync

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// fakeSSH stands in for ssh: it drops the host name and runs the remote
// command locally, so rsync copies between two local directories. The
// namespace testbed runs the real ssh between nodes.
func fakeSSH(t *testing.T) []string {
	t.Helper()
	if _, err := exec.LookPath("rsync"); err != nil {
		t.Skip("rsync not installed")
	}
	p := filepath.Join(t.TempDir(), "fakessh")
	if err := os.WriteFile(p, []byte("#!/bin/sh\nshift\nexec \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return []string{p}
}

func TestSyncAllCopiesAndMarksStale(t *testing.T) {
	root := t.TempDir()
	src := filepath.Join(root, "data")
	status := filepath.Join(root, "status")
	os.MkdirAll(status, 0o755)
	os.MkdirAll(src, 0o755)
	os.WriteFile(filepath.Join(src, "a"), []byte("one"), 0o644)
	// An ssh that fails marks the peer's copy stale; with the fake ssh
	// the copy lands on the same path (a no-op) and clears it.
	s := &Syncer{Dirs: []Dir{{VG: "vg", LV: "lv", Path: src}}, Host: "peer", PeerNode: "nodeb", StatusDir: status,
		SSH: []string{"/bin/false"}}
	if err := s.SyncAll(context.Background(), false); err == nil {
		t.Fatal("sync through a failing ssh succeeded")
	}
	stale := filepath.Join(status, "vg.lv.nodeb.STALE")
	if _, err := os.Stat(stale); err != nil {
		t.Fatalf("failed pass left no STALE flag: %v", err)
	}
	st, err := ReadState(status)
	if err != nil || len(st.Vols) != 1 || st.Vols[0].Complete || st.Vols[0].LastErr == "" {
		t.Fatalf("state after failure = %+v, %v", st, err)
	}
	s.SSH = fakeSSH(t)
	if err := s.SyncAll(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Fatalf("good pass kept the STALE flag: %v", err)
	}
	st, _ = ReadState(status)
	if !st.Vols[0].Complete || st.Vols[0].LastOK.IsZero() {
		t.Fatalf("state after success = %+v", st)
	}
}

// TestRunSyncsOnChange uses a fake ssh that rewrites the destination to a
// second directory, so a change in src must show up in dst.
func TestRunSyncsOnChange(t *testing.T) {
	if _, err := exec.LookPath("rsync"); err != nil {
		t.Skip("rsync not installed")
	}
	root := t.TempDir()
	src, dst, status := filepath.Join(root, "src"), filepath.Join(root, "dst"), filepath.Join(root, "status")
	for _, d := range []string{src, dst, status} {
		os.MkdirAll(d, 0o755)
	}
	// rsync runs "<ssh> peer rsync --server ...", and with
	// --protect-args sends the path inside its protocol: the "peer" is
	// the remote rsync in a mount namespace where dst is mounted on src.
	if os.Geteuid() != 0 {
		t.Skip("needs root (a mount namespace stands in for the peer)")
	}
	ssh := filepath.Join(root, "fakessh")
	script := "#!/bin/bash\nshift\nexec unshare -m --propagation private sh -c 'mount --bind " + dst + " " + src + " && exec \"$@\"' sh \"$@\"\n"
	os.WriteFile(ssh, []byte(script), 0o755)
	s := &Syncer{Dirs: []Dir{{VG: "vg", LV: "lv", Path: src}}, Host: "peer", PeerNode: "nodeb", StatusDir: status,
		SSH: []string{ssh}, Period: time.Hour, Debounce: 50 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, nil) }()
	os.MkdirAll(filepath.Join(src, "sub"), 0o755)
	os.WriteFile(filepath.Join(src, "sub", "f"), []byte("hello"), 0o644)
	deadline := time.Now().Add(20 * time.Second)
	for {
		if b, err := os.ReadFile(filepath.Join(dst, "sub", "f")); err == nil && string(b) == "hello" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("change was not replicated without waiting for the period")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The last write before a stop is replicated by the final pass.
	os.WriteFile(filepath.Join(src, "last"), []byte("bye"), 0o644)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dst, "last")); err != nil || string(b) != "bye" {
		t.Fatalf("final pass did not copy the last write: %q %v", b, err)
	}
}

// rsync's progress2 reports, as clbuildapp --sync shows them (issue 19).
func TestParseProgress2(t *testing.T) {
	for line, want := range map[string]Progress{
		"     32,768  45%    4.10MB/s    0:00:00 (xfr#1, to-chk=0/2)": {Done: 32768, Percent: 45},
		"  1,234,567,890 100%  110.23MB/s    0:00:10":                 {Done: 1234567890, Percent: 100},
	} {
		if got, ok := ParseProgress2(line); !ok || got != want {
			t.Errorf("%q: %+v %v", line, got, ok)
		}
	}
	for _, line := range []string{"", "sending incremental file list", "sent 1,234 bytes  received 35 bytes"} {
		if _, ok := ParseProgress2(line); ok {
			t.Errorf("%q read as progress", line)
		}
	}
	if total := (Progress{Done: 450, Percent: 45}).Total(); total != 1000 {
		t.Errorf("total %d", total)
	}
}

// A pass with Progress set reports, through rsync --info=progress2, up
// to 100% of the directory's bytes.
func TestSyncAllReportsProgress(t *testing.T) {
	if _, err := exec.LookPath("rsync"); err != nil {
		t.Skip("rsync not installed")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root (a mount namespace stands in for the peer)")
	}
	root := t.TempDir()
	src, dst, status := filepath.Join(root, "src"), filepath.Join(root, "dst"), filepath.Join(root, "status")
	for _, d := range []string{src, dst, status} {
		os.MkdirAll(d, 0o755)
	}
	os.WriteFile(filepath.Join(src, "big"), make([]byte, 3<<20), 0o644)
	ssh := filepath.Join(root, "fakessh")
	script := "#!/bin/bash\nshift\nexec unshare -m --propagation private sh -c 'mount --bind " + dst + " " + src + " && exec \"$@\"' sh \"$@\"\n"
	os.WriteFile(ssh, []byte(script), 0o755)
	var got []Progress
	s := &Syncer{Dirs: []Dir{{VG: "vg", LV: "lv", Path: src}}, Host: "peer", PeerNode: "nodeb", StatusDir: status, SSH: []string{ssh},
		Progress: func(d Dir, p Progress) { got = append(got, p) }}
	if err := s.SyncAll(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	if len(got) == 0 || got[len(got)-1].Percent != 100 || got[len(got)-1].Done < 3<<20 {
		t.Fatalf("progress %+v", got)
	}
	if fi, err := os.Stat(filepath.Join(dst, "big")); err != nil || fi.Size() != 3<<20 {
		t.Fatalf("copy: %v", err)
	}
}
