package cluster

import (
	"strings"
	"testing"
	"time"
)

// Issue 17 item 11: a test hook that returns has not reset the node, so
// the real reset follows, and both are logged.
func TestTOCHookThatReturnsFallsBack(t *testing.T) {
	var lines []string
	logf := func(f string, a ...any) { lines = append(lines, f) }
	reset := 0
	toc(logf, "true", func() { reset++ })
	if reset != 1 || len(lines) != 2 || !strings.Contains(lines[1], "sysrq") {
		t.Fatalf("hook returned: reset %d times, logged %q", reset, lines)
	}
	lines, reset = nil, 0
	toc(logf, "", func() { reset++ })
	if reset != 1 || len(lines) != 0 {
		t.Fatalf("no hook: reset %d times, logged %q", reset, lines)
	}
}

// A hook killed by a signal delays the reset: its node is going down.
func TestTOCHookKilledWaits(t *testing.T) {
	tocGrace = 200 * time.Millisecond
	defer func() { tocGrace = 5 * time.Second }()
	start := time.Now()
	reset := 0
	toc(func(string, ...any) {}, "kill -KILL $$", func() { reset++ })
	if reset != 1 || time.Since(start) < 200*time.Millisecond {
		t.Fatalf("reset %d times after %v", reset, time.Since(start))
	}
}
