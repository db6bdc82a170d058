package logx

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

func fixed() time.Time { return time.Date(2005, 7, 8, 5, 4, 19, 0, time.UTC) }

// L1757: "INFO 08/07/2005 05:04:19 Checking for required global entries"
func TestFormatMatchesReference(t *testing.T) {
	var b bytes.Buffer
	l := New(&b)
	l.SetClock(fixed)
	l.Infof("Checking for required global entries")
	l.Warnf("two\nlines")
	l.Errorf("Cluster %s is not running.", "md10cluster")
	want := "INFO 08/07/2005 05:04:19 Checking for required global entries\n" +
		"WARN 08/07/2005 05:04:19 two\nWARN 08/07/2005 05:04:19 lines\n" +
		"ERROR 08/07/2005 05:04:19 Cluster md10cluster is not running.\n"
	if b.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", b.String(), want)
	}
}

// global/logzone (issue 19): the zone's offset after the time, on
// request only.
func TestZoneStamps(t *testing.T) {
	var b bytes.Buffer
	l := New(&b)
	l.SetClock(func() time.Time { return time.Date(2005, 7, 8, 5, 4, 19, 0, time.FixedZone("BST", 3600)) })
	SetZoneStamps(true)
	l.Infof("with zone")
	SetZoneStamps(false)
	l.Infof("without")
	if want := "INFO 08/07/2005 05:04:19 +0100 with zone\nINFO 08/07/2005 05:04:19 without\n"; b.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestVerboseOffDropsInfoOnly(t *testing.T) {
	var b bytes.Buffer
	l := New(&b)
	l.SetVerbose(false)
	l.Infof("hidden")
	l.Warnf("shown")
	if strings.Contains(b.String(), "hidden") || !strings.Contains(b.String(), "WARN") {
		t.Fatalf("got %q", b.String())
	}
}

func names(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	sort.Strings(out)
	return out
}

// L4600-4610: lems-apache.log.001.gz + lems-apache.log -> .002.gz, .001, log.
func TestCycleKeepsCompressedSuffix(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "lems-apache.log")
	os.WriteFile(p, []byte("current\n"), 0o644)
	os.WriteFile(p+".001.gz", []byte("gz"), 0o644)
	os.WriteFile(p+".000", []byte("zero"), 0o644)
	os.WriteFile(filepath.Join(dir, "other.log.000"), nil, 0o644)
	if err := Cycle(p, 5); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(names(t, dir), " ")
	want := "lems-apache.log.000 lems-apache.log.001 lems-apache.log.002.gz other.log.000"
	if got != want {
		t.Fatalf("got %s want %s", got, want)
	}
	if b, _ := os.ReadFile(p + ".000"); string(b) != "current\n" {
		t.Fatalf(".000 holds %q", b)
	}
}

func TestCycleLimitsCount(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "x.log")
	l, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for i := 0; i < 5; i++ {
		l.Infof("line %d", i)
		if err := l.Cycle(2); err != nil {
			t.Fatal(err)
		}
	}
	l.Infof("after")
	got := strings.Join(names(t, dir), " ")
	if got != "x.log x.log.000 x.log.001" {
		t.Fatalf("got %s", got)
	}
	b, _ := os.ReadFile(p)
	if !strings.Contains(string(b), "after") {
		t.Fatalf("reopened log lacks new line: %q", b)
	}
	if err := Cycle(p, 0); err == nil {
		t.Fatal("count 0 accepted")
	}
	if err := Cycle(p, 100); err == nil {
		t.Fatal("count 100 accepted")
	}
}

// Reopen after the file was moved away (logrotate without copytruncate):
// the next lines go to a new file at the old path, none to the moved one.
func TestReopen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cldaemon-cluster1.log")
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.Warnf("before")
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	l.Warnf("moved, not reopened")
	if err := l.Reopen(); err != nil {
		t.Fatal(err)
	}
	l.Warnf("after")
	old, _ := os.ReadFile(path + ".1")
	cur, _ := os.ReadFile(path)
	if !strings.Contains(string(old), "before") || !strings.Contains(string(old), "moved, not reopened") || strings.Contains(string(old), "after") {
		t.Errorf("moved file:\n%s", old)
	}
	if !strings.HasSuffix(string(cur), " after\n") || strings.Contains(string(cur), "before") {
		t.Errorf("reopened file:\n%s", cur)
	}
	if New(os.Stderr).Reopen() != nil {
		t.Error("Reopen of a logger without a file failed")
	}
}

