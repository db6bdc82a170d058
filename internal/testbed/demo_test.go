package testbed

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// make demo is a test too (issue 16): every step of scripts/demo checks
// that it happened, so the demo exits 0 only when apache was built,
// served, restarted by Lems, kept on a cut card, failed over with its
// data after a crash, stayed put when the node rejoined, and halted.
func TestDemo(t *testing.T) {
	Require(t)
	if _, err := exec.LookPath("apache2"); err != nil {
		if _, err := os.Stat("/usr/sbin/apache2"); err != nil {
			t.Skip("apache2 is not installed (scripts/deps demo installs it)")
		}
	}
	root, bin, name := prepare(t, "ld")
	cmd := exec.Command(filepath.Join(root, "scripts", "demo"))
	cmd.Env = append(os.Environ(), "TB_NAME="+name, "TB_BIN="+bin, "DEMO_KEEP=0")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "demo complete") {
		t.Fatalf("scripts/demo: %v\n%s", err, out)
	}
	for _, want := range []string{"hello from linuxha", "Restart 1 of 3", "httpd PAUSED", "httpd RESUMED", "record 1, written on servera", "outage seen from the router: "} {
		if !strings.Contains(string(out), want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
	t.Logf("%s", out[strings.LastIndex(string(out), "outage seen"):])
}
