package clitool

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/linuxha-ng/linuxha/internal/testbed"
	"github.com/linuxha-ng/linuxha/pkg/layout"
)

// etcdConf is a valid three-node clconf.xml of the etcd membership mode.
func etcdConf(membership string) string {
	return testbed.EtcdClconf([]string{"servera", "serverb", "serverc"}, membership)
}

func TestModesAndTools(t *testing.T) {
	// Issue 23: the two-node tools refuse an etcd-mode configuration
	// (they would run a heartbeat with no peer), and clmember refuses the
	// Reference's heartbeat mode.
	if os.Geteuid() != 0 {
		t.Skip("clconf.xml must be root's")
	}
	l := layout.Layout{Root: t.TempDir()}
	write := func(s string) {
		os.MkdirAll(filepath.Dir(l.Clconf()), 0o755)
		if err := os.WriteFile(l.Clconf(), []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(etcdConf(`<membership mode="etcd"/>`))
	if _, err := LoadBuiltCluster(l, true); err == nil || !strings.Contains(err.Error(), "is run by clmember") {
		t.Errorf("LoadBuiltCluster of an etcd configuration: %v", err)
	}
	if _, err := LoadClusterFile(l, l.Clconf(), true); err == nil || !strings.Contains(err.Error(), "is run by clmember") {
		t.Errorf("LoadClusterFile of an etcd configuration: %v", err)
	}
	if cfg, err := LoadMemberCluster(l, true); err != nil || len(cfg.Nodes) != 3 {
		t.Errorf("LoadMemberCluster of an etcd configuration: %v", err)
	}
	// The same file without the section is refused by the parser (three
	// nodes); with two nodes it is the heartbeat mode.
	two := testbed.EtcdClconf([]string{"servera", "serverb"}, "")
	write(two)
	if _, err := LoadMemberCluster(l, true); err == nil || !strings.Contains(err.Error(), `clmember serves mode="etcd" only`) {
		t.Errorf("LoadMemberCluster of a heartbeat configuration: %v", err)
	}
	if _, err := LoadBuiltCluster(l, true); err != nil {
		t.Errorf("LoadBuiltCluster of a heartbeat configuration: %v", err)
	}
}
