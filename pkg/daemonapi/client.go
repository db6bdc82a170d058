package daemonapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/linuxha-ng/linuxha/pkg/config"
	"github.com/linuxha-ng/linuxha/pkg/layout"
	"github.com/linuxha-ng/linuxha/pkg/state"
	"github.com/linuxha-ng/linuxha/pkg/wire"
)

// Client reaches the cluster daemons of either node, as the tools do:
// the local one on the loopback and the node's addresses, the remote one
// on each of its topology addresses in turn and then its name (L1862).
type Client struct {
	Cfg     *config.Cluster
	Me      string // this host's node name ("" when it is not a node)
	Timeout time.Duration
	// Local, when not nil, answers requests to this node's daemon
	// in-process: cldaemon sets it for the starts it runs itself, which
	// would otherwise reach their own daemon through a connection, the
	// key's handshake and the admission check each time.
	Local func(ctx context.Context, req string) string
	codec *wire.Codec
	top   state.Topology
}

// NewClient prepares a client from the node's configuration files.
func NewClient(l layout.Layout, cfg *config.Cluster) (*Client, error) {
	host := cfg.ThisNode()
	codec, err := wire.NewCodec(wire.FramingOf(cfg.Framing), cfg.Name, cfg.Key, wire.WithFrom(wire.Svc(host, filepath.Base(os.Args[0]))))
	if err != nil {
		return nil, err
	}
	c := &Client{Cfg: cfg, codec: codec, Timeout: 2 * time.Second}
	c.top, _ = state.ReadTopology(l.Topology())
	if _, ok := cfg.Node(host); ok {
		c.Me = host
	}
	return c, nil
}

// Peer names the other node.
func (c *Client) Peer() string {
	if p, ok := c.Cfg.Peer(c.Me); ok {
		return p.Name
	}
	return ""
}

// Addrs lists where node's daemon listens.
func (c *Client) Addrs(node string) []string { return c.AddrsPort(node, c.Cfg.Port) }

// AddrsPort lists node's addresses with port: the loopback first for this
// node, then every card's address, then the name for the other node.
func (c *Client) AddrsPort(node string, p int) []string {
	port := strconv.Itoa(p)
	var out []string
	if node == c.Me {
		out = append(out, net.JoinHostPort("127.0.0.1", port))
	}
	for _, ca := range c.top.Addrs(node) {
		out = append(out, net.JoinHostPort(ca.Prefix.Addr().String(), port))
	}
	if node != c.Me {
		out = append(out, net.JoinHostPort(node, port))
	}
	return out
}

// CallService sends req to another of node's servers that speaks the
// cluster protocol with the cluster key, such as an application's Lems
// (L7357), named service in envelopes.
func (c *Client) CallService(ctx context.Context, node string, port int, service, req string) (string, error) {
	reply, _, err := wire.Call(ctx, c.codec, wire.Svc(node, service), c.AddrsPort(node, port), req, c.Timeout)
	return reply, err
}

// PeerIPs lists the other node's topology addresses: the hosts a server
// of this node admits besides its own root (package admit).
func (c *Client) PeerIPs() []netip.Addr {
	var out []netip.Addr
	for _, ca := range c.top.Addrs(c.Peer()) {
		out = append(out, ca.Prefix.Addr())
	}
	return out
}

// Codec is the cluster's framing and key, for servers that share it.
func (c *Client) Codec() *wire.Codec { return c.codec }

// Call sends req to node's daemon.
func (c *Client) Call(ctx context.Context, node, req string) (string, error) {
	if c.Local != nil && node == c.Me {
		return c.Local(ctx, req), nil
	}
	reply, _, err := wire.Call(ctx, c.codec, wire.Svc(node, Service), c.Addrs(node), req, c.Timeout)
	return reply, err
}

// ErrNoDaemon means no cluster daemon answered on either node.
var ErrNoDaemon = errors.New("no cluster daemon is running")

// Any sends req to the local daemon, or to the other node's when the
// local one does not answer; it returns the node that answered.
func (c *Client) Any(ctx context.Context, req string) (reply, node string, err error) {
	for _, n := range []string{c.Me, c.Peer()} {
		if n == "" {
			continue
		}
		if reply, err := c.Call(ctx, n, req); err == nil {
			return reply, n, nil
		}
	}
	return "", "", ErrNoDaemon
}

