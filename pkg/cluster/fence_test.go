package cluster

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The fencing hook (issue 7, beyond the Reference): %n is the node, and
// only exit 0 lets a takeover go ahead; the error carries the output.
func TestRunFence(t *testing.T) {
	ctx := context.Background()
	out := filepath.Join(t.TempDir(), "fenced")
	if err := runFence(ctx, []string{"/bin/sh", "-c", "echo $0 > " + out, "%n"}, "serverb"); err != nil {
		t.Fatalf("fence that succeeds: %v", err)
	}
	if b, _ := os.ReadFile(out); strings.TrimSpace(string(b)) != "serverb" {
		t.Fatalf("fence got node %q; want serverb", b)
	}
	err := runFence(ctx, []string{"/bin/sh", "-c", "echo power switch unreachable; exit 1"}, "serverb")
	if err == nil || !strings.Contains(err.Error(), "power switch unreachable") {
		t.Fatalf("failing fence: %v", err)
	}
	if err := runFence(ctx, nil, "serverb"); err != nil {
		t.Fatalf("no fence configured: %v", err)
	}
}
