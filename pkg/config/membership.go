package config

import (
	"net/url"
	"strings"
	"time"

	"github.com/beevik/etree"
)

// Membership is the <membership> section (issue 23; not in the
// Reference): how the cluster's nodes agree on who is alive and who owns
// each application.
type Membership struct {
	// Mode is "heartbeat", the Reference's two-node protocol (the
	// default, also when the section is absent), or "etcd".
	Mode string
	// Variant, with etcd: "embedded" (each node runs a voting etcd member
	// inside cldaemon: 3 to 7 nodes), "witness" (two nodes plus a small
	// host running only a member, the pair's tie-breaker) or "external"
	// (an existing etcd cluster's endpoints, with client TLS).
	Variant string
	// Witness is the witness host's name and address on a network both
	// nodes reach (variant witness).
	Witness, WitnessAddr string
	// Endpoints are the external cluster's client URLs, and CA, Cert
	// and Key its client TLS files (variant external).
	Endpoints         []string
	CA, Cert, KeyFile string
	// LeaseTTL is how long an owner's lease outlives its last renewal;
	// Heartbeat and Election are etcd's raft timings (embedded and
	// witness). Defaults: 5 s, 100 ms, 1 s (etcd's tuning guide:
	// election at least 10 heartbeats).
	LeaseTTL, Heartbeat, Election time.Duration
}

// Membership modes and etcd variants.
const (
	MembershipHeartbeat = "heartbeat"
	MembershipEtcd      = "etcd"
	EtcdEmbedded        = "embedded"
	EtcdWitness         = "witness"
	EtcdExternal        = "external"
	// MaxVoters is etcd's advice: more voting members slow every write
	// and add nothing to availability past seven.
	MaxVoters = 7
)

// Etcd reports whether the cluster runs on etcd rather than the
// Reference's two-node heartbeat.
func (m Membership) Etcd() bool { return m.Mode == MembershipEtcd }

func parseMembership(d *doc, c *Cluster) {
	c.Membership = Membership{Mode: MembershipHeartbeat, LeaseTTL: 5 * time.Second, Heartbeat: 100 * time.Millisecond, Election: time.Second}
	ms := children(d.root, "membership")
	if len(ms) == 0 {
		return
	}
	if len(ms) > 1 {
		d.errorf(ms[1], "membership", "the section is given %d times", len(ms))
	}
	e, m := ms[0], &c.Membership
	if v, ok := attr(e, "mode"); ok && v != "" {
		m.Mode = v
	}
	switch m.Mode {
	case MembershipHeartbeat:
		if v, ok := attr(e, "variant"); ok && v != "" {
			d.errorf(e, "membership/variant", "%q goes with mode=\"etcd\" only", v)
		}
		return
	case MembershipEtcd:
	default:
		d.errorf(e, "membership/mode", "%q is neither heartbeat nor etcd", m.Mode)
		return
	}
	m.Variant, _ = attr(e, "variant")
	if m.Variant == "" {
		m.Variant = EtcdEmbedded
	}
	durations := []struct {
		name string
		p    *time.Duration
		min  time.Duration
	}{{"ttl", &m.LeaseTTL, time.Second}, {"heartbeat", &m.Heartbeat, 10 * time.Millisecond}, {"election", &m.Election, 100 * time.Millisecond}}
	for _, x := range durations {
		if v, ok := attr(e, x.name); ok {
			p, err := time.ParseDuration(v)
			if err != nil || p < x.min {
				d.errorf(e, "membership/"+x.name, "%q must be a duration of at least %v", v, x.min)
				continue
			}
			*x.p = p
		}
	}
	if m.Election < 10*m.Heartbeat {
		d.errorf(e, "membership/election", "election (%v) must be at least ten heartbeats (%v): etcd's tuning guide", m.Election, m.Heartbeat)
	}
	if m.LeaseTTL <= m.Election {
		d.errorf(e, "membership/ttl", "the lease TTL (%v) must outlast an election (%v), or every leader change would lose every owner", m.LeaseTTL, m.Election)
	}
	n := len(children(d.root, "node"))
	switch m.Variant {
	case EtcdEmbedded:
		if n < 3 || n > MaxVoters {
			d.errorf(e, "membership/variant", "embedded etcd needs 3 to %d nodes (one voting member each), found %d; two nodes take variant=\"witness\"", MaxVoters, n)
		}
	case EtcdWitness:
		if n != 2 {
			d.errorf(e, "membership/variant", "a witness breaks the tie of exactly two nodes, found %d", n)
		}
		we := children(e, "witness")
		if len(we) != 1 {
			d.errorf(e, "membership/witness", "variant=\"witness\" needs one <witness name=... address=.../>, found %d", len(we))
			break
		}
		m.Witness, _ = attr(we[0], "name")
		m.WitnessAddr, _ = attr(we[0], "address")
		if !reHost.MatchString(m.Witness) {
			d.errorf(we[0], "membership/witness/name", "%q is not a valid host name", m.Witness)
		}
		if m.WitnessAddr == "" {
			d.errorf(we[0], "membership/witness/address", "required value missing")
		}
	case EtcdExternal:
		if n < 2 {
			d.errorf(e, "membership/variant", "at least two nodes are needed, found %d", n)
		}
		for _, ee := range children(e, "endpoint") {
			u, _ := attr(ee, "url")
			if pu, err := url.Parse(u); err != nil || pu.Scheme != "https" || pu.Host == "" {
				d.errorf(ee, "membership/endpoint/url", "%q must be an https:// address (client TLS)", u)
				continue
			}
			m.Endpoints = append(m.Endpoints, u)
		}
		if len(m.Endpoints) == 0 {
			d.errorf(e, "membership/endpoint", "variant=\"external\" needs at least one <endpoint url=\"https://...\"/>")
		}
		parseTLS(d, e, m)
	default:
		d.errorf(e, "membership/variant", "%q is not embedded, witness or external", m.Variant)
	}
}

func parseTLS(d *doc, e *etree.Element, m *Membership) {
	ts := children(e, "tls")
	if len(ts) != 1 {
		d.errorf(e, "membership/tls", "variant=\"external\" needs one <tls ca=... cert=... key=.../>, found %d", len(ts))
		return
	}
	for _, f := range []struct {
		name string
		p    *string
	}{{"ca", &m.CA}, {"cert", &m.Cert}, {"key", &m.KeyFile}} {
		v, _ := attr(ts[0], f.name)
		if !strings.HasPrefix(v, "/") {
			d.errorf(ts[0], "membership/tls/"+f.name, "%q must be an absolute path", v)
		}
		*f.p = v
	}
}
