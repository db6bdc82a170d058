package clstat_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/linuxha-ng/linuxha/internal/testbed"
)

// clstat --watch off a terminal (issue 19): it appends a block when the
// cluster changes - serverb's daemon dies - and not while nothing does.
func TestWatchLiveCluster(t *testing.T) {
	tb := testbed.Up(t)
	// Slow timings: a loaded machine must not make the cluster change
	// while the test says nothing does.
	tb.FormCluster(t, testbed.Timings{Keepalive: "0.5", Warn: "2", Dead: "4", ClusterForm: "10"})
	_, out := tb.Background(t, "servera", "clstat", "--watch", "--interval", "0.2")
	defer tb.Exec(t, "servera", "", "pkill", "-f", "clstat --watch")
	shown := func(s string) func() bool {
		return func() bool { return strings.Contains(out.String(), s) }
	}
	testbed.Eventually(t, 10*time.Second, "the cluster UP", shown("servera\tUP\nserverb\tUP\n"))
	time.Sleep(time.Second) // five looks at an unchanged cluster
	stamp := regexp.MustCompile(`(?m)^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d`)
	// One block, or two if a look timed out on a loaded machine; five
	// would mean every look is written.
	if n := len(stamp.FindAllString(out.String(), -1)); n > 2 {
		t.Fatalf("%d blocks for an unchanged cluster, want 1:\n%s", n, out)
	}
	tb.Sh(t, "serverb", "pkill -9 -f '^cldaemon-cluster1$'")
	testbed.Eventually(t, 20*time.Second, "serverb DIED", shown("servera\tUP\nserverb\tDIED\n"))
}
