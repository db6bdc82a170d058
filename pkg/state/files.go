package state

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/linuxha-ng/linuxha/pkg/atomicfile"
	"github.com/linuxha-ng/linuxha/pkg/config"
)

// FsEntry is one fsmap line,
// "<vg>:<lv>:<mount point>:<fs type>:<mount options>:<size KB>" (L2299-2311).
type FsEntry struct {
	VG, LV, MountPoint, FSType, Options string
	SizeKB                              int64
}

func (e FsEntry) String() string {
	return strings.Join([]string{e.VG, e.LV, e.MountPoint, e.FSType, e.Options, strconv.FormatInt(e.SizeKB, 10)}, ":")
}

// ParseFsmap reads fsmap lines; blank lines and # comments are skipped.
func ParseFsmap(file string, data []byte) ([]FsEntry, error) {
	var out []FsEntry
	sc := bufio.NewScanner(bytes.NewReader(data))
	for ln := 1; sc.Scan(); ln++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, ":")
		if len(f) != 6 {
			return nil, fmt.Errorf("%s:%d: fsmap: want 6 fields separated by ':', got %d", file, ln, len(f))
		}
		size, err := strconv.ParseInt(f[5], 10, 64)
		if err != nil || size < 0 {
			return nil, fmt.Errorf("%s:%d: fsmap: size %q is not a number of KB", file, ln, f[5])
		}
		e := FsEntry{f[0], f[1], f[2], f[3], f[4], size}
		if e.VG == "" || e.LV == "" || !strings.HasPrefix(e.MountPoint, "/") || e.FSType == "" {
			return nil, fmt.Errorf("%s:%d: fsmap: volume group, logical volume, absolute mount point and type are required", file, ln)
		}
		if err := config.CheckMountPath(e.MountPoint); err != nil {
			return nil, fmt.Errorf("%s:%d: fsmap: %w", file, ln, err)
		}
		for _, n := range []string{e.VG, e.LV} {
			if err := config.CheckAppName(n); err != nil {
				return nil, fmt.Errorf("%s:%d: fsmap: volume %w", file, ln, err)
			}
		}
		out = append(out, e)
	}
	return out, sc.Err()
}

// ReadFsmap reads an application's fsmap; a missing file means the
// application is not built (L2315) and returns an error wrapping
// os.ErrNotExist.
func ReadFsmap(path string) ([]FsEntry, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseFsmap(path, data)
}

// WriteFsmap writes the fsmap atomically, in mount order.
func WriteFsmap(path string, es []FsEntry) error {
	var b strings.Builder
	for _, e := range es {
		for _, s := range []string{e.VG, e.LV, e.MountPoint, e.FSType, e.Options} {
			if strings.ContainsAny(s, ":\n") {
				return fmt.Errorf("fsmap %s: field %q contains ':' or a newline", path, s)
			}
		}
		b.WriteString(e.String() + "\n")
	}
	return atomicfile.WriteFile(path, []byte(b.String()), 0o644)
}

// WriteTime records when the application last started on this node
// (L786-792).
func WriteTime(path string, t time.Time) error {
	return atomicfile.WriteFile(path, []byte(strconv.FormatInt(t.Unix(), 10)+"\n"), 0o644)
}

// ReadTime returns the recorded start time; ok is false when none is.
func ReadTime(path string) (t time.Time, ok bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, err
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("%s: not a UNIX time", path)
	}
	return time.Unix(n, 0), true, nil
}

// Stale names one "<vg>.<lv>.<node>.STALE" flag: node's copy of the
// volume is not current (L7630-7634).
type Stale struct{ VG, LV, Node string }

// SetStale creates the flag file in an application's status directory.
func SetStale(dir string, s Stale) error { return SetStales(dir, s) }

// SetStales creates several flags with one directory sync. A flag is an
// empty file whose existence is its whole content, so creating it is
// already atomic: what must be durable is the directory entry, and one
// fsync of the directory covers them all — a takeover that marks three
// volumes of the dead node STALE pays one disk flush, not six.
func SetStales(dir string, flags ...Stale) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("STALE flags in %s: %w", dir, err)
	}
	for _, s := range flags {
		f, err := os.OpenFile(filepath.Join(dir, s.VG+"."+s.LV+"."+s.Node+".STALE"), os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			return fmt.Errorf("STALE flag: %w", err)
		}
		if err := f.Close(); err != nil {
			return fmt.Errorf("STALE flag: %w", err)
		}
	}
	return atomicfile.SyncDir(dir)
}

