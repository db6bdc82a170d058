package cluster

import (
	"os"
	"path/filepath"
	"testing"
)

// Only a daemon with no marker since the boot (an empty /run) says boot=yes
// to the other node, whose takeover of "lost" applications depends on it;
// the marker is left once a daemon is in the cluster, and a daemon that
// cannot tell says no.
func TestFirstSinceBoot(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "run", "linuxha", "cldaemon.booted")
	if !firstSinceBoot(marker) {
		t.Fatal("first daemon after boot: want true")
	}
	if !firstSinceBoot(marker) {
		t.Fatal("a daemon that never joined left a marker")
	}
	markBooted(marker)
	if firstSinceBoot(marker) {
		t.Fatal("after a daemon joined: want false")
	}
	blocked := filepath.Join(t.TempDir(), "file")
	os.WriteFile(blocked, nil, 0o644)
	if firstSinceBoot(filepath.Join(blocked, "linuxha", "cldaemon.booted")) {
		t.Fatal("marker cannot be read: want false")
	}
}
