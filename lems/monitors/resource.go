package monitors

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/linuxha-ng/linuxha/pkg/config"
	"github.com/linuxha-ng/linuxha/pkg/resource"
)

// Return codes of a resource check, mapped by ResourceActions.
const (
	ResourceOK       = 0
	ResourceFailover = 2
	ResourceHalt     = 3
)

// ResourceActions is the action list of the checks Lems adds for an
// application's resources: a resource that cannot be kept running here
// moves the application (FAILOVER); a fatal error stops it (HALTAPP).
var ResourceActions = map[int]string{ResourceOK: "NOP", ResourceFailover: "FAILOVER", ResourceHalt: "HALTAPP"}

// Resource watches one member of the application's <resources> through
// its agent's monitor: a soft failure restarts it here (stop, start) up
// to its restart count within its window; what resource.Next calls a
// fail-over or a halt is answered as rc 2 or 3.
type Resource struct {
	env   *Env
	r     *config.Resource
	agent resource.Agent
	now   func() time.Time
	mu    sync.Mutex // guards tally and max
	tally resource.Tally
	max   int
}

// NewResource is module "resource NAME".
func NewResource(env *Env, args []string) (Monitor, error) {
	if len(args) != 1 {
		return nil, errors.New("resource takes the name of one of the application's resources")
	}
	if env.AppConf == nil {
		return nil, errors.New("resource: no application configuration")
	}
	r, ok := env.AppConf.Resource(args[0])
	if !ok {
		return nil, fmt.Errorf("resource: %s has no resource %q", env.App, args[0])
	}
	a := resource.New(r, resource.Env{App: env.App, Log: env.Log.Infof})
	return &Resource{env: env, r: r, agent: a, now: time.Now, max: r.Restarts}, nil
}

func (m *Resource) Check(ctx context.Context) (int, string) {
	code := m.agent.Monitor(ctx)
	m.mu.Lock()
	rec, tally, why := resource.Next(code, m.tally, m.max, m.r.Window, m.now())
	m.tally = tally
	m.mu.Unlock()
	switch rec {
	case resource.None:
		return ResourceOK, ""
	case resource.Failover:
		m.env.Log.Warnf("Resource %s (%s): %s.", m.r.Name, m.r.ID(), why)
		return ResourceFailover, why
	case resource.HaltApp:
		m.env.Log.Errorf("Resource %s (%s): %s.", m.r.Name, m.r.ID(), why)
		return ResourceHalt, why
	}
	m.env.Log.Warnf("Resource %s (%s): %s.", m.r.Name, m.r.ID(), why)
	if c := m.agent.Stop(ctx); c != resource.Success {
		// Pacemaker fences a node whose stop failed; here the
		// application moves, and its stop on this node runs again.
		why = fmt.Sprintf("stop before the restart answered %v", c)
		m.env.Log.Warnf("Resource %s (%s): %s.", m.r.Name, m.r.ID(), why)
		return ResourceFailover, why
	}
	c := m.agent.Start(ctx)
	switch resource.AfterStart(c) {
	case resource.None:
		m.env.Log.Infof("Resource %s (%s) restarted.", m.r.Name, m.r.ID())
		return ResourceOK, ""
	case resource.HaltApp:
		return ResourceHalt, fmt.Sprintf("restart answered %v", c)
	}
	why = fmt.Sprintf("restart answered %v", c)
	m.env.Log.Warnf("Resource %s (%s): %s.", m.r.Name, m.r.ID(), why)
	return ResourceFailover, why
}

// Stat is procmon's "<max restarts>,<current>,<reset at unix or 0>".
func (m *Resource) Stat() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var at int64
	if !m.tally.ResetAt.IsZero() {
		at = m.tally.ResetAt.Unix()
	}
	return fmt.Sprintf("%d,%d,%d", m.max, m.tally.Count, at)
}

// Accept takes RESET and MAXCOUNT N, as procmon does.
func (m *Resource) Accept(w []string) (string, error) {
	if len(w) == 0 {
		return "", errors.New("resource accepts RESET or MAXCOUNT n")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	switch strings.ToUpper(w[0]) {
	case "RESET":
		m.tally = resource.Tally{}
		return "", nil
	case "MAXCOUNT":
		var n int
		if len(w) != 2 {
			return "", errors.New("MAXCOUNT needs a number")
		}
		if _, err := fmt.Sscanf(w[1], "%d", &n); err != nil || n < 0 {
			return "", fmt.Errorf("MAXCOUNT %q is not a count", w[1])
		}
		m.max = n
		return "", nil
	}
	return "", fmt.Errorf("resource does not know %q", w[0])
}

// WithResources adds a check for each monitored resource of app that
// lems.local.xml does not check itself (by a check of that name, or one
// running "resource NAME"), so that resources are watched without a
// hand-written check, and one can still be written to change its actions.
func WithResources(checks []config.Check, app *config.App) []config.Check {
	if app == nil {
		return checks
	}
	have := map[string]bool{}
	for _, c := range checks {
		have[c.Name] = true
		if c.Module == "resource" && len(c.Args) == 1 {
			have[c.Args[0]] = true
		}
	}
	out := append([]config.Check(nil), checks...)
	for _, r := range app.Resources {
		if r.Interval <= 0 || have[r.Name] {
			continue
		}
		out = append(out, config.Check{Name: r.Name, Type: "internal", Module: "resource", Args: []string{r.Name},
			Interval: r.Interval, Actions: ResourceActions})
	}
	return out
}