// CallJSON sends req to node's daemon and decodes its JSON reply into v.
func (c *Client) CallJSON(ctx context.Context, node, req string, v any) error {
	reply, err := c.Call(ctx, node, req)
	if err != nil {
		return err
	}
	if err := json.Unmarshal([]byte(reply), v); err != nil {
		return fmt.Errorf("%s from %s: %w (reply %.80q)", req, node, err, reply)
	}
	return nil
}

// AppStatus asks node's daemon for app's status with the options o.
func (c *Client) AppStatus(ctx context.Context, node, app string, o StatusOptions) (AppStatus, error) {
	reply, err := c.Call(ctx, node, o.Request(app))
	if err != nil {
		return AppStatus{}, err
	}
	return ParseAppStatus(reply, o)
}

// AnyAppStatus asks either daemon, as Any does; it returns the node that
// answered.
func (c *Client) AnyAppStatus(ctx context.Context, app string, o StatusOptions) (AppStatus, string, error) {
	reply, via, err := c.Any(ctx, o.Request(app))
	if err != nil {
		return AppStatus{}, "", err
	}
	st, err := ParseAppStatus(reply, o)
	return st, via, err
}

// AppStatusWhereRunning asks via's daemon (either daemon, as Any does,
// when via is "") for app, then the daemon of the node running it, which
// alone knows its Lems and its volumes' sync state. It answers the
// best-informed reply and the node that gave it; an error from the first
// daemon is ErrNoDaemon when none answered, else what the parse found.
func (c *Client) AppStatusWhereRunning(ctx context.Context, via, app string, o StatusOptions) (AppStatus, string, error) {
	var st AppStatus
	var err error
	if via == "" {
		st, via, err = c.AnyAppStatus(ctx, app, o)
	} else {
		st, err = c.AppStatus(ctx, via, app, o)
	}
	if err != nil {
		return st, via, err
	}
	if st.Node != "" && st.Node != via {
		if there, err := c.AppStatus(ctx, st.Node, app, o); err == nil {
			return there, st.Node, nil
		}
	}
	return st, via, nil
}

// Apps asks node's daemon for the registered applications.
func (c *Client) Apps(ctx context.Context, node string) ([]string, error) {
	reply, err := c.Call(ctx, node, AppList)
	if err != nil {
		return nil, err
	}
	return ParseAppList(reply)
}

// NodeState asks via's daemon for the state it holds of node.
func (c *Client) NodeState(ctx context.Context, via, node string) (string, error) {
	return c.Call(ctx, via, Req(GetNodeState, "node", node))
}

// Echo asks node's daemon for its own state without counting as a
// heartbeat (check=y, L7639).
func (c *Client) Echo(ctx context.Context, node string) (string, error) {
	return c.Call(ctx, node, Req(Echo, "check", "y"))
}

// Up reports whether node's daemon answers ECHO with UP: it is in the
// formed cluster (not forming, not absent).
func (c *Client) Up(ctx context.Context, node string) bool {
	r, err := c.Echo(ctx, node)
	return err == nil && r == NodeUp
}

// Autostart asks node's daemon for the applications to start with the
// cluster (AUTOSTARTLIST).
func (c *Client) Autostart(ctx context.Context, node string) ([]string, error) {
	reply, err := c.Call(ctx, node, AutostartList)
	if err != nil {
		return nil, err
	}
	return ParseOKList(AutostartList, reply)
}

// ValidNodes asks either daemon for app's valid nodes (GETVALIDNODES).
func (c *Client) ValidNodes(ctx context.Context, app string) ([]string, error) {
	reply, _, err := c.Any(ctx, Req(GetValidNodes, "app", app))
	if err != nil {
		return nil, err
	}
	return ParseOKList(GetValidNodes, reply)
}

// Load asks node's daemon for its 1-minute load average (LOADAVERAGE,
// for LEAST_CPU_LOAD).
func (c *Client) Load(ctx context.Context, node string) (float64, error) {
	reply, err := c.Call(ctx, node, LoadAverage)
	if err != nil {
		return 0, err
	}
	return ParseLoad(reply)
}
