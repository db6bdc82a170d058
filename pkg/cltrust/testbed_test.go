package cltrust_test

import (
	"strings"
	"testing"

	"github.com/linuxha-ng/linuxha/internal/testbed"
	"github.com/linuxha-ng/linuxha/pkg/clitool"
)

// Nodes that start with no root ssh trust (Reference Appendix C): clbuild
// refuses; cltrust, given serverb's root password once, leaves BatchMode
// ssh working from each node to every name and address of both, so
// clbuild and clform succeed; a second run changes nothing.
func TestTrustFromNothing(t *testing.T) {
	tb := testbed.UpWithoutTrust(t)
	tb.WriteClconf(t, testbed.Timings{Keepalive: "0.2", Warn: "0.6", Dead: "1", ClusterForm: "10"})
	if r := tb.Exec(t, "servera", "", "clbuild"); r.Code == 0 || !strings.Contains(r.Stderr, "ssh") {
		t.Fatalf("clbuild without trust: %d %s", r.Code, r.Output())
	}

	tb.WriteFile(t, "servera", "/root/pw", "not-the-password\n", 0o600)
	r := tb.Exec(t, "servera", "", "cltrust", "--password-file", "/root/pw", "--accept-new")
	if r.Code != clitool.ExitNotRunning || !strings.Contains(r.Stderr, "cannot ssh to serverb as root") {
		t.Fatalf("cltrust with a wrong password: %d %s", r.Code, r.Output())
	}

	tb.WriteFile(t, "servera", "/root/pw", "linuxha-testbed\n", 0o600)
	r = tb.Exec(t, "servera", "", "cltrust", "--password-file", "/root/pw", "--accept-new")
	if r.Code != 0 || !strings.Contains(r.Stdout, "Root ssh trust between servera and serverb is complete on every network.") {
		t.Fatalf("cltrust: %d %s", r.Code, r.Output())
	}
	for _, want := range []string{"servera answers to servera, 172.16.177.1, 192.100.100.1", "ssh serverb -> 192.100.100.1: ok", "ssh servera -> servera: ok"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("cltrust output lacks %q:\n%s", want, r.Stdout)
		}
	}
	for _, n := range []string{"servera", "serverb"} {
		for _, to := range []string{"servera", "serverb", "172.16.177.1", "172.16.177.2", "192.100.100.1", "192.100.100.2"} {
			if r := tb.Exec(t, n, "", "ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=5", "root@"+to, "hostname"); r.Code != 0 {
				t.Errorf("ssh %s -> %s: %s", n, to, r.Output())
			}
		}
	}
	files := func() string {
		return tb.Sh(t, "servera", "cat ~/.ssh/authorized_keys ~/.ssh/known_hosts") + tb.Sh(t, "serverb", "cat ~/.ssh/authorized_keys ~/.ssh/known_hosts")
	}
	before := files()
	if n := strings.Count(tb.Sh(t, "serverb", "cat ~/.ssh/authorized_keys"), "\n"); n != 2 {
		t.Errorf("serverb authorizes %d keys, want 2", n)
	}
	if r := tb.Exec(t, "servera", "", "cltrust"); r.Code != 0 {
		t.Fatalf("second cltrust: %s", r.Output())
	}
	if after := files(); after != before {
		t.Errorf("a second cltrust changed the files:\n%s\nwas\n%s", after, before)
	}

	if r := tb.Exec(t, "servera", "", "clbuild"); r.Code != 0 {
		t.Fatalf("clbuild after cltrust: %s", r.Output())
	}
	if r := tb.Exec(t, "servera", "", "clform"); r.Code != 0 {
		t.Fatalf("clform after cltrust: %s", r.Output())
	}
}
