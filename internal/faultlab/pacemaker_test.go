package faultlab_test

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/linuxha-ng/linuxha/internal/testbed"
)

// Pacemaker + Corosync from Debian's packages, on the same two nodes and
// cards as the other rows, as fast as their documentation allows:
//
//   - token 130 ms: corosync.conf(5) wants token_retransmit >= 30 ms and
//     derives it as token / (token_retransmits_before_loss_const + 0.2),
//     so with the default 4 retransmits the floor is 126 ms;
//   - consensus left to its default, 1.2 x token (156 ms);
//   - knet on both networks, ping interval 100 ms and timeout 400 ms:
//     libknet's heartbeat thread wakes every 200 ms (its default timer
//     resolution), so the timeout derived from the token (65 ms) marks
//     both links down every few seconds and the membership flaps — seen
//     here, 5 flaps in 40 s; 400 ms gave none;
//   - two_node quorum; no fencing (stonith-enabled=false): the testbed has
//     no fence device, and a fencing cluster would wait for the fence
//     before starting anything, slower still;
//   - monitor intervals as the agents' documentation suggests (Filesystem
//     20 s, IPaddr2 10 s): they do not take part in a node crash, which
//     Corosync's membership reports.
const pcmkToken = 130

var corosyncConf = fmt.Sprintf(`totem {
  version: 2
  cluster_name: bench
  transport: knet
  crypto_cipher: none
  crypto_hash: none
  token: %d
  interface {
    linknumber: 0
    knet_ping_interval: 100
    knet_ping_timeout: 400
  }
  interface {
    linknumber: 1
    knet_ping_interval: 100
    knet_ping_timeout: 400
  }
}
nodelist {
  node {
    name: servera
    nodeid: 1
    ring0_addr: 172.16.177.1
    ring1_addr: 192.100.100.1
  }
  node {
    name: serverb
    nodeid: 2
    ring0_addr: 172.16.177.2
    ring1_addr: 192.100.100.2
  }
}
quorum {
  provider: corosync_votequorum
  two_node: 1
}
logging {
  to_logfile: yes
  logfile: /var/log/corosync/corosync.log
  to_stderr: no
  to_syslog: no
  timestamp: hires
}
`, pcmkToken)

// pcmkGroup is the application as Pacemaker has it: three file systems
// (bind mounts through ocf:heartbeat:Filesystem, as the linuxha rows'
// filesync directories cost nothing to mount either) and the address,
// in a group: started in order, on one node.
func pcmkGroup() string {
	var g strings.Builder
	g.WriteString(`<group id="bench">` + "\n")
	for _, fs := range []string{"one", "two", "three"} {
		fmt.Fprintf(&g, `  <primitive id="fs-%[1]s" class="ocf" provider="heartbeat" type="Filesystem">
    <instance_attributes id="fs-%[1]s-ia">
      <nvpair id="fs-%[1]s-dev" name="device" value="/srv/bench/%[1]s"/>
      <nvpair id="fs-%[1]s-dir" name="directory" value="/bench/%[1]s"/>
      <nvpair id="fs-%[1]s-type" name="fstype" value="none"/>
      <nvpair id="fs-%[1]s-opt" name="options" value="bind"/>
    </instance_attributes>
    <operations><op id="fs-%[1]s-mon" name="monitor" interval="20s" timeout="40s"/></operations>
  </primitive>
`, fs)
	}
	g.WriteString(`  <primitive id="ip" class="ocf" provider="heartbeat" type="IPaddr2">
    <instance_attributes id="ip-ia">
      <nvpair id="ip-ip" name="ip" value="` + vip + `"/>
      <nvpair id="ip-mask" name="cidr_netmask" value="24"/>
      <nvpair id="ip-nic" name="nic" value="eth0"/>
    </instance_attributes>
    <operations><op id="ip-mon" name="monitor" interval="10s" timeout="20s"/></operations>
  </primitive>
</group>
`)
	return g.String()
}

// pcmkSettings is what the benchmark prints under Pacemaker's row.
func pcmkSettings() string {
	return fmt.Sprintf("corosync knet on 2 networks, token %d ms (floor 126), consensus %d ms (1.2 x token), knet ping 100/400 ms, two_node; "+
		"Pacemaker: stonith-enabled=false (no fencing), resource-stickiness 100, monitors 20 s (Filesystem) and 10 s (IPaddr2)",
		pcmkToken, pcmkToken*12/10)
}

