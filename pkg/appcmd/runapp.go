package appcmd

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/linuxha-ng/linuxha/pkg/clitool"
	"github.com/linuxha-ng/linuxha/pkg/config"
	"github.com/linuxha-ng/linuxha/pkg/daemonapi"
	"github.com/linuxha-ng/linuxha/pkg/jsonout"
	"github.com/linuxha-ng/linuxha/pkg/layout"
	"github.com/linuxha-ng/linuxha/pkg/logx"
	"github.com/linuxha-ng/linuxha/pkg/remote"
	"github.com/linuxha-ng/linuxha/pkg/state"
)

// NodeView is what the node choice of clrunapp depends on (L7024-7034).
type NodeView struct {
	Name  string
	Up    bool    // runs a cluster daemon that is UP
	Valid bool    // in the application's valid nodes (L4732-4790)
	Apps  int     // applications running there (LEAST_APP_LOAD, L5845)
	Load  float64 // 1-minute load average (LEAST_CPU_LOAD)
}

// ChooseNode picks where clrunapp starts an application: --node when that
// node is available (L5886); the only available node; the preferred
// node (a name, LEAST_APP_LOAD or LEAST_CPU_LOAD, L5795); else the
// current node (L7032-7034). Ties go to the current node, me. Only nodes
// that are up and valid for the application are available.
func ChooseNode(nodes []NodeView, me, requested, preferred string) (string, string, error) {
	var avail []NodeView
	for _, n := range nodes {
		if n.Up && n.Valid {
			avail = append(avail, n)
		}
	}
	has := func(name string) bool {
		for _, n := range avail {
			if n.Name == name {
				return true
			}
		}
		return false
	}
	if len(avail) == 0 {
		return "", "", errors.New("no node is available: both are down or not valid for it")
	}
	if requested != "" {
		if !has(requested) {
			return "", "", fmt.Errorf("node %s is not available for it", requested)
		}
		return requested, "--node", nil
	}
	if len(avail) == 1 {
		return avail[0].Name, "only available node", nil
	}
	// Two nodes: current node first, so that ties go to it.
	sort.SliceStable(avail, func(i, j int) bool { return avail[i].Name == me && avail[j].Name != me })
	switch preferred {
	case "":
		return avail[0].Name, "current node", nil
	case config.LeastAppLoad:
		// MinFunc keeps the first of equals: ties stay with this node.
		return slices.MinFunc(avail, func(a, b NodeView) int { return cmp.Compare(a.Apps, b.Apps) }).Name, config.LeastAppLoad, nil
	case config.LeastCPULoad:
		return slices.MinFunc(avail, func(a, b NodeView) int { return cmp.Compare(a.Load, b.Load) }).Name, config.LeastCPULoad, nil
	}
	if has(preferred) {
		return preferred, "preferred_node", nil
	}
	return avail[0].Name, "preferred node " + preferred + " unavailable", nil
}

// RunOpts are clrunapp's options (L5879-5894).
type RunOpts struct {
	Node        string
	NoDeps      bool
	NoLogging   bool
	Preview     bool
	Timeout     time.Duration
	Reset       bool
	NoLocking   bool
	NoChecksums bool
	Force       bool
}

// runner starts applications across the cluster, as clrunapp and clform
// do.
type runner struct {
	ctx    context.Context
	l      layout.Layout
	cfg    *config.Cluster
	c      *daemonapi.Client
	log    *logx.Logger
	o      RunOpts
	counts map[string]int // running applications per node, planned ones included
	steps  []RunStep      // what was decided, in order (clrunapp --json)
}

// RunSchema names RunDoc.
const RunSchema = "linuxha.clrunapp/v1"

// RunDoc is clrunapp --json: each application it looked at, dependencies
// first, with what it decided and, unless it previews, what happened.
type RunDoc struct {
	Schema      string    `json:"schema"`
	Application string    `json:"application"`
	Preview     bool      `json:"preview"`
	Steps       []RunStep `json:"steps"`
}

