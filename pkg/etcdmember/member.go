// Package etcdmember runs this node's voting etcd member in the etcd
// membership mode (issue 23): embedded in cldaemon on each node, or alone
// on a pair's witness host. It holds only the member's settings and its
// life; what is stored in etcd, and the decisions taken on it, belong to
// pkg/owner and pkg/ownership.
package etcdmember

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	"go.etcd.io/etcd/server/v3/embed"
)

// Config is one member's settings. Peer and client URLs are on the
// topology's networks: a member answers only there.
type Config struct {
	Name    string
	DataDir string // /var/lib/linuxha/etcd on a node
	// PeerURL and ClientURL are this member's; Peers maps every voting
	// member's name (this one included) to its peer URL: etcd's
	// initial cluster.
	PeerURL, ClientURL string
	Peers              map[string]string
	// Cluster names the cluster: etcd's initial-cluster-token, so that
	// members of two clusters never join each other.
	Cluster string
	// Heartbeat and Election are raft's timings (clconf.xml's
	// <membership heartbeat election>).
	Heartbeat, Election time.Duration
	// LogFile receives etcd's own log (JSON lines, zap); empty means
	// standard error.
	LogFile string
	// LogLevel is etcd's: "error" unless set.
	LogLevel string
	// TLS, when set, secures the client and peer URLs (https://): the
	// member presents Cert and Key and admits only clients and peers
	// whose certificates CA signed.
	TLS *TLSFiles
}

// TLSFiles are PEM files: a CA's certificate, and a certificate it
// signed with its key.
type TLSFiles struct {
	CA, Cert, Key string
}

// Member is a running etcd member.
type Member struct {
	e    *embed.Etcd
	once sync.Once // Close stops the member once
}

func parseURL(field, s string) (url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return url.URL{}, fmt.Errorf("etcd member: %s %q is not an http(s)://host:port address", field, s)
	}
	return *u, nil
}

// embedConfig turns c into etcd's configuration.
func embedConfig(c Config) (*embed.Config, error) {
	if c.Name == "" || c.DataDir == "" {
		return nil, fmt.Errorf("etcd member: a name and a data directory are required")
	}
	if _, ok := c.Peers[c.Name]; !ok {
		return nil, fmt.Errorf("etcd member: %s is not among the members %v", c.Name, names(c.Peers))
	}
	peer, err := parseURL("peer URL", c.PeerURL)
	if err != nil {
		return nil, err
	}
	client, err := parseURL("client URL", c.ClientURL)
	if err != nil {
		return nil, err
	}
	var initial []string
	for _, n := range names(c.Peers) {
		if _, err := parseURL("peer URL of "+n, c.Peers[n]); err != nil {
			return nil, err
		}
		initial = append(initial, n+"="+c.Peers[n])
	}
	cfg := embed.NewConfig()
	cfg.Name, cfg.Dir = c.Name, c.DataDir
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{peer}, []url.URL{peer}
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{client}, []url.URL{client}
	cfg.InitialCluster = strings.Join(initial, ",")
	cfg.InitialClusterToken = "linuxha-" + c.Cluster
	cfg.ClusterState = embed.ClusterStateFlagNew
	if c.Heartbeat > 0 {
		cfg.TickMs = uint(c.Heartbeat / time.Millisecond)
	}
	if c.Election > 0 {
		cfg.ElectionMs = uint(c.Election / time.Millisecond)
	}
	if t := c.TLS; t != nil {
		info := transport.TLSInfo{CertFile: t.Cert, KeyFile: t.Key, TrustedCAFile: t.CA, ClientCertAuth: true}
		cfg.ClientTLSInfo, cfg.PeerTLSInfo = info, info
	}
	cfg.LogLevel = "error"
	if c.LogLevel != "" {
		cfg.LogLevel = c.LogLevel
	}
	if c.LogFile != "" {
		cfg.LogOutputs = []string{c.LogFile}
	}
	// Ownership keys are few and small; a snapshot every 10000 writes
	// and compaction of what is older than an hour keep the data
	// directory small (etcd's defaults keep 100000 and never compact).
	cfg.SnapshotCount = 10000
	cfg.AutoCompactionMode, cfg.AutoCompactionRetention = "periodic", "1h"
	// A member that restarts alone must not wait a whole election
	// timeout before taking part; etcd advances its first election
	// (the default) — kept explicit because the lease TTL is checked
	// against one election.
	cfg.InitialElectionTickAdvance = true
	return cfg, nil
}

func names(m map[string]string) []string {
	var ns []string
	for n := range m {
		ns = append(ns, n)
	}
	sort.Strings(ns)
	return ns
}

// Start starts the member and waits until it serves clients — it has
// joined a quorum — or until ctx ends, when it is stopped again.
func Start(ctx context.Context, c Config) (*Member, error) {
	cfg, err := embedConfig(c)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("etcd member %s: %w", c.Name, err)
	}
	if c.LogFile != "" {
		if err := os.MkdirAll(filepath.Dir(c.LogFile), 0o755); err != nil {
			return nil, fmt.Errorf("etcd member %s: %w", c.Name, err)
		}
	}
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, fmt.Errorf("etcd member %s: %w", c.Name, err)
	}
	select {
	case <-e.Server.ReadyNotify():
		return &Member{e: e}, nil
	case err := <-e.Err():
		e.Close()
		return nil, fmt.Errorf("etcd member %s: %w", c.Name, err)
	case <-ctx.Done():
		e.Close()
		return nil, fmt.Errorf("etcd member %s: no quorum: %w", c.Name, ctx.Err())
	}
}

// Err reports the member's fatal errors.
func (m *Member) Err() <-chan error { return m.e.Err() }

// Close stops the member.
func (m *Member) Close() { m.once.Do(m.e.Close) }
