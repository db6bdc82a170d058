package cluster

import (
	"context"
	"net"
	"strconv"
	"time"

	"github.com/linuxha-ng/linuxha/pkg/probe"
)

// Transport is the network a daemon uses: where it listens for requests
// and heartbeats, how it connects to the other daemon, and how it asks
// whether addresses answer an echo. The host's network is the default;
// the in-process tests run two daemons on an internal/mocknet network
// (memberlist's MockNetwork is the model), without root.
type Transport interface {
	// Listen and ListenPacket bind port on every address of the node.
	Listen(port int) (net.Listener, error)
	ListenPacket(port int) (net.PacketConn, error)
	// Dial connects to "host:port" within ctx.
	Dial(ctx context.Context, addr string) (net.Conn, error)
	// Answering echoes every address at once (Global.echotype kind)
	// and returns those that answered within timeout.
	Answering(ctx context.Context, kind string, addrs []string, timeout time.Duration) []string
}

// hostNet is the machine's own network.
type hostNet struct{}

func (hostNet) Listen(port int) (net.Listener, error) {
	return net.Listen("tcp", net.JoinHostPort("", strconv.Itoa(port)))
}

func (hostNet) ListenPacket(port int) (net.PacketConn, error) {
	return net.ListenPacket("udp", net.JoinHostPort("", strconv.Itoa(port)))
}

func (hostNet) Dial(ctx context.Context, addr string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "tcp", addr)
}

func (hostNet) Answering(ctx context.Context, kind string, addrs []string, timeout time.Duration) []string {
	return probe.Answering(ctx, kind, addrs, timeout)
}
