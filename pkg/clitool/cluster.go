package clitool

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"

	"github.com/linuxha-ng/linuxha/pkg/config"
	"github.com/linuxha-ng/linuxha/pkg/layout"
	"github.com/linuxha-ng/linuxha/pkg/logx"
	"github.com/linuxha-ng/linuxha/pkg/state"
)

// CheckOwner refuses a clconf.xml that is not root's alone: it holds the
// cluster key (L1530, L1656, L2950).
func CheckOwner(path string, st os.FileInfo) error {
	if s, ok := st.Sys().(*syscall.Stat_t); ok && s.Uid != 0 {
		return fmt.Errorf("%s must be owned by root (owner uid is %d)", path, s.Uid)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("%s must be readable only by root: mode is %04o, use chmod 600", path, st.Mode().Perm())
	}
	return nil
}

// ErrNotBuilt is returned by LoadBuiltCluster when clbuild never ran.
var ErrNotBuilt = errors.New("The cluster configuration has not been built yet: run clbuild first.")

// LoadBuiltCluster reads clconf.xml as every tool but clbuild does: it
// must exist, be root's alone, parse, and match its build checksum,
// unless nochecksums (L1827-1840).
func LoadBuiltCluster(l layout.Layout, nochecksums bool) (*config.Cluster, error) {
	cfg, err := loadBuiltCluster(l, nochecksums)
	if err == nil {
		err = TwoNode(cfg)
	}
	return cfg, ConfigError(err)
}

// LoadMemberCluster is LoadBuiltCluster for clmember: the configuration
// must be of the etcd membership mode.
func LoadMemberCluster(l layout.Layout, nochecksums bool) (*config.Cluster, error) {
	cfg, err := loadBuiltCluster(l, nochecksums)
	if err == nil && !cfg.Membership.Etcd() {
		err = fmt.Errorf("%s: membership mode is %q: clmember serves mode=\"etcd\" only; cldaemon runs this cluster", cfg.File, cfg.Membership.Mode)
	}
	return cfg, ConfigError(err)
}

// TwoNode refuses a configuration of the etcd membership mode in the
// tools of the Reference's two-node heartbeat mode, which would
// otherwise run a heartbeat with no peer.
func TwoNode(cfg *config.Cluster) error {
	if cfg.Membership.Etcd() {
		return fmt.Errorf("%s: membership mode \"etcd\" is run by clmember (see clmember(8)); this command serves the two-node heartbeat mode", cfg.File)
	}
	return nil
}

func loadBuiltCluster(l layout.Layout, nochecksums bool) (*config.Cluster, error) {
	conf := l.Clconf()
	st, err := os.Stat(conf)
	if err != nil {
		return nil, fmt.Errorf("The cluster configuration file %s does not exist.", conf)
	}
	if err := CheckOwner(conf, st); err != nil {
		return nil, err
	}
	if !nochecksums {
		switch err := state.VerifyChecksum(l.BuildChecksum(), conf); {
		case errors.Is(err, state.ErrChanged):
			msg := strings.Join(state.ClusterChangedMessage, "\n")
			return nil, errors.New(strings.Replace(msg, "%s", "/etc/cluster/clconf.xml", 1))
		case errors.Is(err, state.ErrNotBuilt):
			return nil, ErrNotBuilt
		case err != nil:
			return nil, err
		}
	}
	cfg, _, err := config.LoadCluster(conf)
	warnLegacy(cfg)
	return cfg, err
}

// warnLegacy says on standard error, from every tool and daemon, what
// legacy framing gives up; and it applies global/logzone to the
// process's log lines.
func warnLegacy(cfg *config.Cluster) {
	if cfg == nil {
		return
	}
	logx.SetZoneStamps(cfg.LogZone)
	if cfg.Framing == "legacy" {
		logx.New(os.Stderr).Warnf("%s", config.LegacyWarning)
	}
}

// LoadClusterFile reads file when it is given (the --config option of the
// daemons and clform, for testing), else the built clconf.xml.
func LoadClusterFile(l layout.Layout, file string, nochecksums bool) (*config.Cluster, error) {
	if file != "" {
		cfg, _, err := config.LoadCluster(file)
		warnLegacy(cfg)
		if err == nil {
			err = TwoNode(cfg)
		}
		return cfg, ConfigError(err)
	}
	return LoadBuiltCluster(l, nochecksums)
}
