package testbed

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A process stopped and continued while it ran in the foreground of
// `testbed exec` left nsenter stopped (util-linux's nsenter stops itself
// with its child): never reaping its killed child, it kept the node's
// PID 1 waiting for ever and the node outlived `testbed down` (found
// after CI20-22: pkg/cldaemon's TestSystemdNotify left serverb running).
func TestDownEndsANodeWithAStoppedForegroundProcess(t *testing.T) {
	b := Up(t)
	pidFile := filepath.Join("/tmp/linuxha-testbed", b.Name, "servera", "pid")
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	init := "/proc/" + strings.TrimSpace(string(data))
	b.Background(t, "servera", "sleep", "1000")
	Eventually(t, 5*time.Second, "sleep running", func() bool { return b.Exec(t, "servera", "", "pgrep", "-x", "sleep").Code == 0 })
	b.Sh(t, "servera", "pkill -STOP -x sleep")
	time.Sleep(200 * time.Millisecond) // nsenter sees its child stop and stops itself
	b.Sh(t, "servera", "pkill -CONT -x sleep")
	if out, err := b.op("down"); err != nil {
		t.Fatalf("testbed down: %v\n%s", err, out)
	}
	Eventually(t, 5*time.Second, "servera's PID 1 gone after testbed down", func() bool {
		_, err := os.Stat(init)
		return err != nil
	})
}
