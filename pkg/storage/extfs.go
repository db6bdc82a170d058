package storage

import (
	"encoding/binary"
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// The ext2/3/4 superblock fields e2fsck -p reads to decide whether a file
// system needs checking (offsets into the superblock, which starts 1024
// bytes into the device).
const (
	sbOffset        = 1024
	sbMntCount      = 0x34 // u16: mounts since the last check
	sbMaxMntCount   = 0x36 // s16: mounts allowed between checks (<= 0: none)
	sbMagic         = 0x38 // u16
	sbState         = 0x3a // u16
	sbLastCheck     = 0x40 // u32: time of the last check
	sbCheckInterval = 0x44 // u32: seconds allowed between checks (0: none)
	sbIncompat      = 0x60 // u32

	extMagic      = 0xef53
	extValidFS    = 0x1 // unmounted cleanly, or mounted with a journal
	extErrorFS    = 0x2 // the kernel found errors
	extJournalDev = 0x8 // an external journal device, not a file system
)

// ExtNeedsCheck decides, from an ext2/3/4 superblock (the device's first
// 2048 bytes), whether e2fsck -p would check the file system rather than
// report it clean, and why. A journal left to replay by a crash is not a
// reason: the kernel's mount replays it, as e2fsck would.
func ExtNeedsCheck(sb []byte, now time.Time) (bool, string) {
	if len(sb) < sbOffset+sbIncompat+4 {
		return true, "superblock unreadable"
	}
	s := sb[sbOffset:]
	u16 := func(o int) uint16 { return binary.LittleEndian.Uint16(s[o:]) }
	u32 := func(o int) uint32 { return binary.LittleEndian.Uint32(s[o:]) }
	state := u16(sbState)
	switch {
	case u16(sbMagic) != extMagic:
		return true, "not an ext2/3/4 superblock"
	case u32(sbIncompat)&extJournalDev != 0:
		return true, "an external journal device"
	case state&extValidFS == 0:
		return true, "not cleanly unmounted"
	case state&extErrorFS != 0:
		return true, "the kernel recorded errors"
	case int16(u16(sbMaxMntCount)) > 0 && u16(sbMntCount) >= u16(sbMaxMntCount):
		return true, fmt.Sprintf("mounted %d times (check every %d)", u16(sbMntCount), u16(sbMaxMntCount))
	case u32(sbCheckInterval) > 0 && now.Unix() >= int64(u32(sbLastCheck))+int64(u32(sbCheckInterval)):
		return true, "check interval reached"
	}
	return false, "clean"
}

// ReadSuperblock reads a device's first 2048 bytes past the page cache
// (O_DIRECT): the cache of a DRBD device may predate what the peer wrote
// while this node was secondary.
func ReadSuperblock(dev string) ([]byte, error) {
	fd, err := unix.Open(dev, unix.O_RDONLY|unix.O_DIRECT|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", dev, err)
	}
	defer unix.Close(fd)
	// O_DIRECT wants a buffer aligned to the logical block size: a page
	// of its own is.
	buf, err := unix.Mmap(-1, 0, 4096, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		return nil, err
	}
	defer unix.Munmap(buf)
	n, err := unix.Pread(fd, buf, 0)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", dev, err)
	}
	if n < 2048 {
		return nil, fmt.Errorf("read %s: %d bytes", dev, n)
	}
	return append([]byte(nil), buf[:2048]...), nil
}
