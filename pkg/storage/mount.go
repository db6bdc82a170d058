package storage

import (
	"context"
	"strings"

	"golang.org/x/sys/unix"
)

// mountFlags are mount(8)'s options that are mount(2) flags: set (true)
// or cleared (false). "defaults" is rw,suid,dev,exec,async: no flag.
var mountFlags = map[string]struct {
	flag uintptr
	set  bool
}{
	"ro": {unix.MS_RDONLY, true}, "rw": {unix.MS_RDONLY, false},
	"nosuid": {unix.MS_NOSUID, true}, "suid": {unix.MS_NOSUID, false},
	"nodev": {unix.MS_NODEV, true}, "dev": {unix.MS_NODEV, false},
	"noexec": {unix.MS_NOEXEC, true}, "exec": {unix.MS_NOEXEC, false},
	"sync": {unix.MS_SYNCHRONOUS, true}, "async": {unix.MS_SYNCHRONOUS, false},
	"dirsync": {unix.MS_DIRSYNC, true},
	"noatime": {unix.MS_NOATIME, true}, "atime": {unix.MS_NOATIME, false},
	"nodiratime": {unix.MS_NODIRATIME, true}, "diratime": {unix.MS_NODIRATIME, false},
	"relatime": {unix.MS_RELATIME, true}, "norelatime": {unix.MS_RELATIME, false},
	"strictatime": {unix.MS_STRICTATIME, true},
	"lazytime":    {unix.MS_LAZYTIME, true}, "nolazytime": {unix.MS_LAZYTIME, false},
	"silent": {unix.MS_SILENT, true}, "loud": {unix.MS_SILENT, false},
}

// userOnly are options mount(8) and fstab keep for themselves; the
// kernel never sees them.
var userOnly = map[string]bool{"defaults": true, "auto": true, "noauto": true, "user": true, "nouser": true,
	"users": true, "owner": true, "group": true, "_netdev": true, "nofail": true}

// MountOptions splits an fsmap option string, as mount -o takes it, into
// mount(2)'s flags and the file system's own options. ok is false for
// what mount(8) must handle itself (bind, remount, loop, helpers'
// options such as x-*, comment= or uhelper=).
func MountOptions(opts string) (flags uintptr, data string, ok bool) {
	var fsOpts []string
	for _, o := range strings.Split(opts, ",") {
		o = strings.TrimSpace(o)
		switch {
		case o == "" || userOnly[o]:
		case o == "bind" || o == "rbind" || o == "remount" || o == "move" || o == "loop" ||
			strings.HasPrefix(o, "x-") || strings.HasPrefix(o, "comment=") || strings.HasPrefix(o, "uhelper=") ||
			strings.HasPrefix(o, "helper=") || strings.HasPrefix(o, "loop="):
			return 0, "", false
		default:
			if f, isFlag := mountFlags[o]; isFlag {
				if f.set {
					flags |= f.flag
				} else {
					flags &^= f.flag
				}
				continue
			}
			fsOpts = append(fsOpts, o)
		}
	}
	return flags, strings.Join(fsOpts, ","), true
}

// Mount mounts dev on dir as fstype with mount -o style options: by
// mount(2) directly (no mount(8) process on a takeover's critical path,
// one per volume), falling back to mount(8) for options only it knows
// and for its error messages when the kernel refuses.
func Mount(ctx context.Context, fstype, opts, dev, dir string) error {
	if flags, data, ok := MountOptions(opts); ok {
		if err := unix.Mount(dev, dir, fstype, flags, data); err == nil {
			return nil
		}
	}
	_, err := Exec{}.Run(ctx, nil, "mount", "-t", fstype, "-o", opts, dev, dir)
	return err
}

// Unmount unmounts dir by umount(2), falling back to umount(8) for its
// error message.
func Unmount(ctx context.Context, dir string) error {
	if err := unix.Unmount(dir, 0); err == nil {
		return nil
	}
	_, err := Exec{}.Run(ctx, nil, "umount", dir)
	return err
}
