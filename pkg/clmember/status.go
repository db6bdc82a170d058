package clmember

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/linuxha-ng/linuxha/pkg/config"
)

// MemberState is one voting member as the cluster sees it.
type MemberState struct {
	Name      string `json:"name"`
	ClientURL string `json:"client_url"`
	Reachable bool   `json:"reachable"` // answered a status request
	Leader    bool   `json:"leader"`    // raft's leader
}

// Owner is who holds an application's key and with which token.
type Owner struct {
	App   string `json:"application"`
	Node  string `json:"node"` // "" when no node holds it
	Token int64  `json:"token"`
}

// Status is what clmember --status prints.
type Status struct {
	Cluster string        `json:"cluster"`
	Variant string        `json:"variant"`
	Members []MemberState `json:"members"`
	Quorum  bool          `json:"quorum"` // a majority of members answered
	Alive   []string      `json:"alive"`  // nodes whose registration holds
	Owners  []Owner       `json:"owners"`
}

// Query asks the cluster's etcd for its status through c.
func Query(ctx context.Context, c *clientv3.Client, cfg *config.Cluster, ms []Member) (Status, error) {
	s := Status{Cluster: cfg.Name, Variant: cfg.Membership.Variant}
	var leader uint64
	up := 0
	for _, m := range ms {
		st := MemberState{Name: m.Name, ClientURL: m.ClientURL()}
		if r, err := c.Status(ctx, st.ClientURL); err == nil {
			st.Reachable, leader = true, r.Leader
			up++
		}
		s.Members = append(s.Members, st)
	}
	s.Quorum = up > len(ms)/2
	if leader != 0 {
		if l, err := c.MemberList(ctx); err == nil {
			for _, m := range l.Members {
				if m.ID != leader {
					continue
				}
				for i := range s.Members {
					s.Members[i].Leader = s.Members[i].Name == m.Name
				}
			}
		}
	}
	p := Prefix(cfg)
	r, err := c.Get(ctx, p+"members/", clientv3.WithPrefix())
	if err != nil {
		return s, fmt.Errorf("etcd: %w", err)
	}
	for _, kv := range r.Kvs {
		var f Fact
		if json.Unmarshal(kv.Value, &f) == nil {
			s.Alive = append(s.Alive, f.Node)
		}
	}
	sort.Strings(s.Alive)
	r, err = c.Get(ctx, p+"apps/", clientv3.WithPrefix())
	if err != nil {
		return s, fmt.Errorf("etcd: %w", err)
	}
	s.Owners = owners(p, r.Kvs)
	return s, nil
}

// owners reads, from the keys under the cluster's prefix p + "apps/",
// each application's owner: its election's leader is its oldest key
// (concurrency.Election), whose value is the node.
func owners(p string, kvs []*mvccpb.KeyValue) []Owner {
	oldest := map[string]*mvccpb.KeyValue{}
	var apps []string
	for _, kv := range kvs {
		rest := strings.TrimPrefix(string(kv.Key), p+"apps/")
		app, sub, _ := strings.Cut(rest, "/")
		if _, seen := oldest[app]; !seen {
			apps = append(apps, app)
			oldest[app] = nil
		}
		if strings.HasPrefix(sub, "owner/") && (oldest[app] == nil || kv.CreateRevision < oldest[app].CreateRevision) {
			oldest[app] = kv
		}
	}
	sort.Strings(apps)
	var out []Owner
	for _, a := range apps {
		o := Owner{App: a}
		if kv := oldest[a]; kv != nil {
			o.Node, o.Token = string(kv.Value), kv.CreateRevision
		}
		out = append(out, o)
	}
	return out
}

// Print writes s for people.
func (s Status) Print(w io.Writer) {
	q := "no quorum"
	if s.Quorum {
		q = "quorum"
	}
	fmt.Fprintf(w, "Cluster %s: etcd (%s), %s\n\n", s.Cluster, s.Variant, q)
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "Member\tClient URL\tState\t")
	alive := map[string]bool{}
	for _, n := range s.Alive {
		alive[n] = true
	}
	for _, m := range s.Members {
		st := "unreachable"
		switch {
		case m.Leader:
			st = "leader"
		case m.Reachable:
			st = "follower"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t\n", m.Name, m.ClientURL, st)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nNodes alive: %s\n\n", strings.Join(s.Alive, " "))
	tw = tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "Application\tOwner\tToken\t")
	for _, o := range s.Owners {
		n, t := o.Node, fmt.Sprint(o.Token)
		if n == "" {
			n, t = "-", "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t\n", o.App, n, t)
	}
	tw.Flush()
}