// Under systemd every line also goes to the journal with the logger's
// fields, an event's with EVENT and APP too; the file keeps the
// Reference's format, and verbose off drops INFO from both.
func TestJournal(t *testing.T) {
	var file bytes.Buffer
	l := New(&file)
	l.SetClock(func() time.Time { return time.Date(2005, 7, 8, 5, 4, 19, 0, time.UTC) })
	type entry struct {
		msg    string
		lv     Level
		fields map[string]string
	}
	var got []entry
	fields := map[string]string{"NODE": "servera", "SYSLOG_IDENTIFIER": "cldaemon-cluster1"}
	l.SetJournal(func(msg string, lv Level, f map[string]string) error {
		got = append(got, entry{msg, lv, f})
		return nil
	}, fields)
	l.Infof("Cluster cluster1 is UP on servera.")
	l.Eventf(Warn, "failover-action", "apache", "Fail-over action: halt %s", "apache")
	l.SetVerbose(false)
	l.Infof("dropped")
	base := map[string]string{"NODE": "servera", "SYSLOG_IDENTIFIER": "cldaemon-cluster1"}
	want := []entry{
		{"Cluster cluster1 is UP on servera.", Info, base},
		{"Fail-over action: halt apache", Warn, map[string]string{"NODE": "servera", "SYSLOG_IDENTIFIER": "cldaemon-cluster1", "EVENT": "failover-action", "APP": "apache"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("journal got %+v\nwant %+v", got, want)
	}
	if file.String() != "INFO 08/07/2005 05:04:19 Cluster cluster1 is UP on servera.\nWARN 08/07/2005 05:04:19 Fail-over action: halt apache\n" {
		t.Errorf("file:\n%s", file.String())
	}
	if len(fields) != 2 {
		t.Errorf("an event changed the logger's own fields: %v", fields)
	}
}

// fullDisk takes room bytes, then writes what fits and fails with
// ENOSPC, as a write to a full file system does.
type fullDisk struct {
	room int
	buf  strings.Builder
}

func (f *fullDisk) Write(p []byte) (int, error) {
	if len(p) <= f.room {
		f.room -= len(p)
		f.buf.Write(p)
		return len(p), nil
	}
	n := f.room
	f.buf.Write(p[:n])
	f.room = 0
	return n, syscall.ENOSPC
}

// A full log file system loses lines; once there is room again the log
// says how many, from when to when and why, after ending the line the
// disk cut short, and OnLost hears it once.
func TestLostLines(t *testing.T) {
	disk := &fullDisk{room: 60}
	l := New(disk)
	l.SetVerbose(true)
	clock := time.Date(2026, 12, 4, 15, 0, 0, 0, time.UTC)
	l.SetClock(func() time.Time { return clock })
	var reports []Lost
	l.OnLost(func(x Lost) { reports = append(reports, x) })
	l.Infof("first")  // 31 bytes: fits
	l.Infof("second") // cut short at 60
	clock = clock.Add(time.Minute)
	l.Infof("third")
	disk.room = 1 << 20
	clock = clock.Add(time.Minute)
	l.Infof("fourth")
	l.Infof("fifth")
	want := "INFO 04/12/2026 15:00:00 first\n" +
		"INFO 04/12/2026 15:00:00 seco\n" +
		"WARN 04/12/2026 15:02:00 2 log lines could not be written from 04/12/2026 15:00:00 to 04/12/2026 15:02:00: no space left on device\n" +
		"INFO 04/12/2026 15:02:00 fourth\n" +
		"INFO 04/12/2026 15:02:00 fifth\n"
	if got := disk.buf.String(); got != want {
		t.Errorf("log:\n%s\nwant:\n%s", got, want)
	}
	if len(reports) != 1 || reports[0].Lines != 2 || !errors.Is(reports[0].Err, syscall.ENOSPC) ||
		!reports[0].From.Equal(clock.Add(-2*time.Minute)) || !reports[0].To.Equal(clock) {
		t.Errorf("OnLost reports %+v, want one of 2 lines over 2 minutes", reports)
	}
}