// RunStep is one application's part of the run.
type RunStep struct {
	Application  string           `json:"application"`
	State        string           `json:"state"`  // its state when looked at
	Action       string           `json:"action"` // start, none (already running) or reset_valid_nodes
	Node         *string          `json:"node"`   // where it runs or would start
	Why          string           `json:"why"`
	DependsOn    []string         `json:"depends_on"`
	Command      []string         `json:"command"` // the clstartapp command line; null unless it starts
	Started      bool             `json:"started"` // false when previewing
	StartSeconds *jsonout.Seconds `json:"start_seconds"`
}

// RunApp starts app and, unless NoDeps, the applications it depends on
// first, each on the node ChooseNode picks, by running clstartapp there.
// It returns the steps taken (or, with Preview, that would be).
func RunApp(ctx context.Context, l layout.Layout, log *logx.Logger, app string, o RunOpts) (RunDoc, error) {
	doc := RunDoc{Schema: RunSchema, Application: app, Preview: o.Preview, Steps: []RunStep{}}
	r, err := newRunner(ctx, l, log, o)
	if err != nil {
		return doc, err
	}
	err = r.run(app, map[string]bool{}, map[string]bool{})
	doc.Steps = append(doc.Steps, r.steps...)
	return doc, err
}

func newRunner(ctx context.Context, l layout.Layout, log *logx.Logger, o RunOpts) (*runner, error) {
	cfg, err := clitool.LoadBuiltCluster(l, o.NoChecksums)
	if err != nil {
		return nil, err
	}
	log.Infof("Validated cluster configuration.")
	c, err := daemonapi.NewClient(l, cfg)
	if err != nil {
		return nil, err
	}
	if _, _, err := c.Any(ctx, daemonapi.Echo); err != nil {
		return nil, clitool.NotRunningf("Cluster %s is not running: start it with clform, or the application with clstartapp --force.", cfg.Name)
	}
	log.Infof("Successfully connected to cluster %s.", cfg.Name)
	if o.Timeout == 0 {
		o.Timeout = 30 * time.Second // L5888
	}
	r := &runner{ctx: ctx, l: l, cfg: cfg, c: c, log: log, o: o, counts: map[string]int{}}
	reply, _, err := c.Any(ctx, daemonapi.AppList)
	if err != nil {
		return nil, err
	}
	apps, err := daemonapi.ParseAppList(reply)
	if err != nil {
		return nil, err
	}
	for _, a := range apps {
		if st, node, err := r.status(a); err == nil && node != "" && st != daemonapi.AppDown {
			r.counts[node]++
		}
	}
	return r, nil
}

func (r *runner) status(app string) (st, node string, err error) {
	s, _, err := r.c.AnyAppStatus(r.ctx, app, daemonapi.StatusOptions{})
	var refused *daemonapi.Refused
	if errors.As(err, &refused) {
		return "", "", fmt.Errorf("Application %s is not registered with the cluster: %s", app, refused.Reply)
	}
	if err != nil {
		return "", "", err
	}
	return s.State, s.Node, nil
}

