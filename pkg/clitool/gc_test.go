package clitool

import (
	"runtime/debug"
	"testing"
)

// TestSetGC: a daemon collects at daemonGCPercent unless GOGC is set.
func TestSetGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	t.Setenv("GOGC", "")
	setGC()
	if got := debug.SetGCPercent(100); got != daemonGCPercent {
		t.Errorf("GOGC unset: GC percent %d, want %d", got, daemonGCPercent)
	}
	t.Setenv("GOGC", "77")
	setGC()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GOGC=77: setGC changed the GC percent to %d; the runtime's own reading of GOGC stands", got)
	}
}
