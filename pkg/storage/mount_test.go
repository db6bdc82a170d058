package storage

import (
	"context"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestMountOptions(t *testing.T) {
	for _, c := range []struct {
		opts  string
		flags uintptr
		data  string
		ok    bool
	}{
		{"defaults", 0, "", true},
		{"", 0, "", true},
		{"ro", unix.MS_RDONLY, "", true},
		{"ro,rw", 0, "", true}, // the last one wins, as with mount(8)
		{"defaults,noatime,nodev,nosuid", unix.MS_NOATIME | unix.MS_NODEV | unix.MS_NOSUID, "", true},
		{"noatime,data=ordered,errors=remount-ro", unix.MS_NOATIME, "data=ordered,errors=remount-ro", true},
		{"defaults,_netdev,nofail,user_xattr", 0, "user_xattr", true},
		{"sync,dirsync,lazytime", unix.MS_SYNCHRONOUS | unix.MS_DIRSYNC | unix.MS_LAZYTIME, "", true},
		{"bind", 0, "", false},
		{"defaults,x-systemd.automount", 0, "", false},
		{"loop=/dev/loop0", 0, "", false},
	} {
		flags, data, ok := MountOptions(c.opts)
		if flags != c.flags || data != c.data || ok != c.ok {
			t.Errorf("MountOptions(%q) = %#x %q %v, want %#x %q %v", c.opts, flags, data, ok, c.flags, c.data, c.ok)
		}
	}
}

// A real mount(2) and umount(2): a tmpfs with a flag and an option of its
// own, as /proc/mounts shows them.
func TestMountUnmount(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting needs root")
	}
	dir := t.TempDir()
	if err := Mount(context.Background(), "tmpfs", "defaults,noexec,size=1m", "lhtest", dir); err != nil {
		t.Fatal(err)
	}
	line := ""
	for _, l := range strings.Split(readFile(t, "/proc/mounts"), "\n") {
		if f := strings.Fields(l); len(f) > 3 && f[1] == dir {
			line = l
		}
	}
	if !strings.Contains(line, "noexec") || !strings.Contains(line, "size=1024k") || !Mounted(dir) {
		t.Fatalf("mounted as %q", line)
	}
	if err := Unmount(context.Background(), dir); err != nil || Mounted(dir) {
		t.Fatalf("unmount: %v, still mounted %v", err, Mounted(dir))
	}
	// What the kernel refuses goes to mount(8), whose message explains.
	if err := Mount(context.Background(), "tmpfs", "defaults,nosuchoption", "lhtest", dir); err == nil {
		Unmount(context.Background(), dir)
		t.Fatal("an unknown option was accepted")
	}
}

func readFile(t *testing.T, p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
