// Package progress reports a long copy - a DRBD resynchronisation, a
// filesync pass - as drbdmon and rsync do: how far it has come, how fast
// it goes and how long it has left (issue 19). A Meter turns samples of
// the bytes left into those figures and is pure; a Printer shows them:
// redrawn in place on a terminal at most once a second, one JSON line
// each with --json, and nothing otherwise (the log's lines say it there).
package progress

import (
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/linuxha-ng/linuxha/pkg/jsonout"
)

// IsTerminal reports whether w is a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// Sample is what is known at one moment.
type Sample struct {
	At        time.Time
	Total     int64   // bytes to copy in all; 0 when unknown
	Remaining int64   // bytes still to copy
	Percent   float64 // done, 0-100, when the copier says it (DRBD, rsync); else from Total
}

// Report is a sample read: the percentage, the rate over the last
// Window, and the time left at that rate (0 when not known yet).
type Report struct {
	At        time.Time
	Percent   float64
	Rate      float64 // bytes a second
	ETA       time.Duration
	Remaining int64
}

// Window is how far back the rate looks: long enough to smooth rsync's
// and DRBD's bursts, short enough to follow a change of speed.
const Window = 5 * time.Second

// Meter computes reports from samples. The zero value is ready.
type Meter struct {
	seen []Sample // within Window of the newest, oldest first
}

// Add takes a sample and reports on it.
func (m *Meter) Add(s Sample) Report {
	m.seen = append(m.seen, s)
	for len(m.seen) > 2 && s.At.Sub(m.seen[1].At) >= Window {
		m.seen = m.seen[1:]
	}
	r := Report{At: s.At, Percent: s.Percent, Remaining: s.Remaining}
	if r.Percent == 0 && s.Total > 0 {
		r.Percent = 100 * float64(s.Total-s.Remaining) / float64(s.Total)
	}
	first := m.seen[0]
	if dt := s.At.Sub(first.At).Seconds(); dt > 0 && first.Remaining > s.Remaining {
		r.Rate = float64(first.Remaining-s.Remaining) / dt
		r.ETA = time.Duration(float64(s.Remaining) / r.Rate * float64(time.Second)).Round(time.Second)
	}
	return r
}

// Schema names the JSON progress line.
const Schema = "linuxha.progress/v1"

// Line is a report as a JSON line.
type Line struct {
	Schema      string           `json:"schema"`
	Application string           `json:"application"`
	What        string           `json:"what"` // the volume or directory, or "all"
	Time        string           `json:"time"`
	Percent     float64          `json:"percent"`
	Remaining   int64            `json:"remaining_bytes"`
	Rate        *float64         `json:"rate_bytes_per_second"` // null until known
	ETASeconds  *jsonout.Seconds `json:"eta_seconds"`           // likewise
}

// Printer shows reports.
type Printer struct {
	W    io.Writer
	TTY  bool // redraw one line in place
	JSON bool // one JSON line per report
	App  string

	last  time.Time // when the terminal line was last drawn
	drawn bool
}

// Show writes r about what: a JSON line every time in JSON mode, the
// terminal line at most once a second (and always at 100%).
func (p *Printer) Show(what string, r Report) {
	switch {
	case p.JSON:
		l := Line{Schema: Schema, Application: p.App, What: what, Time: r.At.Format(time.RFC3339), Percent: round1(r.Percent), Remaining: r.Remaining}
		if r.Rate > 0 {
			rate := float64(int64(r.Rate))
			l.Rate, l.ETASeconds = &rate, jsonout.Duration(r.ETA)
		}
		jsonout.Line(p.W, l)
	case p.TTY:
		if p.drawn && r.At.Sub(p.last) < time.Second && r.Percent < 100 {
			return
		}
		p.last, p.drawn = r.At, true
		fmt.Fprintf(p.W, "\r\x1b[K%s", Text(what, r))
	}
}

// End finishes the terminal line.
func (p *Printer) End() {
	if p.TTY && !p.JSON && p.drawn {
		fmt.Fprintln(p.W)
		p.drawn = false
	}
}

// Text is a report in words: "apachevg/data 42.5% 12.3 MiB/s ETA 0:01:30".
func Text(what string, r Report) string {
	s := fmt.Sprintf("%s %.1f%%", what, r.Percent)
	if r.Rate > 0 {
		s += fmt.Sprintf(" %s/s ETA %s", Bytes(int64(r.Rate)), clock(r.ETA))
	} else {
		s += " (rate not known yet)"
	}
	return s
}

// Bytes is n in binary units.
func Bytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

func clock(d time.Duration) string {
	s := int64(d.Seconds())
	return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
}

func round1(f float64) float64 { return float64(int64(f*10+0.5)) / 10 }