// ClearStale removes the flag, if present.
func ClearStale(dir string, s Stale) error {
	err := os.Remove(filepath.Join(dir, s.VG+"."+s.LV+"."+s.Node+".STALE"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// ListStale lists the STALE flags in dir. Node names may contain dots, so
// the volume group and volume are the first two fields.
func ListStale(dir string) ([]Stale, error) {
	des, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Stale
	for _, de := range des {
		if s, ok := ParseStale(de.Name()); ok {
			out = append(out, s)
		}
	}
	return out, nil
}

// ParseStale reads a flag name "<vg>.<lv>.<node>.STALE" (L7630-7633).
// Volume group and logical volume names hold no dots; the node's name
// may (servera.example.com), so it is everything after the second dot.
func ParseStale(name string) (Stale, bool) {
	name, ok := strings.CutSuffix(name, ".STALE")
	if !ok {
		return Stale{}, false
	}
	f := strings.SplitN(name, ".", 3)
	if len(f) != 3 || f[0] == "" || f[1] == "" || f[2] == "" {
		return Stale{}, false
	}
	return Stale{f[0], f[1], f[2]}, true
}

// Build checksums: a tool refuses a configuration changed since the last
// successful build (L1827-1840, L2889-2894).
var (
	ErrNotBuilt = errors.New("state: configuration has not been built")
	ErrChanged  = errors.New("state: configuration changed since it was built")
)

// Checksum is the hex MD5 of a configuration file's bytes.
func Checksum(data []byte) string {
	sum := md5.Sum(data)
	return hex.EncodeToString(sum[:])
}

// WriteChecksum records the checksum of the file at conf in sumFile.
func WriteChecksum(sumFile, conf string) (string, error) {
	data, err := os.ReadFile(conf)
	if err != nil {
		return "", err
	}
	sum := Checksum(data)
	return sum, WriteSum(sumFile, sum)
}

// VerifyChecksum checks conf against sumFile: nil when they match,
// ErrNotBuilt when no checksum was recorded, ErrChanged when they differ.
func VerifyChecksum(sumFile, conf string) error {
	want, err := os.ReadFile(sumFile)
	if errors.Is(err, os.ErrNotExist) {
		return ErrNotBuilt
	}
	if err != nil {
		return err
	}
	data, err := os.ReadFile(conf)
	if err != nil {
		return err
	}
	if strings.TrimSpace(string(want)) != Checksum(data) {
		return ErrChanged
	}
	return nil
}

// ClusterChangedMessage is what every tool prints, one ERROR line each,
// when clconf.xml changed after the last clbuild (L1830-1837).
var ClusterChangedMessage = []string{
	"The cluster configuration file",
	"%s appears to have been changed",
	"but the changes have not yet been validated.",
	"Please run the clbuild(1M) command first before",
	"running this command again.",
	"Please note that if the cluster is already running",
	"you will need to use the --force argument. This will",
	"not affect running applications.",
}

// AppChangedMessage is what a tool prints, one ERROR line each, when an
// appconf.xml changed after its prev stage of clbuildapp (L2889-2894):
// next is the option about to run, "" for a tool other than clbuildapp.
func AppChangedMessage(prev, next string) string {
	last := "before running with the --" + next + " option."
	if next == "" {
		last = "before running this command again."
	}
	return strings.Join([]string{"",
		"The configuration file for this application has been altered",
		"but the --" + prev + " stage has not yet been rerun. Do that first",
		last}, "\n")
}

// WriteSum records sum, a Checksum, in sumFile.
func WriteSum(sumFile, sum string) error {
	return atomicfile.WriteFile(sumFile, SumBytes(sum), 0o600)
}

// SumBytes is a checksum file's content.
func SumBytes(sum string) []byte { return []byte(sum + "\n") }

// SumMatches reports whether sumFile records sum.
func SumMatches(sumFile, sum string) bool {
	got, err := os.ReadFile(sumFile)
	return err == nil && strings.TrimSpace(string(got)) == sum
}
