package clform_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/linuxha-ng/linuxha/internal/testbed"
	"github.com/linuxha-ng/linuxha/internal/vmbed"
)

// Issue 21, with the VMs' own clocks: at formation a difference of more
// than a minute is logged and one of more than ten minutes refused
// without --force (L1874-1890, L7577); once formed, a clock stepped by
// minutes on one node is no death (heartbeats are judged on the
// monotonic clock).
func TestClocksOnVMs(t *testing.T) {
	vm := vmbed.Up(t)
	vm.BuildCluster(t, strings.NewReplacer("<keepalive>3</keepalive>", "<keepalive>0.5</keepalive>",
		"<warn>7</warn>", "<warn>1.5</warn>", "<dead>12</dead>", "<dead>3</dead>"))
	step := func(node string, minutes int) {
		vm.Sh(t, node, fmt.Sprintf("date -s @$(( $(date +%%s) + %d*60 )) >/dev/null", minutes))
	}
	const log = "/var/log/cluster/cldaemon-cluster1.log"
	daemons := func() string {
		return vm.Sh(t, "servera", "pgrep -f '^cldaemon-' || true") + vm.Sh(t, "serverb", "pgrep -f '^cldaemon-' || true")
	}

	// 12 minutes apart (inside the frames' 15-minute window, so the TIME
	// request is answered): refused, and no daemon is left behind.
	step("serverb", 12)
	r := vm.Exec(t, "servera", "", "clform")
	if r.Code == 0 || !strings.Contains(r.Output()+vm.Sh(t, "servera", "cat "+log), "Time difference between nodes is >10 minutes - require --force to start!") {
		t.Fatalf("clform with clocks 12 minutes apart: %d %s", r.Code, r.Output())
	}
	testbed.Eventually(t, 10*time.Second, "no cluster daemon left after the refusal", func() bool { return daemons() == "" })

	// --force forms anyway, and says so.
	if r := vm.Exec(t, "servera", "", "clform", "--force"); r.Code != 0 {
		t.Fatalf("clform --force: %s", r.Output())
	}
	// clform returns once the daemon forms; the daemon compares the
	// clocks after both nodes agree UP, a moment later (CI12 read the
	// log before it and failed).
	testbed.Eventually(t, 60*time.Second, "the forced formation's warning", func() bool {
		return strings.Contains(vm.Sh(t, "servera", "cat "+log), "(>10 minutes) - continuing (--force).")
	})
	if r := vm.Exec(t, "servera", "", "clhalt", "--force"); r.Code != 0 {
		t.Fatalf("clhalt: %s", r.Output())
	}
	testbed.Eventually(t, 30*time.Second, "the cluster halted", func() bool { return daemons() == "" })

	// 2 minutes apart: formed, with a warning.
	step("serverb", -10)
	if r := vm.Exec(t, "servera", "", "clform"); r.Code != 0 {
		t.Fatalf("clform with clocks 2 minutes apart: %s", r.Output())
	}
	testbed.Eventually(t, 60*time.Second, "the warning for clocks 2 minutes apart", func() bool {
		return strings.Contains(vm.Sh(t, "servera", "cat "+log), "(>1 minute).")
	})

	// Running: servera's clock jumps 5 minutes back, then 9 forward.
	lines := strings.TrimSpace(vm.Sh(t, "servera", "wc -l < "+log))
	step("servera", -5)
	time.Sleep(10 * time.Second) // over three times dead
	step("servera", 9)
	time.Sleep(10 * time.Second)
	for _, n := range []string{"servera", "serverb"} {
		if st := vm.Exec(t, n, "", "cldaemonctl", "--msg", "GET_NODE_STATE node="+map[string]string{"servera": "serverb", "serverb": "servera"}[n]).Stdout; strings.TrimSpace(st) != "UP" {
			t.Errorf("%s sees the other node %q after the clock steps", n, strings.TrimSpace(st))
		}
	}
	if l := vm.Sh(t, "servera", "tail -n +$(("+lines+"+1)) "+log) + vm.Sh(t, "serverb", "cat "+log); strings.Contains(l, "is DEAD") || strings.Contains(l, "has died") {
		t.Errorf("a clock step was taken for a death:\n%s", l)
	}
}
