// Package filesync is the replication driver for kernels without DRBD
// (DESIGN §6, seeds 000 and 004): each application directory is copied
// from the active node to the standby with rsync over SSH, when it
// changes (inotify) and on a period, with the same STALE bookkeeping as
// DRBD volumes. It is asynchronous: the standby lags by up to one pass.
package filesync

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/linuxha-ng/linuxha/pkg/atomicfile"
	"github.com/linuxha-ng/linuxha/pkg/state"
)

// Dir is one replicated directory.
type Dir struct {
	VG, LV, Path string
}

// VolState is what the syncer last did for one directory; it is written
// to StateFile for drbd_tool status and clstat.
type VolState struct {
	VG       string    `json:"vg"`
	LV       string    `json:"lv"`
	Path     string    `json:"path"`
	LastOK   time.Time `json:"last_ok,omitempty"`
	LastErr  string    `json:"last_error,omitempty"`
	Pending  bool      `json:"pending"`  // changed since the last good pass
	Syncing  bool      `json:"syncing"`  // a pass is running
	Complete bool      `json:"complete"` // the standby holds the last good pass
}

// State is the syncer's state file.
type State struct {
	Pid     int        `json:"pid"`
	Peer    string     `json:"peer"`
	Updated time.Time  `json:"updated"`
	Vols    []VolState `json:"volumes"`
}

// Syncer replicates an application's directories to the peer.
type Syncer struct {
	Dirs      []Dir
	Host      string   // peer address on the replication network
	PeerNode  string   // for STALE flags
	StatusDir string   // the application's status directory (STALE flags, state file)
	SSH       []string // ssh command and options for rsync's -e
	Period    time.Duration
	Debounce  time.Duration
	Logf      func(format string, args ...any)
	// Progress, when set, is told how each copy goes (clbuildapp
	// --sync): rsync then reports with --info=progress2.
	Progress func(d Dir, p Progress)

	mu   sync.Mutex // guards vols: the passes and the state writer share them
	vols []VolState
}

// StateFile is where the syncer of an application records its state.
func StateFile(statusDir string) string { return filepath.Join(statusDir, "filesync.json") }

// PidFile holds the pid of the application's running syncer.
func PidFile(statusDir string) string { return filepath.Join(statusDir, "filesync.pid") }

// ReadState reads a syncer's state file.
func ReadState(statusDir string) (State, error) {
	var st State
	data, err := os.ReadFile(StateFile(statusDir))
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return st, fmt.Errorf("%s: %w", StateFile(statusDir), err)
	}
	return st, nil
}

func (s *Syncer) logf(format string, args ...any) {
	if s.Logf != nil {
		s.Logf(format, args...)
	}
}

// Once copies one directory to the peer now; checksum compares file
// contents rather than sizes and times (a full resync).
func (s *Syncer) Once(ctx context.Context, d Dir, checksum bool) error {
	return s.rsync(ctx, d, checksum, d.Path+"/", s.Host+":"+d.Path+"/")
}

// Pull copies one directory from the peer here: the start of an
// application whose local copy is stale (asynchronous copies do not
// resynchronise by themselves).
func (s *Syncer) Pull(ctx context.Context, d Dir) error {
	return s.rsync(ctx, d, false, s.Host+":"+d.Path+"/", d.Path+"/")
}

