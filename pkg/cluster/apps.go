package cluster

import (
	"errors"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/linuxha-ng/linuxha/pkg/config"
	api "github.com/linuxha-ng/linuxha/pkg/daemonapi"
	"github.com/linuxha-ng/linuxha/pkg/state"
)

// App is a registered application: one whose build checksum is valid.
type App struct {
	Name       string
	Conf       *config.App
	ValidNodes []string  // nodes it may run on (SETVALIDNODES, L4732-4790)
	State      string    // DOWN until the lifecycle tools report otherwise
	Node       string    // where it runs
	Since      time.Time // when it reached STARTED
}

// validBuild reports whether app has a built, unchanged configuration.
func (d *Daemon) validBuild(app string) (*config.App, error) {
	conf := d.L.AppConf(app)
	if _, err := os.Stat(conf); err != nil {
		return nil, errMissingFile
	}
	if !d.Opts.NoChecksums {
		if err := state.VerifyChecksum(d.L.AppChecksum(app), conf); err != nil {
			return nil, err
		}
	}
	a, _, err := config.LoadApp(conf)
	if err != nil {
		return nil, errNotConfigured
	}
	return a, nil
}

var (
	errMissingFile   = errors.New("MISSING_FILE")
	errNotConfigured = errors.New("NOT_CONFIGURED")
)

// registerApps registers every application directory with a valid build
// (L2584-2593).
func (d *Daemon) registerApps() {
	des, err := os.ReadDir(d.L.ClusterDir())
	if err != nil {
		return
	}
	for _, de := range des {
		name := de.Name()
		if !de.IsDir() || strings.HasPrefix(name, ".") {
			continue
		}
		if _, err := os.Stat(d.L.AppConf(name)); err != nil {
			continue
		}
		if _, err := d.register(name); err != nil {
			d.Log.Warnf("No validated build for %s - not registering with cluster.", name)
			continue
		}
		d.Log.Infof("Validated Build for %s is valid - will register with cluster.", name)
		d.Log.Infof("Application %s has been registered with the cluster daemons", name)
	}
}

func (d *Daemon) register(name string) (*App, error) {
	a, err := d.validBuild(name)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	app := d.apps[name]
	if app == nil {
		app = &App{Name: name, State: api.AppDown, ValidNodes: d.Cfg.NodeNames()}
		d.apps[name] = app
	}
	app.Conf = a
	return app, nil
}

func (d *Daemon) app(name string) (*App, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	a, ok := d.apps[name]
	return a, ok
}

func (d *Daemon) appNames() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Sorted(maps.Keys(d.apps))
}
