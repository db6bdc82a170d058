// Package jsonout holds what every command's --json output shares (issue
// 19): each document names its schema and version first ("schema":
// "linuxha.clstat/v1"); durations are numbers of seconds; times are RFC
// 3339 with their zone; what is absent is null, never an empty string or
// a zero; and a command that fails in JSON mode prints an Error document
// instead of its ERROR line, so that a reader of standard output always
// gets JSON.
package jsonout

import (
	"bytes"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/linuxha-ng/linuxha/pkg/logx"
)

// Seconds is a duration written as a number of seconds ("12.5").
type Seconds float64

// Duration is d in seconds, or nil when d is zero (absent).
func Duration(d time.Duration) *Seconds {
	if d == 0 {
		return nil
	}
	s := Seconds(d.Seconds())
	return &s
}

// MarshalJSON writes the shortest decimal that reads back the same.
func (s Seconds) MarshalJSON() ([]byte, error) {
	return []byte(strconv.FormatFloat(float64(s), 'f', -1, 64)), nil
}

// Time is t in RFC 3339 with its zone, or nil when t is zero (absent).
func Time(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.Format(time.RFC3339)
	return &s
}

// String is s, or nil when s is empty (absent).
func String(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Write writes v as an indented document and a newline.
func Write(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// Line writes v on one line (JSON lines: --watch and progress).
func Line(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// ErrorSchema names the Error document.
const ErrorSchema = "linuxha.error/v1"

// Error is what a command prints on standard output when it fails in
// JSON mode: its message (the lines its ERROR output would have had) and
// its exit code.
type Error struct {
	Schema   string   `json:"schema"`
	Command  string   `json:"command"`
	Error    string   `json:"error"`
	Lines    []string `json:"lines"`
	ExitCode int      `json:"exit_code"`
}

// WriteError writes the Error document for a command's failure.
func WriteError(w io.Writer, command string, err error, code int) error {
	msg := strings.TrimRight(err.Error(), "\n")
	lines := strings.Split(msg, "\n")
	return Write(w, Error{Schema: ErrorSchema, Command: command, Error: lines[0], Lines: lines, ExitCode: code})
}

// Wanted reports whether a command line asks for JSON: --json (or
// -json, --json=true) before any "--".
func Wanted(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "--json", "-json", "--json=true", "-json=true":
			return true
		}
	}
	return false
}

// Valid reports whether b holds exactly one JSON value (for tests and
// for readers that check before they parse).
func Valid(b []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(b))
	var v any
	if dec.Decode(&v) != nil {
		return false
	}
	return dec.Decode(&v) == io.EOF
}

// RunSchema names RunLog.
const RunSchema = "linuxha.run/v1"

// RunLog is a command's run as JSON (clbuild --json, clbuildapp --json):
// every line it logged and how it ended. OK false comes with Error, the
// refusal, and the command's non-zero exit code.
type RunLog struct {
	Schema      string    `json:"schema"`
	Command     string    `json:"command"`
	Application *string   `json:"application"` // clbuildapp's; null for clbuild
	Stage       *string   `json:"stage"`       // clbuildapp's check, vgbuild, build or sync
	OK          bool      `json:"ok"`
	Error       *string   `json:"error"`
	Warnings    int       `json:"warnings"`
	Errors      int       `json:"errors"`
	Lines       []LogLine `json:"lines"`
}

// LogLine is one line of a RunLog.
type LogLine struct {
	Level string `json:"level"` // INFO, WARN or ERROR
	Time  string `json:"time"`  // RFC 3339
	Text  string `json:"text"`
}

// Record collects the lines of log into r.
func (r *RunLog) Record(log *logx.Logger) {
	r.Lines = []LogLine{}
	log.OnLine(func(l logx.Line) {
		r.Lines = append(r.Lines, LogLine{Level: l.Level.String(), Time: l.Time.Format(time.RFC3339), Text: l.Text})
		switch l.Level {
		case logx.Warn:
			r.Warnings++
		case logx.Error:
			r.Errors++
		}
	})
}

// Finish records how the run ended and writes r; a failed run returns
// an error carrying its exit code and no message (the document says it).
func (r *RunLog) Finish(w io.Writer, err error, code int) error {
	r.OK = err == nil
	if err != nil {
		r.Error = String(strings.TrimRight(err.Error(), "\n"))
	}
	// One line: after a --sync's progress lines the output stays JSON
	// lines.
	if werr := Line(w, r); werr != nil {
		return werr
	}
	if err != nil {
		return exitError(code)
	}
	return nil
}

// exitError is a failure already reported: a code and no message.
type exitError int

func (e exitError) Error() string { return "" }

// ExitCode is the code to exit with.
func (e exitError) ExitCode() int { return int(e) }