// run starts app after its dependencies; visiting holds the chain being
// resolved (to refuse a cycle), done what this run has handled.
func (r *runner) run(app string, visiting, done map[string]bool) error {
	if done[app] {
		return nil
	}
	if visiting[app] {
		return fmt.Errorf("application %s depends on itself through its dependencies", app)
	}
	visiting[app] = true
	defer func() { delete(visiting, app); done[app] = true }()
	conf, _, err := config.LoadApp(r.l.AppConf(app))
	if err != nil {
		return err
	}
	if !r.o.NoChecksums {
		if err := state.VerifyChecksum(r.l.AppChecksum(app), r.l.AppConf(app)); err != nil {
			return fmt.Errorf("Application %s has no valid build: %w", app, err)
		}
	}
	r.log.Infof("Validated application configuration.")
	st, node, err := r.status(app)
	if err != nil {
		return err
	}
	r.log.Infof("Verified that application %s is registered.", app)
	if r.o.Reset {
		if r.o.Preview {
			r.log.Infof("Would reset the valid nodes of %s to both nodes.", app)
		} else if reply, _, err := r.c.Any(r.ctx, daemonapi.Req(daemonapi.SetValidNodes, "app", app, "forward", "yes")); err != nil || reply != daemonapi.OK {
			return fmt.Errorf("Unable to reset the valid nodes of %s: %s %v", app, reply, err)
		} else {
			r.log.Infof("Valid nodes of %s reset to both nodes.", app)
		}
		r.steps = append(r.steps, RunStep{Application: app, State: st, Action: "reset_valid_nodes", Why: "--reset: both nodes valid again",
			DependsOn: append([]string{}, conf.Dependencies...)})
	}
	r.log.Infof("Current application state : %s", st)
	if st != daemonapi.AppDown {
		r.log.Infof("Application %s is already %s on node %s.", app, st, node)
		r.steps = append(r.steps, RunStep{Application: app, State: st, Action: "none", Node: jsonout.String(node),
			Why: "already " + st, DependsOn: append([]string{}, conf.Dependencies...)})
		return nil
	}
	deps := "<NONE>"
	if len(conf.Dependencies) > 0 {
		deps = strings.Join(conf.Dependencies, ",")
	}
	r.log.Infof("Application %s depends on: %s", app, deps)
	if !r.o.NoDeps {
		for _, d := range conf.Dependencies {
			if err := r.run(d, visiting, done); err != nil {
				return fmt.Errorf("dependency %s of %s: %w", d, app, err)
			}
		}
	}
	views, err := r.views(app)
	if err != nil {
		return err
	}
	target, why, err := ChooseNode(views, r.c.Me, r.o.Node, conf.PreferredNode)
	if err != nil {
		return fmt.Errorf("Application %s cannot be started: %w", app, err)
	}
	r.log.Infof("Application %s will be started on node %s (%s)", app, target, why)
	argv := []string{layout.Bin("clstartapp"), "--application", app, "--maxdelay", strconv.Itoa(int(r.o.Timeout.Seconds()))}
	if !r.o.NoLogging {
		argv = append(argv, "--verbose")
	}
	for _, f := range []struct {
		on   bool
		flag string
	}{{r.o.Force, "--force"}, {r.o.NoLocking, "--nolocking"}, {r.o.NoChecksums, "--nochecksums"}} {
		if f.on {
			argv = append(argv, f.flag)
		}
	}
	r.counts[target]++
	r.steps = append(r.steps, RunStep{Application: app, State: st, Action: "start", Node: &target, Why: why,
		DependsOn: append([]string{}, conf.Dependencies...), Command: argv})
	step := &r.steps[len(r.steps)-1]
	if r.o.Preview {
		// --preview gives "a summary of what steps would be taken"
		// (L5887): the same lines, saying that nothing starts.
		r.log.Infof("Preview: would start %s on %s using command:", app, target)
		r.log.Infof("%s", strings.Join(argv, " "))
		return nil
	}
	r.log.Infof("Starting %s using command:", app)
	r.log.Infof("%s", strings.Join(argv, " "))
	start := time.Now()
	var out []byte
	if target == r.c.Me {
		out, err = exec.CommandContext(r.ctx, argv[0], argv[1:]...).CombinedOutput()
	} else {
		p := remote.ToNode(r.l.Topology(), target, r.log.Infof)
		p.OnSelect = nil
		out, err = p.Output(r.ctx, argv...)
	}
	if err != nil {
		for _, line := range lastLines(string(out), 10) {
			r.log.Errorf("%s", line)
		}
		return fmt.Errorf("Application %s failed to start on %s: %v", app, target, err)
	}
	took := time.Since(start)
	r.log.Infof("Application %s started after %d seconds.", app, int(took.Seconds()))
	step.Started, step.StartSeconds = true, jsonout.Duration(took.Round(time.Millisecond))
	return nil
}

