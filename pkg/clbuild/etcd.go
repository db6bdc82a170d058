package clbuild

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/linuxha-ng/linuxha/pkg/config"
	"github.com/linuxha-ng/linuxha/pkg/layout"
	"github.com/linuxha-ng/linuxha/pkg/pki"
	"github.com/linuxha-ng/linuxha/pkg/remote"
	"github.com/linuxha-ng/linuxha/pkg/state"
)

// copied is a file clbuild writes on another host.
type copied struct {
	path string
	data []byte
	mode uint32
}

// buildEtcd builds a cluster of the etcd membership mode (issue 23):
// clconf.xml, the cluster's CA (made here when there is none) and the
// build checksum on every host, nodes and witness, so that clmember runs
// with checksums verified. Every host is reached over ssh before
// anything is changed.
func (b *Builder) buildEtcd(ctx context.Context, conf string, cfg *config.Cluster) error {
	me := cfg.ThisNode()
	if _, ok := cfg.Node(me); !ok {
		return fmt.Errorf("This host (%s) is not one of the nodes in %s (%v)", me, conf, cfg.NodeNames())
	}
	var hosts []string
	for _, n := range cfg.NodeNames() {
		if n != me {
			hosts = append(hosts, n)
		}
	}
	if cfg.Membership.Variant == config.EtcdWitness {
		hosts = append(hosts, cfg.Membership.Witness)
	}
	peers := map[string]*remote.Peer{}
	for _, h := range hosts {
		p := &remote.Peer{Node: h}
		if _, err := p.Output(ctx, "true"); err != nil {
			return fmt.Errorf("%s cannot be reached over ssh as root (clbuild copies clconf.xml and the cluster's CA to every host): %w", h, err)
		}
		peers[h] = p
	}
	if !pki.HasCA(b.L.EtcdCADir()) {
		if err := pki.WriteCA(b.L.EtcdCADir(), cfg.Name, time.Now()); err != nil {
			return err
		}
		b.Log.Infof("Made the cluster's certificate authority in %s", b.L.EtcdCADir())
	}
	data, err := os.ReadFile(conf)
	if err != nil {
		return err
	}
	// The hosts' own paths: the layout without a root.
	there := layout.Layout{}
	files := []copied{{there.Clconf(), data, 0o600}}
	for _, f := range []copied{{pki.CACert, nil, 0o644}, {pki.CAKey, nil, 0o600}} {
		if f.data, err = os.ReadFile(filepath.Join(b.L.EtcdCADir(), f.path)); err != nil {
			return err
		}
		f.path = filepath.Join(there.EtcdCADir(), f.path)
		files = append(files, f)
	}
	sum := state.Checksum(data)
	files = append(files, copied{there.BuildChecksum(), []byte(sum + "\n"), 0o600})
	for _, h := range hosts {
		for _, f := range files {
			if err := peers[h].WriteFile(ctx, f.path, f.data, f.mode); err != nil {
				return err
			}
		}
		b.Log.Infof("Copied clconf.xml, the cluster's CA and the build checksum to %s", h)
	}
	if _, err := state.WriteChecksum(b.L.BuildChecksum(), conf); err != nil {
		return err
	}
	b.Log.Infof("")
	b.Log.Infof("Clbuild has completed: start clmember on every host (%d)", len(hosts)+1)
	b.Log.Infof("")
	return nil
}