// havePacemaker says why Pacemaker's row cannot run, or "".
func havePacemaker() string {
	for _, c := range []string{"corosync", "pacemakerd", "cibadmin", "crm_mon", "modprobe"} {
		if _, err := exec.LookPath(c); err != nil {
			return c + " is not installed (scripts/deps test bench installs pacemaker, corosync, resource-agents and kmod)"
		}
	}
	return ""
}

// startPcmk boots Corosync and Pacemaker on node n, as their units would.
func startPcmk(b *testing.B, tb *testbed.Bed, n string) {
	tb.WriteFile(b, n, "/etc/corosync/corosync.conf", corosyncConf, 0o644)
	tb.Sh(b, n, "mkdir -p /var/log/corosync /var/log/pacemaker /srv/bench/one /srv/bench/two /srv/bench/three /bench/one /bench/two /bench/three && chown hacluster:haclient /var/log/pacemaker")
	if r := tb.Exec(b, n, "", "corosync"); r.Code != 0 {
		b.Fatalf("corosync on %s: %s", n, r.Output())
	}
	tb.Background(b, n, "env", "PCMK_logfile=/var/log/pacemaker/pacemaker.log", "pacemakerd")
}

// pcmkReady: both nodes online and the group's address held by one.
func pcmkReady(b *testing.B, tb *testbed.Bed, n string) bool {
	out := tb.Sh(b, n, "crm_mon -1 2>&1; true")
	return strings.Contains(out, "Online: [ servera serverb ]") && strings.Contains(out, "ip\t(ocf:heartbeat:IPaddr2):\t Started") && holder(b, tb, vip) != ""
}

// pcmkCrashes runs Pacemaker and Corosync on both nodes of tb and
// crashes the node running the group runs times.
func pcmkCrashes(b *testing.B, tb *testbed.Bed, runs int) dist {
	for _, n := range nodes {
		tb.Op(b, "crash", n)
		tb.Op(b, "start", n)
		// A fresh configuration: nothing from an earlier run.
		tb.Sh(b, n, "rm -rf /var/lib/pacemaker/cib/* /var/lib/pacemaker/pengine/*")
	}
	for _, n := range nodes {
		startPcmk(b, tb, n)
	}
	// The cluster's properties and the group, once both have joined
	// (the DC writes the CIB; a change made before it exists is lost).
	testbed.Eventually(b, 60*time.Second, "Pacemaker's DC", func() bool {
		return strings.Contains(tb.Sh(b, "servera", "crm_mon -1 2>&1; true"), "Online: [ servera serverb ]")
	})
	for _, cmd := range []string{
		"crm_attribute -t crm_config -n stonith-enabled -v false",
		"crm_attribute -t rsc_defaults -n resource-stickiness -v 100",
	} {
		if r := tb.Exec(b, "servera", "", "sh", "-c", cmd); r.Code != 0 {
			b.Fatalf("%s: %s", cmd, r.Output())
		}
	}
	if r := tb.Exec(b, "servera", pcmkGroup(), "cibadmin", "-C", "-o", "resources", "-x", "/dev/stdin"); r.Code != 0 {
		b.Fatalf("cibadmin: %s", r.Output())
	}
	p := startPinger(b, tb, vip)
	defer p.stop()
	state := func() string {
		var st strings.Builder
		for _, n := range nodes {
			if tb.Alive(n) {
				fmt.Fprintf(&st, "== %s\n%s", n, tb.Sh(b, n, "crm_mon -1 2>&1; grep -E 'error|TOTEM' /var/log/pacemaker/pacemaker.log /var/log/corosync/corosync.log | tail -20; true"))
			}
		}
		return st.String()
	}
	var theirs dist
	for i := 0; i < runs; i++ {
		testbed.Eventually(b, 90*time.Second, "Pacemaker running the group with both nodes online", func() bool {
			return pcmkReady(b, tb, "servera") || pcmkReady(b, tb, "serverb")
		})
		active, d, ok := crashHolder(b, tb, p, vip, 30*time.Second)
		if !ok {
			b.Fatalf("Pacemaker run %d: no answer within 30s of crashing %s\n%s", i, active, state())
		}
		theirs = append(theirs, d)
		tb.Op(b, "start", active)
		startPcmk(b, tb, active)
	}
	for _, n := range nodes {
		tb.Op(b, "crash", n)
		tb.Op(b, "start", n)
	}
	return theirs
}
