package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 3, 17, 0, 0, 0, time.UTC)

// The rate is the bytes done over the last Window, the ETA what is left
// at that rate; nothing is claimed before two samples.
func TestMeter(t *testing.T) {
	var m Meter
	const mib = 1 << 20
	r := m.Add(Sample{At: t0, Total: 100 * mib, Remaining: 100 * mib})
	if r.Rate != 0 || r.ETA != 0 || r.Percent != 0 {
		t.Fatalf("first sample: %+v", r)
	}
	// 10 MiB/s for 4 s.
	for i := 1; i <= 4; i++ {
		r = m.Add(Sample{At: t0.Add(time.Duration(i) * time.Second), Total: 100 * mib, Remaining: int64(100-10*i) * mib})
	}
	if r.Rate != 10*mib || r.ETA != 6*time.Second || r.Percent != 40 {
		t.Fatalf("steady 10 MiB/s: %+v", r)
	}
	// It slows to 1 MiB/s: after a Window the rate says so.
	left := int64(60 * mib)
	for i := 5; i <= 12; i++ {
		left -= mib
		r = m.Add(Sample{At: t0.Add(time.Duration(i) * time.Second), Total: 100 * mib, Remaining: left})
	}
	if r.Rate != mib || r.ETA != 52*time.Second {
		t.Fatalf("after slowing down: %+v", r)
	}
	// The copier's own percentage wins over the estimate.
	if r := m.Add(Sample{At: t0.Add(13 * time.Second), Remaining: left, Percent: 47.5}); r.Percent != 47.5 {
		t.Fatalf("copier's percentage: %+v", r)
	}
}

// On a terminal one line is redrawn at most once a second, and at 100%;
// in JSON mode every report is a line; otherwise nothing is written.
func TestPrinter(t *testing.T) {
	var b bytes.Buffer
	p := Printer{W: &b, TTY: true}
	p.Show("apachevg/data", Report{At: t0, Percent: 10})
	p.Show("apachevg/data", Report{At: t0.Add(500 * time.Millisecond), Percent: 20, Rate: 1 << 20, ETA: 90 * time.Second})
	p.Show("apachevg/data", Report{At: t0.Add(1100 * time.Millisecond), Percent: 42.5, Rate: 12.3 * (1 << 20), ETA: 90 * time.Second})
	p.Show("apachevg/data", Report{At: t0.Add(1200 * time.Millisecond), Percent: 100})
	p.End()
	want := "\r\x1b[Kapachevg/data 10.0% (rate not known yet)" +
		"\r\x1b[Kapachevg/data 42.5% 12.3 MiB/s ETA 0:01:30" +
		"\r\x1b[Kapachevg/data 100.0% (rate not known yet)\n"
	if b.String() != want {
		t.Errorf("terminal:\n%q\nwant\n%q", b.String(), want)
	}
	b.Reset()
	p = Printer{W: &b, JSON: true, App: "apache"}
	p.Show("apachevg/data", Report{At: t0, Percent: 10, Remaining: 900})
	p.Show("apachevg/data", Report{At: t0.Add(time.Second), Percent: 42.46, Remaining: 500, Rate: 400.7, ETA: time.Second})
	p.End()
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 2 || lines[1] != `{"schema":"linuxha.progress/v1","application":"apache","what":"apachevg/data","time":"2026-12-03T17:00:01Z","percent":42.5,"remaining_bytes":500,"rate_bytes_per_second":400,"eta_seconds":1}` ||
		!strings.Contains(lines[0], `"rate_bytes_per_second":null,"eta_seconds":null`) {
		t.Errorf("JSON lines:\n%s", b.String())
	}
	b.Reset()
	p = Printer{W: &b}
	p.Show("x", Report{At: t0, Percent: 50})
	p.End()
	if b.Len() != 0 {
		t.Errorf("off a terminal: %q", b.String())
	}
}
