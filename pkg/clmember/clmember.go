// Package clmember is the etcd membership mode's node daemon (issue 23):
// it runs this host's voting etcd member (embedded and witness
// variants), registers the node as alive on a lease, and claims each
// application through pkg/owner, running its start and stop scripts.
// It is a process of its own rather than part of cldaemon: linking
// etcd's server and client raises a Go process's resident memory from
// 2.2 to 16.3 MiB before it does anything, and the two-node daemons keep
// to 15 MiB (issue 20).
package clmember

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/linuxha-ng/linuxha/pkg/config"
	"github.com/linuxha-ng/linuxha/pkg/etcdmember"
	"github.com/linuxha-ng/linuxha/pkg/layout"
	"github.com/linuxha-ng/linuxha/pkg/logx"
	"github.com/linuxha-ng/linuxha/pkg/owner"
	"github.com/linuxha-ng/linuxha/pkg/pki"
	"github.com/linuxha-ng/linuxha/pkg/placement"
)

// Ports of the members: etcd's registered ones.
const (
	ClientPort = 2379
	PeerPort   = 2380
)

// Member is one voting member of the cluster's etcd.
type Member struct {
	Name, Addr string
	Secure     bool // reached by TLS (the cluster has its CA)
}

func (m Member) url(port int) string {
	scheme := "http"
	if m.Secure {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(m.Addr, fmt.Sprint(port))
}

// PeerURL and ClientURL are the member's etcd addresses.
func (m Member) PeerURL() string   { return m.url(PeerPort) }
func (m Member) ClientURL() string { return m.url(ClientPort) }

// Members lists the voting members of cfg's etcd: every node (embedded),
// or the two nodes and the witness. A node's address is what its name
// resolves to, as for the Reference's heartbeat (the hosts file). They
// are reached by TLS when secure (the cluster has its CA).
func Members(cfg *config.Cluster, resolve func(string) (string, error), secure bool) ([]Member, error) {
	m := cfg.Membership
	if !m.Etcd() {
		return nil, fmt.Errorf("%s: membership mode is %q: clmember serves mode=\"etcd\" only", cfg.File, m.Mode)
	}
	var out []Member
	switch m.Variant {
	case config.EtcdExternal:
		return nil, nil
	case config.EtcdWitness:
		out = append(out, Member{Name: m.Witness, Addr: m.WitnessAddr, Secure: secure})
	}
	for _, n := range cfg.Nodes {
		a, err := resolve(n.Name)
		if err != nil {
			return nil, fmt.Errorf("node %s: %w", n.Name, err)
		}
		out = append(out, Member{Name: n.Name, Addr: a, Secure: secure})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Resolve is the address a name resolves to, IPv4 first.
func Resolve(name string) (string, error) {
	as, err := net.LookupHost(name)
	if err != nil {
		return "", fmt.Errorf("resolving: %w", err)
	}
	for _, a := range as {
		if ip := net.ParseIP(a); ip != nil && ip.To4() != nil {
			return a, nil
		}
	}
	return as[0], nil
}

// Prefix is the cluster's key prefix in etcd.
func Prefix(cfg *config.Cluster) string { return "/linuxha/" + cfg.Name + "/" }

// Endpoints are the client URLs of every member, this host's first, for
// clmember --status.
func Endpoints(cfg *config.Cluster, ms []Member, me string) []string {
	if cfg.Membership.Variant == config.EtcdExternal {
		return cfg.Membership.Endpoints
	}
	var eps []string
	for _, m := range ms {
		if m.Name == me {
			eps = append([]string{m.ClientURL()}, eps...)
		} else {
			eps = append(eps, m.ClientURL())
		}
	}
	return eps
}

// ownerEndpoints are the client URLs this host's claims use: its own
// member only, unless the etcd cluster is external. The member answers
// a renewal only through the quorum it belongs to, so a node cut from
// the majority fails its renewals at once, and one on the majority's
// side never waits on a connection to a member cut off (gRPC keeps such
// a connection "ready" until its keep-alive notices, and the balancer
// sends every other request there).
func ownerEndpoints(cfg *config.Cluster, ms []Member, me string) []string {
	eps := Endpoints(cfg, ms, me)
	if cfg.Membership.Variant == config.EtcdExternal || len(eps) == 0 {
		return eps
	}
	return eps[:1]
}

// Client connects to endpoints of cfg's etcd: with the external
// cluster's client TLS files, or with this host's certificate from the
// cluster's CA when it has one (host not nil).
func Client(cfg *config.Cluster, endpoints []string, dial time.Duration, host *pki.Files) (*clientv3.Client, error) {
	cc := clientv3.Config{Endpoints: endpoints, DialTimeout: dial, Logger: zap.NewNop()}
	if m := cfg.Membership; m.Variant == config.EtcdExternal {
		tc, err := transport.TLSInfo{CertFile: m.Cert, KeyFile: m.KeyFile, TrustedCAFile: m.CA}.ClientConfig()
		if err != nil {
			return nil, fmt.Errorf("%s: membership/tls: %w", cfg.File, err)
		}
		cc.TLS = tc
	} else if host != nil {
		tc, err := transport.TLSInfo{CertFile: host.Cert, KeyFile: host.Key, TrustedCAFile: host.CA}.ClientConfig()
		if err != nil {
			return nil, fmt.Errorf("this host's certificate: %w", err)
		}
		cc.TLS = tc
	}
	c, err := clientv3.New(cc)
	if err != nil {
		return nil, fmt.Errorf("etcd client: %w", err)
	}
	return c, nil
}

// HostTLS issues this host (me, at addr) its certificate from the
// cluster's CA, when /etc/cluster/.etcd holds one; nil without a CA:
// the members then talk plain HTTP.
func HostTLS(l layout.Layout, me, addr string) (*pki.Files, error) {
	if !pki.HasCA(l.EtcdCADir()) {
		return nil, nil
	}
	var ips []net.IP
	if ip := net.ParseIP(addr); ip != nil {
		ips = append(ips, ip)
	}
	f, err := pki.IssueFiles(l.EtcdCADir(), l.EtcdTLSDir(), me, ips, time.Now())
	if err != nil {
		return nil, fmt.Errorf("certificate of %s from the cluster's CA: %w", me, err)
	}
	return &f, nil
}

// selfAddr is the address of me among ms ("" when it is not a member).
func selfAddr(ms []Member, me string) string {
	for _, m := range ms {
		if m.Name == me {
			return m.Addr
		}
	}
	return ""
}

// Daemon is one host's clmember.
type Daemon struct {
	L       layout.Layout
	Cluster *config.Cluster
	Me      string // this host's name: a node, or the witness
	Log     *logx.Logger
	// Resolve gives a node's address (Resolve unless a test sets it).
	Resolve func(string) (string, error)
}

// Run serves until ctx ends; ready is called once the member has joined
// a quorum (or failed to).
func (d *Daemon) Run(ctx context.Context, ready func(error)) error {
	cfg, mem := d.Cluster, d.Cluster.Membership
	resolve := d.Resolve
	if resolve == nil {
		resolve = Resolve
	}
	secure := pki.HasCA(d.L.EtcdCADir())
	ms, err := Members(cfg, resolve, secure)
	if err != nil {
		ready(err)
		return err
	}
	if !secure && mem.Variant != config.EtcdExternal {
		d.Log.Warnf("No cluster CA in %s: etcd's members talk plain HTTP (clmember --genca makes one; copy it to every host).", d.L.EtcdCADir())
	}
	host, err := HostTLS(d.L, d.Me, selfAddr(ms, d.Me))
	if err != nil {
		ready(err)
		return err
	}
	witness := mem.Variant == config.EtcdWitness && d.Me == mem.Witness
	if _, ok := cfg.Node(d.Me); !ok && !witness {
		err := fmt.Errorf("%s is neither a node of cluster %s nor its witness", d.Me, cfg.Name)
		ready(err)
		return err
	}
	var apps []*config.App
	if !witness {
		if apps, err = d.applications(); err != nil {
			ready(err)
			return err
		}
		// Whatever a previous clmember of this node left running (killed,
		// or the node's daemon restarted) is stopped before anything else:
		// its lease is lapsing, and another node may win the key once it
		// has. A service manager that restarts clmember at once
		// (Restart=always) keeps that well within the TTL.
		for _, a := range apps {
			sctx, cancel := context.WithTimeout(ctx, a.MaxStopTime)
			if err := (&scripts{app: a, log: d.Log}).Stop(sctx); err != nil {
				d.Log.Warnf("Stopping %s at start-up: %v", a.Name, err)
			}
			cancel()
		}
	}
	if mem.Variant != config.EtcdExternal {
		peers := map[string]string{}
		var self Member
		for _, m := range ms {
			peers[m.Name] = m.PeerURL()
			if m.Name == d.Me {
				self = m
			}
		}
		d.Log.Infof("Starting etcd member %s (%s), %d voting members; waiting for a quorum.", d.Me, self.PeerURL(), len(ms))
		mc := etcdmember.Config{Name: d.Me, DataDir: d.L.EtcdDataDir(),
			PeerURL: self.PeerURL(), ClientURL: self.ClientURL(), Peers: peers, Cluster: cfg.Name,
			Heartbeat: mem.Heartbeat, Election: mem.Election, LogFile: d.L.Path(cfg.LogDir) + "/etcd.log"}
		if host != nil {
			mc.TLS = &etcdmember.TLSFiles{CA: host.CA, Cert: host.Cert, Key: host.Key}
		}
		m, err := etcdmember.Start(ctx, mc)
		if err != nil {
			ready(err)
			return err
		}
		defer m.Close()
		d.Log.Infof("etcd member %s is part of a quorum.", d.Me)
	}
	if witness {
		ready(nil)
		<-ctx.Done()
		return nil
	}
	c, err := Client(cfg, ownerEndpoints(cfg, ms, d.Me), 5*time.Second, host)
	if err != nil {
		ready(err)
		return err
	}
	defer c.Close()
	ready(nil)
	var wg sync.WaitGroup
	wg.Go(func() { d.register(ctx, c) })
	if mem.Variant != config.EtcdExternal {
		wg.Go(func() { d.keepLeadershipOff(ctx, c, ms) })
	}
	for _, a := range apps {
		o := &owner.Owner{Client: c, Key: Prefix(cfg) + "apps/" + a.Name + "/owner", Node: d.Me,
			TTL: mem.LeaseTTL, StopTime: a.MaxStopTime, Margin: margin, Retry: mem.LeaseTTL,
			Actions: &scripts{app: a, log: d.Log}, Logf: d.Log.Infof, Rank: d.rank(c, a), Stagger: stagger}
		wg.Go(func() { o.Run(ctx) })
	}
	wg.Wait()
	return nil
}

// margin is kept, besides an application's maxstoptime, between the end
// of its stop and the earliest moment its lease could lapse: the
// address's removal and the scheduling of a loaded node.
const margin = 500 * time.Millisecond

// applications lists the applications under /etc/cluster that this mode
// runs: those without replicated storage for now (a storage pair per
// application is the next step of issue 23).
func (d *Daemon) applications() ([]*config.App, error) {
	ents, err := os.ReadDir(d.L.ClusterDir())
	if err != nil {
		return nil, fmt.Errorf("applications: %w", err)
	}
	var apps []*config.App
	for _, e := range ents {
		path := d.L.AppConf(e.Name())
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if _, err := os.Stat(path); err != nil {
			continue
		}
		a, warnings, err := config.LoadApp(path)
		if err != nil {
			return nil, err
		}
		for _, w := range warnings {
			d.Log.Warnf("%v", w)
		}
		if ttl := d.Cluster.Membership.LeaseTTL; a.MaxStopTime+margin+owner.Period(ttl) >= ttl {
			return nil, a.Problemf("application/maxstoptime", "%v, with a margin of %v and a keep-alive period of %v, must be less than the lease TTL (%s's membership/ttl, %v): the application must have stopped before its lease can lapse",
				a.MaxStopTime, margin, owner.Period(ttl), d.Cluster.File, ttl)
		}
		if len(a.VGs) > 0 {
			d.Log.Warnf("Application %s has replicated storage, which the etcd mode does not run yet: not claimed.", a.Name)
			continue
		}
		apps = append(apps, a)
	}
	return apps, nil
}

// Fact is what a node publishes of itself under members/<node>.
type Fact struct {
	Node    string    `json:"node"`
	Started time.Time `json:"started"`
	PID     int       `json:"pid"`
	Load    float64   `json:"load"` // 1-minute load average (LEAST_CPU_LOAD)
}

// factEvery is how often a node refreshes its load in its fact.
const factEvery = 10 * time.Second

// loadAvg is the host's 1-minute load average, 0 when unknown.
func loadAvg() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f, _ := strconv.ParseFloat(strings.Fields(string(b) + " 0")[0], 64)
	return f
}

// register keeps members/<node> on a lease of the membership's TTL while
// the daemon runs: who is alive and how loaded, for clmember --status
// and placement.
func (d *Daemon) register(ctx context.Context, c *clientv3.Client) {
	ttl := int64(d.Cluster.Membership.LeaseTTL / time.Second)
	key := Prefix(d.Cluster) + "members/" + d.Me
	fact := Fact{Node: d.Me, Started: time.Now().UTC(), PID: os.Getpid()}
	put := func(id clientv3.LeaseID) error {
		fact.Load = loadAvg()
		v, _ := json.Marshal(fact)
		_, err := c.Put(ctx, key, string(v), clientv3.WithLease(id))
		return err
	}
	t := time.NewTicker(factEvery)
	defer t.Stop()
	for ctx.Err() == nil {
		g, err := c.Grant(ctx, ttl)
		if err == nil {
			err = put(g.ID)
		}
		var ka <-chan *clientv3.LeaseKeepAliveResponse
		if err == nil {
			ka, err = c.KeepAlive(ctx, g.ID)
		}
	alive:
		for err == nil {
			select {
			case _, ok := <-ka:
				if !ok {
					break alive
				}
			case <-t.C:
				if put(g.ID) != nil {
					break alive
				}
			}
		}
		if ctx.Err() != nil {
			return
		}
		select {
		case <-time.After(time.Second):
		case <-ctx.Done():
		}
	}
}

// ownedCounts is how many applications each node owns, from the
// elections under the cluster's prefix (owners).
func ownedCounts(ctx context.Context, c *clientv3.Client, cfg *config.Cluster) (map[string]int, error) {
	p := Prefix(cfg)
	apps, err := c.Get(ctx, p+"apps/", clientv3.WithPrefix())
	if err != nil {
		return nil, fmt.Errorf("etcd: %w", err)
	}
	owned := map[string]int{}
	for _, o := range owners(p, apps.Kvs) {
		owned[o.Node]++
	}
	return owned, nil
}

// candidates are the cluster's nodes as etcd knows them, in the
// configuration's order, for placement.
func candidates(ctx context.Context, c *clientv3.Client, cfg *config.Cluster) ([]placement.Candidate, error) {
	p := Prefix(cfg)
	facts, err := c.Get(ctx, p+"members/", clientv3.WithPrefix())
	if err != nil {
		return nil, fmt.Errorf("etcd: %w", err)
	}
	owned, err := ownedCounts(ctx, c, cfg)
	if err != nil {
		return nil, err
	}
	alive := map[string]Fact{}
	for _, kv := range facts.Kvs {
		var f Fact
		if json.Unmarshal(kv.Value, &f) == nil {
			alive[f.Node] = f
		}
	}
	var out []placement.Candidate
	for _, n := range cfg.Nodes {
		f, ok := alive[n.Name]
		out = append(out, placement.Candidate{Name: n.Name, Alive: ok, Apps: owned[n.Name], Load: f.Load})
	}
	return out, nil
}

// rank is this node's place among those that may run a (pkg/placement).
func (d *Daemon) rank(c *clientv3.Client, a *config.App) func(context.Context) (int, bool) {
	return func(ctx context.Context) (int, bool) {
		cands, err := candidates(ctx, c, d.Cluster)
		if err != nil {
			return 0, false
		}
		return placement.Rank(d.Me, a.PreferredNode, a.Backups, cands)
	}
}

// leaderEvery is how often a node looks whether it leads etcd while it
// runs applications.
const leaderEvery = 2 * time.Second

// keepLeadershipOff moves etcd's raft leadership away from this node
// while it leads and runs more applications than another member
// (placement.LeaderFor): an owner's crash then costs the rest of its
// lease, not an election plus a whole TTL. The client talks to this
// host's own member, the leader when it matters.
func (d *Daemon) keepLeadershipOff(ctx context.Context, c *clientv3.Client, ms []Member) {
	t := time.NewTicker(leaderEvery)
	defer t.Stop()
	var self Member
	var names []string
	witness := ""
	if d.Cluster.Membership.Variant == config.EtcdWitness {
		witness = d.Cluster.Membership.Witness
	}
	// failing: the last move failed (a member cut off): said once, not
	// every leaderEvery.
	failing := false
	for _, m := range ms {
		names = append(names, m.Name)
		if m.Name == d.Me {
			self = m
		}
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		qctx, cancel := context.WithTimeout(ctx, leaderEvery)
		st, err := c.Status(qctx, self.ClientURL())
		if err != nil || st.Leader != st.Header.MemberId {
			cancel()
			continue
		}
		owned, err := ownedCounts(qctx, c, d.Cluster)
		list, lerr := c.MemberList(qctx)
		if err != nil || lerr != nil {
			cancel()
			continue
		}
		if to, ok := placement.LeaderFor(d.Me, names, owned, witness); ok {
			for _, m := range list.Members {
				if m.Name != to {
					continue
				}
				if _, err := c.MoveLeader(qctx, m.ID); err != nil {
					if !failing {
						d.Log.Warnf("Moving etcd's leadership to %s: %v", to, err)
					}
					failing = true
				} else {
					failing = false
					d.Log.Infof("Moved etcd's leadership to %s: this node runs %d application(s), %s %d.", to, owned[d.Me], to, owned[to])
				}
			}
		}
		cancel()
	}
}

// stagger is how long a node ranked n-th waits, after an application's
// key fell free, per rank: several etcd writes' time.
const stagger = 300 * time.Millisecond

// scripts runs an application's start and stop scripts.
type scripts struct {
	app *config.App
	log *logx.Logger
}

func (s *scripts) Start(ctx context.Context, token int64) error {
	ctx, cancel := context.WithTimeout(ctx, s.app.MaxStartTime)
	defer cancel()
	return s.run(ctx, "start", s.app.StartScript, token)
}

func (s *scripts) Stop(ctx context.Context) error {
	return s.run(ctx, "stop", s.app.StopScript, 0)
}

func (s *scripts) run(ctx context.Context, what string, argv []string, token int64) error {
	if len(argv) == 0 {
		return nil
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "LINUXHA_APPLICATION="+s.app.Name, fmt.Sprintf("LINUXHA_TOKEN=%d", token))
	cmd.Dir = filepath.Dir(argv[0])
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s script of %s: %w: %s", what, s.app.Name, err, strings.TrimSpace(string(out)))
	}
	s.log.Infof("Application %s: %s script ended (token %d).", s.app.Name, what, token)
	return nil
}