// views asks both daemons for what the node choice needs.
func (r *runner) views(app string) ([]NodeView, error) {
	valid := map[string]bool{}
	nodes, err := r.c.ValidNodes(r.ctx, app)
	if err != nil && !errors.As(err, new(*daemonapi.Refused)) {
		return nil, err
	}
	for _, n := range nodes {
		valid[n] = true
	}
	var out []NodeView
	for _, n := range r.cfg.NodeNames() {
		v := NodeView{Name: n, Valid: valid[n] || r.o.Preview && r.o.Reset, Apps: r.counts[n]}
		ctx, cancel := context.WithTimeout(r.ctx, 3*time.Second)
		if s, err := r.c.NodeState(ctx, n, n); err == nil && s == daemonapi.NodeUp {
			v.Up = true
			// A node that cannot say counts as idle, as before.
			v.Load, _ = r.c.Load(ctx, n)
		}
		cancel()
		out = append(out, v)
	}
	return out, nil
}

func lastLines(s string, n int) []string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines
}

// NewRunApp builds the clrunapp command.
func NewRunApp(stdout, stderr io.Writer) *cli.App {
	return &cli.App{
		Name:  "clrunapp",
		Usage: "start an application, and what it depends on, on the right node of the cluster",
		UsageText: "clrunapp --application A [--node N] [--nodeps] [--nologging] [--localonly] [--preview]\n" +
			"         [--timeout N] [--reset] [--nolocking] [--nochecksums] [--force] [--json]",
		Description: "Needs a running cluster. Starts the applications A depends on first (unless --nodeps),\n" +
			"then A, each by running clstartapp on the node chosen: --node when that node is up and\n" +
			"valid for the application; else the only such node; else preferred_node (a node name,\n" +
			"LEAST_APP_LOAD: fewer running applications, LEAST_CPU_LOAD: lower load average); else\n" +
			"this node. Ties go to this node. Output goes to the screen only; each clstartapp keeps\n" +
			"its own log. --preview prints the plan and changes nothing.",
		Writer:          stdout,
		ErrWriter:       stderr,
		HideHelpCommand: true,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "application", Aliases: []string{"A"}, Required: true, Usage: "the application `NAME`"},
			&cli.StringFlag{Name: "node", Usage: "start on `NODE` (overrides preferred_node)"},
			&cli.BoolFlag{Name: "nodeps", Usage: "do not start the applications it depends on"},
			&cli.BoolFlag{Name: "nologging", Usage: "run clstartapp without --verbose"},
			&cli.BoolFlag{Name: "localonly", Usage: "accepted for compatibility; has no effect (L5885)"},
			&cli.BoolFlag{Name: "preview", Usage: "print what would be done, and do nothing"},
			&cli.IntFlag{Name: "timeout", Value: 30, Usage: "seconds an application may take to start (clstartapp --maxdelay)"},
			&cli.BoolFlag{Name: "reset", Usage: "make both nodes valid for the application again first"},
			&cli.BoolFlag{Name: "nolocking", Usage: "do not use the lock daemon"},
			&cli.BoolFlag{Name: "nochecksums", Usage: "ignore configuration checksums (emergencies only)"},
			&cli.BoolFlag{Name: "force", Usage: "pass --force to clstartapp"},
			&cli.BoolFlag{Name: "json", Usage: "print the steps taken (with --preview, that would be) as JSON; the narration goes to standard error"},
		},
		Action: func(c *cli.Context) error {
			// In JSON mode the narration goes to standard error, and
			// standard output holds the document alone.
			log := logx.New(stdout)
			if c.Bool("json") {
				log = logx.New(stderr)
			}
			log.SetVerbose(true)
			doc, err := RunApp(c.Context, layout.FromEnv(), log, c.String("application"), RunOpts{
				Node: c.String("node"), NoDeps: c.Bool("nodeps"), NoLogging: c.Bool("nologging"),
				Preview: c.Bool("preview"), Timeout: time.Duration(c.Int("timeout")) * time.Second,
				Reset: c.Bool("reset"), NoLocking: c.Bool("nolocking"), NoChecksums: c.Bool("nochecksums"),
				Force: c.Bool("force"),
			})
			if err != nil || !c.Bool("json") {
				return err
			}
			return jsonout.Write(stdout, doc)
		},
	}
}
