// Package logx writes log lines in the Reference's format,
// "LEVEL dd/mm/yyyy hh:mm:ss text" (L1752-1810), with a verbose switch and
// the LOGCYCLE rotation of L4550-4610.
package logx

import (
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Level is the first word of a log line.
type Level int

const (
	Info Level = 1 + iota
	Warn
	Error
)

func (l Level) String() string {
	switch l {
	case Info:
		return "INFO"
	case Warn:
		return "WARN"
	case Error:
		return "ERROR"
	}
	return "UNKNOWN"
}

// TimeFormat is the Reference's timestamp layout: 08/07/2005 05:04:19;
// ZoneTimeFormat adds the zone's offset, 08/07/2005 05:04:19 +0100.
const (
	TimeFormat     = "02/01/2006 15:04:05"
	ZoneTimeFormat = TimeFormat + " -0700"
)

// zoneStamps is global/logzone: one switch for the whole process, as
// the standard library's log.SetFlags is, since every logger of a
// command or daemon writes the same cluster's logs.
var zoneStamps atomic.Bool

// SetZoneStamps turns the zone in every time stamp on or off (off, the
// Reference's format, by default).
func SetZoneStamps(on bool) { zoneStamps.Store(on) }

// Format renders one log line without its newline.
func Format(l Level, t time.Time, msg string) string {
	if zoneStamps.Load() {
		return l.String() + " " + t.Format(ZoneTimeFormat) + " " + msg
	}
	return l.String() + " " + t.Format(TimeFormat) + " " + msg
}

// Logger writes formatted lines to an output. With Verbose off, INFO lines
// are dropped and only warnings and errors are written, as the daemons do
// with "VERBOSE OFF" (L4556-4565). The zero value is not usable; use New.
type Logger struct {
	mu      sync.Mutex // guards every field below: writers of all goroutines share one Logger
	out     io.Writer
	file    *os.File // set when the logger owns a file it can cycle
	path    string
	verbose bool
	now     func() time.Time
	tee     io.Writer
	journal Journal           // also sends every line to the journal (under systemd)
	fields  map[string]string // the journal fields of every line (NODE, SYSLOG_IDENTIFIER)
	onLine  func(Line)        // also given every line (a command's --json report)
	// A log that cannot be written (its file system full) loses lines
	// and says so, once it can write again, before the next line.
	lost     int       // lines not written since lostFrom
	lostFrom time.Time // the first line lost
	lostErr  error     // why
	torn     bool      // a failed write left part of a line behind
	onLost   func(Lost)
}

// Lost tells, once a log can be written again, how many lines it could
// not write, over which time, and why.
type Lost struct {
	Lines    int
	From, To time.Time
	Err      error
}

// OnLost gives f each Lost report, under the logger's lock (f must not
// log): cldaemon raises an alert with it.
func (l *Logger) OnLost(f func(Lost)) { l.mu.Lock(); l.onLost = f; l.mu.Unlock() }

// Line is one logged line, for OnLine.
type Line struct {
	Level Level
	Time  time.Time
	Text  string
}

// OnLine also gives every line that is logged to f, under the logger's
// lock (f must not log).
func (l *Logger) OnLine(f func(Line)) { l.mu.Lock(); l.onLine = f; l.mu.Unlock() }

// Journal sends one line to the systemd journal with its fields: cldaemon
// and the other daemons give go-systemd's journal.Send under a unit.
type Journal func(msg string, lv Level, fields map[string]string) error

// SetJournal also sends every line to j with fields, besides the file,
// so that journalctl -u shows them and can select by NODE, APP or EVENT.
func (l *Logger) SetJournal(j Journal, fields map[string]string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.journal, l.fields = j, fields
}

// New returns a logger writing to w, verbose on.
func New(w io.Writer) *Logger {
	return &Logger{out: w, verbose: true, now: time.Now}
}

// Open returns a logger appending to the file at path, creating its
// directory; the file can be cycled with Cycle.
func Open(path string) (*Logger, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("log directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open log: %w", err)
	}
	return &Logger{out: f, file: f, path: path, verbose: true, now: time.Now}, nil
}

// SetClock replaces the clock, for tests.
func (l *Logger) SetClock(now func() time.Time) { l.mu.Lock(); l.now = now; l.mu.Unlock() }

// Tee also writes every line that is logged to w (for --verbose output on
// a terminal while logging to a file).
func (l *Logger) Tee(w io.Writer) { l.mu.Lock(); l.tee = w; l.mu.Unlock() }

// SetVerbose turns INFO lines on or off.
func (l *Logger) SetVerbose(v bool) { l.mu.Lock(); l.verbose = v; l.mu.Unlock() }

// Verbose reports whether INFO lines are written.
func (l *Logger) Verbose() bool { l.mu.Lock(); defer l.mu.Unlock(); return l.verbose }

// Infof logs an INFO line.
func (l *Logger) Infof(format string, args ...any) { l.log(Info, fmt.Sprintf(format, args...), "", "") }

// Warnf logs a WARN line.
func (l *Logger) Warnf(format string, args ...any) { l.log(Warn, fmt.Sprintf(format, args...), "", "") }

// Errorf logs an ERROR line.
func (l *Logger) Errorf(format string, args ...any) {
	l.log(Error, fmt.Sprintf(format, args...), "", "")
}

// Log writes msg at level lv.
func (l *Logger) Log(lv Level, msg string) { l.log(lv, msg, "", "") }