func (s *Syncer) rsync(ctx context.Context, d Dir, checksum bool, from, to string) error {
	if err := os.MkdirAll(d.Path, 0o755); err != nil {
		return err
	}
	// --protect-args: the remote side takes the path as it is, never
	// through its shell (the paths are also limited, config.CheckMountPath).
	args := []string{"-a", "--delete", "--numeric-ids", "-H", "--partial", "--protect-args", "-e", strings.Join(s.SSH, " ")}
	if checksum {
		args = append(args, "-c")
	}
	var out []byte
	var err error
	if s.Progress != nil {
		// Totals up front (no incremental recursion), so that the
		// percentage is of the whole directory.
		args = append(args, "--info=progress2", "--no-inc-recursive", from, to)
		out, err = s.rsyncWatched(ctx, d, args)
	} else {
		args = append(args, from, to)
		out, err = exec.CommandContext(ctx, "rsync", args...).CombinedOutput()
	}
	if err != nil {
		// rsync exit 24: files vanished while copying; the next pass
		// picks up what replaced them.
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() == 24 {
			return nil
		}
		return fmt.Errorf("rsync %s to %s: %v: %s", from, to, err, lastLine(out))
	}
	return nil
}

// Progress is one of rsync's progress2 reports: bytes copied so far and
// the percentage of the whole.
type Progress struct {
	Done    int64
	Percent float64
}

// Total is the bytes the pass copies in all, as far as rsync can tell.
func (p Progress) Total() int64 {
	if p.Percent <= 0 {
		return 0
	}
	return int64(float64(p.Done) * 100 / p.Percent)
}

// rsyncWatched runs rsync with its progress reports on stdout passed to
// s.Progress; it returns rsync's standard error (for the error message).
func (s *Syncer) rsyncWatched(ctx context.Context, d Dir, args []string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "rsync", args...)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(stdout)
	sc.Split(scanReports)
	for sc.Scan() {
		if p, ok := ParseProgress2(sc.Text()); ok {
			s.Progress(d, p)
		}
	}
	io.Copy(io.Discard, stdout)
	// Wait first: until it returns, exec's goroutine may still be
	// copying rsync's standard error into errb.
	err = cmd.Wait()
	return errb.Bytes(), err
}

// scanReports splits rsync's output at each carriage return or newline:
// progress2 redraws its line with '\r'.
func scanReports(data []byte, atEOF bool) (int, []byte, error) {
	if i := bytes.IndexAny(data, "\r\n"); i >= 0 {
		return i + 1, data[:i], nil
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}

// ParseProgress2 reads one rsync --info=progress2 report:
// "     32,768  45%    4.10MB/s    0:00:00 (xfr#1, to-chk=0/2)".
func ParseProgress2(line string) (Progress, bool) {
	f := strings.Fields(line)
	if len(f) < 2 || !strings.HasSuffix(f[1], "%") {
		return Progress{}, false
	}
	done, err1 := strconv.ParseInt(strings.ReplaceAll(f[0], ",", ""), 10, 64)
	pct, err2 := strconv.ParseFloat(strings.TrimSuffix(f[1], "%"), 64)
	if err1 != nil || err2 != nil {
		return Progress{}, false
	}
	return Progress{Done: done, Percent: pct}, true
}

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}

// SyncAll runs one pass over every directory and records the outcome:
// a failed pass marks the peer's copy STALE, a good one clears it.
func (s *Syncer) SyncAll(ctx context.Context, checksum bool) error {
	s.init()
	var firstErr error
	for i, d := range s.Dirs {
		s.set(i, func(v *VolState) { v.Syncing = true })
		err := s.Once(ctx, d, checksum)
		stale := state.Stale{VG: d.VG, LV: d.LV, Node: s.PeerNode}
		s.set(i, func(v *VolState) {
			v.Syncing = false
			if err != nil {
				v.LastErr = err.Error()
				v.Complete = false
				return
			}
			v.LastErr, v.Pending, v.Complete, v.LastOK = "", false, true, time.Now()
		})
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			if serr := state.SetStale(s.StatusDir, stale); serr != nil {
				s.logf("WARN Unable to mark %s/%s stale on %s: %v", d.VG, d.LV, s.PeerNode, serr)
			}
			continue
		}
		state.ClearStale(s.StatusDir, stale)
	}
	s.save()
	return firstErr
}

