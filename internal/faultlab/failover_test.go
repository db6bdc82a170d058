package faultlab_test

import (
	"strings"
	"testing"
	"time"

	"github.com/linuxha-ng/linuxha/internal/testbed"
	"github.com/linuxha-ng/linuxha/pkg/cluster"
)

// The fencing hook (issue 7; not in the Reference): with <fence> in
// clconf.xml, the survivor takes nothing over from a crashed node until
// the fence command succeeds. While it fails nothing starts and it is
// tried again, as Pacemaker retries a failed fence; once it succeeds the
// application is taken over.
func TestFencing(t *testing.T) {
	tb := testbed.Up(t)
	// The fence "agent" records each attempt and succeeds only once the
	// test creates fence.ok (a power switch that starts answering).
	for _, n := range nodes {
		tb.WriteFile(t, n, "/etc/cluster/fence.sh",
			"#!/bin/sh\necho \"$1\" >> /var/log/cluster/fenced\n[ -e /etc/cluster/fence.ok ] || { echo power switch unreachable; exit 1; }\n", 0o755)
	}
	tm := labTimings
	tm.Global = "<fence>/etc/cluster/fence.sh %n</fence>"
	labCluster(t, tb, tm)
	l := newLab(t, tb, 0)
	l.writer = "/lab/admin/labwriter"
	if running, _ := l.where(); len(running) != 1 || running[0] != "servera" {
		t.Fatalf("lab application runs on %v; want servera", running)
	}

	tb.Op(t, "crash", "servera")
	l.alive["servera"] = false
	logb := func() string { return tb.Sh(t, "serverb", "cat /var/log/cluster/cldaemon-cluster1.log") }
	testbed.Eventually(t, 15*time.Second, "serverb's first fence attempt to fail", func() bool {
		return strings.Contains(logb(), "Fencing servera failed: ")
	})
	// A whole retry period later: tried again, still nothing started.
	time.Sleep(cluster.FenceRetry + time.Second)
	if running, holding := l.where(); len(running)+len(holding) != 0 {
		t.Fatalf("with the fence failing, the application runs on %v and its address is on %v", running, holding)
	}
	if n := strings.Count(tb.Sh(t, "serverb", "cat /var/log/cluster/fenced"), "servera\n"); n < 2 {
		t.Fatalf("fence command ran %d times against servera; want it retried", n)
	}
	log := logb()
	if !strings.Contains(log, "no application will be taken over until it succeeds") || strings.Contains(log, "taken over by serverb") {
		t.Fatalf("serverb's log while the fence fails:\n%s", log)
	}

	tb.Sh(t, "serverb", "touch /etc/cluster/fence.ok")
	testbed.Eventually(t, cluster.FenceRetry+15*time.Second, "the application taken over by serverb", func() bool {
		running, holding := l.where()
		return len(running) == 1 && running[0] == "serverb" && len(holding) == 1 && holding[0] == "serverb"
	})
	// The application answers before clstartapp returns and the daemon
	// logs the takeover.
	testbed.Eventually(t, 10*time.Second, "the takeover logged", func() bool {
		return strings.Contains(logb(), "Application lab taken over by serverb.")
	})
	log = logb()
	fenced, taken := strings.Index(log, "Node servera fenced."), strings.Index(log, "Application lab taken over by serverb.")
	if fenced < 0 || taken < fenced {
		t.Fatalf("serverb's log: want \"Node servera fenced.\" before the takeover:\n%s", log)
	}
}

// A node that restarts and rejoins faster than dead: the survivor never
// sees it die, but the restarted daemon reports the application DOWN that
// the survivor had running there. It died with its node (L6548), so the
// survivor starts it, as it would after a death it had seen (L6538).
func TestRestartWithinDead(t *testing.T) {
	tb := testbed.Up(t)
	// dead 15 s: far longer than a crash, boot and clform --join take here.
	labCluster(t, tb, testbed.Timings{Keepalive: "0.5", Warn: "5", Dead: "15", ClusterForm: "10"})
	l := newLab(t, tb, 0)
	l.writer = "/lab/admin/labwriter"
	if running, _ := l.where(); len(running) != 1 || running[0] != "servera" {
		t.Fatalf("lab application runs on %v; want servera", running)
	}
	t.Cleanup(func() { // before the testbed goes: what both daemons saw
		if t.Failed() {
			for _, n := range nodes {
				t.Logf("%s's log:\n%s", n, tb.Exec(t, n, "", "tail", "-40", "/var/log/cluster/cldaemon-cluster1.log").Stdout)
			}
		}
	})
	tb.Op(t, "crash", "servera")
	tb.Op(t, "start", "servera")
	if r := tb.Exec(t, "servera", "", "clform", "--join"); r.Code != 0 {
		t.Fatalf("clform --join: %s", r.Output())
	}
	testbed.Eventually(t, 30*time.Second, "the application started on serverb", func() bool {
		running, holding := l.where()
		return len(running) == 1 && running[0] == "serverb" && len(holding) == 1 && holding[0] == "serverb"
	})
	log := tb.Sh(t, "serverb", "cat /var/log/cluster/cldaemon-cluster1.log")
	if !strings.Contains(log, "Node servera rebooted and joined, and no longer runs lab - taking over.") {
		t.Errorf("serverb's log lacks the restart:\n%s", log)
	}
	if strings.Contains(log, "is DEAD") {
		t.Fatalf("serverb saw servera die: the restart was not within dead, so this test proves nothing:\n%s", log)
	}
	for _, n := range nodes {
		testbed.Eventually(t, 10*time.Second, "APP_STATUS on "+n, func() bool {
			st := tb.Exec(t, n, "", "cldaemonctl", "--msg", "APP_STATUS app=lab").Stdout
			return strings.HasPrefix(st, "STARTED,serverb")
		})
	}
}
