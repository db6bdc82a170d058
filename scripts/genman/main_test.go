package main

import (
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// A page keeps every <placeholder> of its command's definition and of its
// source, outside code and in it, and has one .TH (issue 16: pages lost
// "<cluster>" and carried a second .TH per source section).
func TestCommandPage(t *testing.T) {
	app := &cli.App{
		Name:        "tool",
		Usage:       "do <things>",
		UsageText:   "tool --application A\n     [--verbose]",
		Description: "Logs to /var/log/cluster/tool-<cluster>.log.",
		Flags:       []cli.Flag{&cli.StringFlag{Name: "config", Usage: "read `FILE` (default /etc/cluster/<app>/x.xml)"}},
	}
	src := "# OUTPUT\n\nPrints *<app>* and `<vg>.<lv>`:\n\n    <check>\n\n# SEE ALSO\n\n**clstat**(8)\n\n# FILES\n\n*/etc/cluster/<app>/flags*\n"
	md, err := commandPage(app, src)
	if err != nil {
		t.Fatal(err)
	}
	roff := string(render(md))
	for _, want := range []string{"<things>", "/var/log/cluster/tool-<cluster>", "/etc/cluster/<app>/x.xml", "Prints \\fI<app>\\fP", "<vg>.<lv>", "<check>", "/etc/cluster/<app>/flags", ".SH EXIT STATUS", "\\fBtool\\fP --application A [--verbose]"} {
		if !strings.Contains(roff, want) {
			t.Errorf("page lacks %q:\n%s", want, roff)
		}
	}
	if n := strings.Count(roff, "\n.TH "); n != 1 || !strings.HasPrefix(roff, ".nh\n.TH ") {
		t.Errorf("want one .TH at the top:\n%s", roff)
	}
	// Sections in man-pages(7) order: the command's own, then FILES before SEE ALSO.
	if o, f, s := strings.Index(roff, ".SH OUTPUT"), strings.Index(roff, ".SH FILES"), strings.Index(roff, ".SH SEE ALSO"); !(o < f && f < s) {
		t.Errorf("section order OUTPUT %d FILES %d SEE ALSO %d", o, f, s)
	}
}

func TestNoDescription(t *testing.T) {
	if _, err := commandPage(&cli.App{Name: "x"}, "# FILES\n\nnone\n"); err == nil || !strings.Contains(err.Error(), "DESCRIPTION") {
		t.Fatalf("got %v", err)
	}
}
