// Package layout names every file and directory linuxha keeps on a node
// (DESIGN §3), all below one root so that tests and testbeds can point a
// whole node elsewhere.
package layout

import (
	"fmt"
	"os"
	"path/filepath"
)

// EnvRoot names the environment variable that moves the root of every path
// (default "/"). It exists for tests and packaging; production leaves it unset.
const EnvRoot = "LINUXHA_ROOT"

// Layout resolves node paths below Root.
type Layout struct {
	Root string // "" or "/" means the real file system
}

// FromEnv returns the layout rooted at $LINUXHA_ROOT, or at "/".
func FromEnv() Layout { return Layout{Root: os.Getenv(EnvRoot)} }

func (l Layout) p(elem ...string) string {
	root := l.Root
	if root == "" {
		root = "/"
	}
	return filepath.Join(append([]string{root}, elem...)...)
}

// Path maps an absolute path such as "/var/log/cluster" below the root.
func (l Layout) Path(abs string) string { return l.p(abs) }

func (l Layout) ClusterDir() string { return l.p("etc/cluster") }

// EtcdCADir holds the etcd mode's cluster CA (pkg/pki), copied to every
// host with clconf.xml; EtcdTLSDir the certificate each host issues
// itself from it; EtcdDataDir its etcd member's data.
func (l Layout) EtcdCADir() string     { return l.p("etc/cluster/.etcd") }
func (l Layout) EtcdTLSDir() string    { return l.p("var/lib/linuxha/etcd-tls") }
func (l Layout) EtcdDataDir() string   { return l.p("var/lib/linuxha/etcd") }
func (l Layout) Clconf() string        { return l.p("etc/cluster/clconf.xml") }
func (l Layout) Cllocks() string       { return l.p("etc/cluster/cllocks.xml") }
func (l Layout) Clstartup() string     { return l.p("etc/cluster/clstartup.xml") }
func (l Layout) BuildChecksum() string { return l.p("etc/cluster/.clbuild.md5") }

// Topology holds the address of every card of both nodes, recorded by
// clbuild ("Successfully copied network configuration", L1780) so that
// every tool can reach the peer on any network (L1862).
func (l Layout) Topology() string { return l.p("etc/cluster/.resources/topology") }

func (l Layout) ResourcesDir() string { return l.p("etc/cluster/.resources") }
func (l Layout) PortsDir() string     { return l.p("etc/cluster/.resources/ports") }
func (l Layout) DrbdDir() string      { return l.p("etc/cluster/.resources/drbd") }
func (l Layout) FsmapDir() string     { return l.p("etc/cluster/.resources/fsmap") }

// DrbdConfDir holds the generated DRBD resource files, one per volume.
func (l Layout) DrbdConfDir() string { return l.p("etc/cluster/.resources/drbdconf") }
func (l Layout) Fsmap(app string) string {
	return l.p("etc/cluster/.resources/fsmap", app)
}

func (l Layout) AppDir(app string) string   { return l.p("etc/cluster", app) }
func (l Layout) AppConf(app string) string  { return l.p("etc/cluster", app, "appconf.xml") }
func (l Layout) LemsConf(app string) string { return l.p("etc/cluster", app, "lems.local.xml") }
func (l Layout) FlagsDir(app string) string { return l.p("etc/cluster", app, "flags") }

// AppChecksum is the application build checksum (".clbuild.md5", L2953).
func (l Layout) AppChecksum(app string) string { return l.p("etc/cluster", app, ".clbuild.md5") }

// StageChecksum records that clbuildapp's --check or --vgbuild stage ran
// against this appconf.xml; the next stage requires it (L2137).
func (l Layout) StageChecksum(app, stage string) string {
	return l.p("etc/cluster", app, "."+stage+".md5")
}

func (l Layout) StatusDir(app string) string { return l.p("etc/cluster/.status", app) }
func (l Layout) TimeFile(app string) string  { return l.p("etc/cluster/.status", app, "TIME") }

// StaleFile is the flag "<vg>.<lv>.<node>.STALE" marking node's copy of a
// volume as not current (L7630-7633).
func (l Layout) StaleFile(app, vg, lv, node string) string {
	return l.p("etc/cluster/.status", app, fmt.Sprintf("%s.%s.%s.STALE", vg, lv, node))
}

// LogDir is Global.logdir below the root (changing it "is not supported",
// L1529, so the default is what every tool uses).
func (l Layout) LogDir() string     { return l.p("var/log/cluster") }
func (l Layout) LemsLogDir() string { return l.p("var/log/cluster/lems") }

// BootMarker is written by the first cluster daemon since the node booted:
// /run is emptied at every boot, so its absence means a fresh boot.
func (l Layout) BootMarker() string { return l.p("run/linuxha/cldaemon.booted") }

// RebuildLock is held by clbuildapp --build; fsmon leaves replication
// alone while it is (state.HoldRebuild).
func (l Layout) RebuildLock(app string) string { return l.p("run/linuxha", "rebuild."+app+".lock") }

// BackupDir is where build tools archive replaced configuration (FAQ 4.4).
func (l Layout) BackupDir() string { return l.p("clbackup") }

// Bin is the path of a sibling linuxha command: the tools call each
// other from the directory they were installed in, not through PATH.
func Bin(name string) string {
	exe, err := os.Executable()
	if err != nil {
		return name
	}
	return filepath.Join(filepath.Dir(exe), name)
}
