package jsonout

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/linuxha-ng/linuxha/pkg/logx"
)

// The conventions every --json document keeps.
func TestConventions(t *testing.T) {
	var b bytes.Buffer
	Write(&b, struct {
		D, Zero *Seconds
		T, None *string
		S, E    *string
		HTML    string
	}{Duration(1500 * time.Millisecond), Duration(0), Time(time.Date(2026, 12, 3, 17, 0, 0, 0, time.FixedZone("", 3600))), Time(time.Time{}),
		String("x"), String(""), "<a>"})
	want := `{
  "D": 1.5,
  "Zero": null,
  "T": "2026-12-03T17:00:00+01:00",
  "None": null,
  "S": "x",
  "E": null,
  "HTML": "<a>"
}
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	for args, want := range map[string]bool{"-A apache --json": true, "--json=true": true, "-json": true, "--watch": false, "-- --json": false} {
		if got := Wanted(strings.Fields(args)); got != want {
			t.Errorf("Wanted(%q) = %v", args, got)
		}
	}
	if Valid([]byte("{} {}")) || !Valid([]byte(" {}\n")) {
		t.Error("Valid takes one document only")
	}
}

// A run's log lines, counted, and its failure with the exit code it
// carries and no message of its own.
func TestRunLog(t *testing.T) {
	log := logx.New(&bytes.Buffer{})
	log.SetClock(func() time.Time { return time.Date(2026, 12, 3, 17, 0, 0, 0, time.UTC) })
	r := RunLog{Schema: RunSchema, Command: "clbuild"}
	r.Record(log)
	log.Infof("Checking cluster timing details")
	log.Warnf("two lines:\nthe second")
	var out bytes.Buffer
	err := r.Finish(&out, errors.New("Node serverb is running a cldaemon process; use --force"), 1)
	var ec interface{ ExitCode() int }
	if !errors.As(err, &ec) || ec.ExitCode() != 1 || err.Error() != "" {
		t.Fatalf("Finish: %v", err)
	}
	var got RunLog
	if e := json.Unmarshal(out.Bytes(), &got); e != nil || got.OK || got.Warnings != 2 || got.Errors != 0 || len(got.Lines) != 3 ||
		got.Lines[2] != (LogLine{Level: "WARN", Time: "2026-12-03T17:00:00Z", Text: "the second"}) || *got.Error != "Node serverb is running a cldaemon process; use --force" {
		t.Fatalf("%+v %v\n%s", got, e, out.String())
	}
}