// Eventf logs a line that is an event of the cluster (a node judged
// dead, a fail-over action): in the file like any other, and in the
// journal with EVENT=event and, when app is not "", APP=app.
func (l *Logger) Eventf(lv Level, event, app, format string, args ...any) {
	l.log(lv, fmt.Sprintf(format, args...), event, app)
}

func (l *Logger) log(lv Level, msg, event, app string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if lv == Info && !l.verbose {
		return
	}
	t := l.now()
	for _, part := range strings.Split(msg, "\n") {
		line := Format(lv, t, part) + "\n"
		l.write(t, line)
		if l.onLine != nil {
			l.onLine(Line{Level: lv, Time: t, Text: part})
		}
		if l.tee != nil {
			_, _ = io.WriteString(l.tee, line)
		}
		if l.journal != nil {
			f := l.fields
			if event != "" || app != "" {
				f = maps.Clone(l.fields)
				if f == nil {
					f = map[string]string{}
				}
				if event != "" {
					f["EVENT"] = event
				}
				if app != "" {
					f["APP"] = app
				}
			}
			// The file has the line; a journal that cannot take it
			// costs nothing more.
			_ = l.journal(part, lv, f)
		}
	}
}

// write writes one line, counting it lost when it cannot be written;
// the first line written after lost ones is preceded by a warning that
// counts them (and by a newline when a write was cut short). l.mu is
// held.
func (l *Logger) write(t time.Time, line string) {
	if l.lost > 0 {
		note := Format(Warn, t, fmt.Sprintf("%d log lines could not be written from %s to %s: %v",
			l.lost, l.lostFrom.Format(TimeFormat), t.Format(TimeFormat), l.lostErr)) + "\n"
		if l.torn {
			note = "\n" + note
		}
		if n, err := io.WriteString(l.out, note); err != nil {
			l.failed(t, n, err)
			return
		}
		lost := Lost{Lines: l.lost, From: l.lostFrom, To: t, Err: l.lostErr}
		l.lost, l.torn = 0, false
		if l.onLost != nil {
			l.onLost(lost)
		}
	}
	if n, err := io.WriteString(l.out, line); err != nil {
		l.failed(t, n, err)
	}
}

// failed counts a line that a write of n bytes could not finish.
func (l *Logger) failed(t time.Time, n int, err error) {
	if l.lost == 0 {
		l.lostFrom, l.lostErr = t, err
	}
	l.lost++
	if n > 0 {
		l.torn = true
	}
}

// Close closes the log file, if the logger owns one.
func (l *Logger) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.file == nil {
		return nil
	}
	err := l.file.Close()
	l.file = nil
	return err
}

// Cycle rotates the logger's file as LOGCYCLE does and reopens it.
func (l *Logger) Cycle(keep int) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.file == nil {
		return fmt.Errorf("log is not a file")
	}
	if err := l.file.Close(); err != nil {
		return err
	}
	cerr := Cycle(l.path, keep)
	f, err := os.OpenFile(l.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("reopen log: %w", err)
	}
	l.file, l.out = f, f
	return cerr
}

// Reopen opens the logger's file again by its path, as daemons do on
// SIGHUP: after logrotate has moved the file away, lines go to a new one
// at the old path. A logger without a file does nothing.
func (l *Logger) Reopen() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.file == nil {
		return nil
	}
	f, err := os.OpenFile(l.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("reopen log: %w", err)
	}
	old := l.file
	l.file, l.out = f, f
	return old.Close()
}

// compressed are the suffixes of gzip, bzip2 and compress that an
// administrator may have added to a cycled log (L4590-4610).
var compressed = []string{".gz", ".bz2", ".Z"}

// Cycle renames path to path.000, path.000 to path.001 and so on, keeping
// at most keep old logs (1-99) and any compression suffix each one has:
// "lems-apache.log.001.gz" becomes "lems-apache.log.002.gz" (L4600-4610).
func Cycle(path string, keep int) error {
	if keep < 1 || keep > 99 {
		return fmt.Errorf("log cycle count %d: must be between 1 and 99", keep)
	}
	type old struct {
		n      int
		suffix string
	}
	dir, base := filepath.Dir(path), filepath.Base(path)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("cycle %s: %w", path, err)
	}
	var olds []old
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, base+".") {
			continue
		}
		rest := name[len(base)+1:]
		if len(rest) < 3 {
			continue
		}
		n, err := strconv.Atoi(rest[:3])
		if err != nil {
			continue
		}
		suffix := rest[3:]
		if suffix != "" && !slices.Contains(compressed, suffix) {
			continue
		}
		olds = append(olds, old{n, suffix})
	}
	sort.Slice(olds, func(i, j int) bool { return olds[i].n > olds[j].n })
	for _, o := range olds {
		from := filepath.Join(dir, fmt.Sprintf("%s.%03d%s", base, o.n, o.suffix))
		if o.n+1 >= keep {
			if err := os.Remove(from); err != nil {
				return fmt.Errorf("cycle %s: %w", path, err)
			}
			continue
		}
		to := filepath.Join(dir, fmt.Sprintf("%s.%03d%s", base, o.n+1, o.suffix))
		if err := os.Rename(from, to); err != nil {
			return fmt.Errorf("cycle %s: %w", path, err)
		}
	}
	if _, err := os.Stat(path); err == nil {
		if err := os.Rename(path, path+".000"); err != nil {
			return fmt.Errorf("cycle %s: %w", path, err)
		}
	}
	return nil
}
