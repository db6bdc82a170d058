package cluster

import (
	"os"
	"path/filepath"
	"testing"
)

// Only the first daemon after a boot (an empty /run) says so to the other
// node, whose takeover of "lost" applications depends on it; a daemon
// that cannot tell says no.
func TestFirstSinceBoot(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "run", "linuxha", "cldaemon.booted")
	if !firstSinceBoot(marker) {
		t.Fatal("first daemon after boot: want true")
	}
	if firstSinceBoot(marker) {
		t.Fatal("second daemon since boot: want false")
	}
	blocked := filepath.Join(t.TempDir(), "file")
	os.WriteFile(blocked, nil, 0o644)
	if firstSinceBoot(filepath.Join(blocked, "linuxha", "cldaemon.booted")) {
		t.Fatal("marker cannot be written: want false")
	}
}