func (s *Syncer) init() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.vols == nil {
		for _, d := range s.Dirs {
			s.vols = append(s.vols, VolState{VG: d.VG, LV: d.LV, Path: d.Path, Pending: true})
		}
	}
}

func (s *Syncer) set(i int, f func(*VolState)) {
	s.mu.Lock()
	f(&s.vols[i])
	s.mu.Unlock()
	s.save()
}

func (s *Syncer) markPending() {
	s.mu.Lock()
	for i := range s.vols {
		s.vols[i].Pending = true
	}
	s.mu.Unlock()
}

func (s *Syncer) save() {
	s.mu.Lock()
	st := State{Pid: os.Getpid(), Peer: s.PeerNode, Updated: time.Now(), Vols: append([]VolState(nil), s.vols...)}
	s.mu.Unlock()
	data, _ := json.MarshalIndent(st, "", "  ")
	if err := atomicfile.WriteFile(StateFile(s.StatusDir), append(data, '\n'), 0o644); err != nil {
		s.logf("WARN Unable to record filesync state: %v", err)
	}
}

// Run replicates until ctx ends: a pass after every burst of changes
// (Debounce after the last one) and every Period; a final pass on the way
// out, so a clean stop leaves the standby current. now, when not nil,
// requests an extra pass (drbd_tool invalidate_remote).
func (s *Syncer) Run(ctx context.Context, now <-chan bool) error {
	s.init()
	if s.Period <= 0 {
		s.Period = 30 * time.Second
	}
	if s.Debounce <= 0 {
		s.Debounce = 200 * time.Millisecond
	}
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return fmt.Errorf("inotify: %w", err)
	}
	changed := make(chan struct{}, 1)
	go s.watch(ctx, fd, changed)
	s.addWatches(fd)
	final := func() error {
		fctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		return s.SyncAll(fctx, false)
	}
	if err := s.SyncAll(ctx, false); err != nil {
		s.logf("WARN %v", err)
	}
	tick := time.NewTicker(s.Period)
	defer tick.Stop()
	for {
		checksum := false
		select {
		case <-ctx.Done():
			return final()
		case <-tick.C:
		case checksum = <-now:
		case <-changed:
			s.markPending()
			// Let a burst of writes settle.
			t := time.NewTimer(s.Debounce)
		settle:
			for {
				select {
				case <-changed:
					t.Reset(s.Debounce)
				case <-t.C:
					break settle
				case <-ctx.Done():
					t.Stop()
					return final()
				}
			}
		}
		s.addWatches(fd)
		if err := s.SyncAll(ctx, checksum); err != nil && ctx.Err() == nil {
			s.logf("WARN %v", err)
		}
	}
}

// addWatches watches every directory below the replicated ones; adding a
// watch twice is harmless, so new directories are picked up each pass.
func (s *Syncer) addWatches(fd int) {
	const mask = unix.IN_MODIFY | unix.IN_ATTRIB | unix.IN_CLOSE_WRITE | unix.IN_CREATE | unix.IN_DELETE |
		unix.IN_MOVED_FROM | unix.IN_MOVED_TO | unix.IN_DELETE_SELF
	for _, d := range s.Dirs {
		filepath.WalkDir(d.Path, func(p string, e fs.DirEntry, err error) error {
			if err == nil && e.IsDir() {
				unix.InotifyAddWatch(fd, p, mask)
			}
			return nil
		})
	}
}

func (s *Syncer) watch(ctx context.Context, fd int, changed chan<- struct{}) {
	defer unix.Close(fd)
	buf := make([]byte, 64*1024)
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for ctx.Err() == nil {
		n, err := unix.Poll(pfd, 200)
		if err != nil && !errors.Is(err, unix.EINTR) {
			return
		}
		if n <= 0 {
			continue
		}
		if _, err := unix.Read(fd, buf); err != nil && !errors.Is(err, unix.EAGAIN) {
			return
		}
		select {
		case changed <- struct{}{}:
		default:
		}
	}
}
