package probe

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"
)

// silentNet runs this test binary again, with run, in a network namespace
// of its own where 10.99.0.0/24 lies on one end of a veth pair whose
// other end has no address: an echo sent there is never answered, and no
// traffic reaches any real network. It reports whether the caller is that
// second run.
func silentNet(t testing.TB, run string) bool {
	if os.Getenv("PROBE_SILENT_NET") != "" {
		return true
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root for a network namespace")
	}
	for _, tool := range []string{"unshare", "ip"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	script := `ip link set lo up && ip link add d0 type veth peer name d1 && ip addr add 10.99.0.1/24 dev d0 && ip link set d0 up && ip link set d1 up && exec "$0" "$@"`
	args := []string{"-n", "sh", "-c", script, os.Args[0], "-test.run", "^" + run + "$", "-test.v"}
	if _, ok := t.(*testing.B); ok {
		args = append(args, "-test.run", "^$", "-test.bench", "^"+run+"$", "-test.benchtime", "20x")
	}
	cmd := exec.Command("unshare", args...)
	cmd.Env = append(os.Environ(), "PROBE_SILENT_NET=1")
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("in a network namespace of its own: %v", err)
	}
	return false
}

func TestPing(t *testing.T) {
	if !silentNet(t, "TestPing") {
		return
	}
	ctx := context.Background()
	if !Ping(ctx, "127.0.0.1", time.Second) {
		t.Errorf("127.0.0.1 did not answer")
	}
	if Ping(ctx, "10.99.0.2", 50*time.Millisecond) {
		t.Errorf("10.99.0.2 (nothing behind the veth pair) answered")
	}
	if got := Answering(ctx, "ICMP", []string{"10.99.0.2", "127.0.0.1", "10.99.0.3"}, 50*time.Millisecond); len(got) != 1 || got[0] != "127.0.0.1" {
		t.Errorf("Answering = %v, want [127.0.0.1]", got)
	}
}

// BenchmarkPingSilent times an echo that nobody answers, timeout 100 ms:
// what the dead-node verdict waits for. Before Ping stopped waiting for
// pro-bing's receiver it cost the timeout plus up to 100 ms.
func BenchmarkPingSilent(b *testing.B) {
	if !silentNet(b, "BenchmarkPingSilent") {
		return
	}
	for b.Loop() {
		if Ping(context.Background(), "10.99.0.2", 100*time.Millisecond) {
			b.Fatal("answered")
		}
	}
}
