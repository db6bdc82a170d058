package storage

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// ExtNeedsCheck against real superblocks made by mkfs.ext4 and changed by
// debugfs and tune2fs, as e2fsck -p would judge them.
func TestExtNeedsCheck(t *testing.T) {
	if _, err := exec.LookPath("mkfs.ext4"); err != nil {
		t.Skip("e2fsprogs not installed")
	}
	dir := t.TempDir()
	now := time.Now()
	for _, c := range []struct {
		name, cmd string
		need      bool
	}{
		{"fresh", "", false},
		{"journal to replay (a crash while mounted)", "debugfs -w -R 'feature needs_recovery' $F", false},
		{"not cleanly unmounted", "debugfs -w -R 'ssv state 0' $F", true},
		{"errors recorded", "debugfs -w -R 'ssv state 3' $F", true},
		{"maximal mount count", "tune2fs -c 5 -C 5 $F", true},
		{"below the mount count", "tune2fs -c 5 -C 4 $F", false},
		{"check interval passed", "tune2fs -i 1d -T 20000101 $F", true},
		{"check interval not passed", "tune2fs -i 1d -T now $F", false},
	} {
		f := filepath.Join(dir, "img")
		sh := "rm -f $F && truncate -s 8M $F && mkfs.ext4 -q -F $F"
		if c.cmd != "" {
			sh += " && " + c.cmd
		}
		cmd := exec.Command("sh", "-c", sh)
		cmd.Env = append(os.Environ(), "F="+f)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v %s", c.name, err, out)
		}
		sb, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if need, why := ExtNeedsCheck(sb[:2048], now); need != c.need {
			t.Errorf("%s: needs check %v (%s), want %v", c.name, need, why, c.need)
		}
	}
	if need, _ := ExtNeedsCheck(make([]byte, 2048), now); !need {
		t.Error("zeroes taken for a clean file system")
	}
	if need, _ := ExtNeedsCheck(nil, now); !need {
		t.Error("no superblock taken for a clean file system")
	}
}

// ReadSuperblock reads past the page cache what mkfs wrote.
func TestReadSuperblock(t *testing.T) {
	if _, err := exec.LookPath("mkfs.ext4"); err != nil {
		t.Skip("e2fsprogs not installed")
	}
	f := filepath.Join(t.TempDir(), "img")
	if out, err := exec.Command("sh", "-c", "truncate -s 8M "+f+" && mkfs.ext4 -q -F "+f).CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	sb, err := ReadSuperblock(f)
	if errors.Is(err, unix.EINVAL) {
		t.Skip("this file system takes no O_DIRECT")
	}
	if err != nil {
		t.Fatal(err)
	}
	if need, why := ExtNeedsCheck(sb, time.Now()); need {
		t.Fatalf("a fresh file system read back as needing a check: %s", why)
	}
	if _, err := ReadSuperblock(filepath.Join(t.TempDir(), "none")); err == nil {
		t.Fatal("a missing device read")
	}
}
