// Package mocknet is an in-memory network for running several daemons in
// one test process, without root: hosts owning IP addresses, stream
// connections (net.Pipe) and datagrams between them, links that can be
// cut and hosts that can crash. memberlist's MockNetwork is the model;
// here the addresses are IPs on networks, so that a daemon's topology,
// its heartbeat paths and its admission by source address are those of
// a real cluster. Nothing in it sleeps on its own clock except a dial or
// an echo that goes unanswered (it waits for the caller's deadline, as
// a lost packet does), so tests may run it in a testing/synctest bubble.
package mocknet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"time"
)

// Network joins the hosts.
type Network struct {
	// mu guards every field below and each Host's down flag.
	mu        sync.Mutex
	owner     map[netip.Addr]*Host
	listeners map[*Host]map[int]*listener
	packets   map[*Host]map[int]*packetConn
	cut       map[[2]netip.Addr]bool
	ephemeral int
}

// New makes an empty network.
func New() *Network {
	return &Network{owner: map[netip.Addr]*Host{}, listeners: map[*Host]map[int]*listener{},
		packets: map[*Host]map[int]*packetConn{}, cut: map[[2]netip.Addr]bool{}, ephemeral: 40000}
}

// Host is one machine: its addresses and what listens on them.
type Host struct {
	net   *Network
	Name  string
	addrs []netip.Addr
	down  bool
}

// AddHost adds a host with addresses (one per network, as cards are);
// a malformed or taken address panics, the test being wrong.
func (n *Network) AddHost(name string, addrs ...string) *Host {
	n.mu.Lock()
	defer n.mu.Unlock()
	h := &Host{net: n, Name: name}
	for _, s := range addrs {
		a := netip.MustParseAddr(s)
		if n.owner[a] != nil {
			panic(fmt.Sprintf("mocknet: %s is already %s's", a, n.owner[a].Name))
		}
		n.owner[a] = h
		h.addrs = append(h.addrs, a)
	}
	n.listeners[h], n.packets[h] = map[int]*listener{}, map[int]*packetConn{}
	return h
}

// Cut stops all traffic between two addresses, both ways, as a pulled
// cable or a failed switch port does; Restore brings it back.
func (n *Network) Cut(a, b string) { n.setCut(a, b, true) }

// Restore undoes Cut.
func (n *Network) Restore(a, b string) { n.setCut(a, b, false) }

func (n *Network) setCut(a, b string, v bool) {
	x, y := netip.MustParseAddr(a), netip.MustParseAddr(b)
	n.mu.Lock()
	defer n.mu.Unlock()
	n.cut[[2]netip.Addr{x, y}], n.cut[[2]netip.Addr{y, x}] = v, v
}

// Crash takes the host off the network at once: nothing reaches it or
// leaves it, and what listened on it is closed, as a reset frees it.
// The daemons running "on" it must be stopped by the test.
func (h *Host) Crash() {
	n := h.net
	n.mu.Lock()
	h.down = true
	var ls []*listener
	var ps []*packetConn
	for _, l := range n.listeners[h] {
		ls = append(ls, l)
	}
	for _, p := range n.packets[h] {
		ps = append(ps, p)
	}
	n.mu.Unlock()
	for _, l := range ls {
		l.Close()
	}
	for _, p := range ps {
		p.Close()
	}
}

// Boot brings a crashed host back, with nothing listening.
func (h *Host) Boot() {
	h.net.mu.Lock()
	h.down = false
	h.net.mu.Unlock()
}

// route finds where a packet from h to dst goes and the source address
// it carries: h's address on dst's network (the longest common prefix),
// or loopback for loopback. ok is false when it is lost. n.mu is held.
func (n *Network) route(h *Host, dst netip.Addr) (src netip.Addr, to *Host, ok bool) {
	if h.down {
		return netip.Addr{}, nil, false
	}
	if dst.IsLoopback() {
		return dst, h, true
	}
	to = n.owner[dst]
	if to == nil || to.down || len(h.addrs) == 0 {
		return netip.Addr{}, nil, false
	}
	src, best := h.addrs[0], -1
	for _, a := range h.addrs {
		if l := commonBits(a, dst); l > best {
			src, best = a, l
		}
	}
	if n.cut[[2]netip.Addr{src, dst}] {
		return netip.Addr{}, nil, false
	}
	return src, to, true
}

func commonBits(a, b netip.Addr) int {
	x, y := a.As16(), b.As16()
	for i := range x {
		if d := x[i] ^ y[i]; d != 0 {
			for j := 7; j >= 0; j-- {
				if d&(1<<j) != 0 {
					return i*8 + 7 - j
				}
			}
		}
	}
	return 128
}

// Listen accepts stream connections to port on every address of h and
// on its loopback, as a socket bound to ":port" does.
func (h *Host) Listen(port int) (net.Listener, error) {
	n := h.net
	n.mu.Lock()
	defer n.mu.Unlock()
	if h.down {
		return nil, fmt.Errorf("mocknet: %s is down", h.Name)
	}
	if n.listeners[h][port] != nil {
		return nil, &net.OpError{Op: "listen", Net: "tcp", Err: os.NewSyscallError("bind", syscall.EADDRINUSE)}
	}
	l := &listener{host: h, port: port, conns: make(chan net.Conn, 16), done: make(chan struct{})}
	n.listeners[h][port] = l
	return l, nil
}

// Dial connects to "ip:port". A connection that is lost on the way
// waits for ctx, as an unanswered SYN waits for the dial's timeout; a
// port nobody listens on is refused at once.
func (h *Host) Dial(ctx context.Context, addr string) (net.Conn, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: fmt.Errorf("mocknet: %q is not an address", addr)}
	}
	n := h.net
	n.mu.Lock()
	src, to, ok := n.route(h, ap.Addr())
	var l *listener
	if ok {
		l = n.listeners[to][int(ap.Port())]
	}
	n.ephemeral++
	local := &net.TCPAddr{IP: src.AsSlice(), Port: n.ephemeral}
	n.mu.Unlock()
	remote := net.TCPAddrFromAddrPort(ap)
	lost := func() (net.Conn, error) {
		<-ctx.Done()
		return nil, &net.OpError{Op: "dial", Net: "tcp", Addr: remote, Err: ctx.Err()}
	}
	if !ok {
		return lost()
	}
	if l == nil {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Addr: remote, Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	}
	c1, c2 := net.Pipe()
	select {
	case l.conns <- &conn{Conn: c2, local: remote, remote: local}:
		return &conn{Conn: c1, local: local, remote: remote}, nil
	case <-l.done:
		c1.Close()
		c2.Close()
		return nil, &net.OpError{Op: "dial", Net: "tcp", Addr: remote, Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	case <-ctx.Done():
		c1.Close()
		c2.Close()
		return lost()
	}
}

// ListenPacket receives datagrams sent to port on any address of h.
func (h *Host) ListenPacket(port int) (net.PacketConn, error) {
	n := h.net
	n.mu.Lock()
	defer n.mu.Unlock()
	if h.down {
		return nil, fmt.Errorf("mocknet: %s is down", h.Name)
	}
	if n.packets[h][port] != nil {
		return nil, &net.OpError{Op: "listen", Net: "udp", Err: os.NewSyscallError("bind", syscall.EADDRINUSE)}
	}
	p := &packetConn{host: h, port: port, in: make(chan packet, 64), done: make(chan struct{})}
	n.packets[h][port] = p
	return p, nil
}

// Answering reports which of addrs answer an echo from h: those of a
// host that is up and reachable, whatever runs on it, as ICMP does. When
// some do not, it returns after timeout (or ctx), as the real probe does.
func (h *Host) Answering(ctx context.Context, kind string, addrs []string, timeout time.Duration) []string {
	n := h.net
	var out []string
	n.mu.Lock()
	for _, s := range addrs {
		if a, err := netip.ParseAddr(s); err == nil {
			if _, _, ok := n.route(h, a); ok {
				out = append(out, s)
			}
		}
	}
	n.mu.Unlock()
	if len(out) < len(addrs) {
		t := time.NewTimer(timeout)
		defer t.Stop()
		select {
		case <-ctx.Done():
		case <-t.C:
		}
	}
	return out
}

type conn struct {
	net.Conn
	local, remote net.Addr
}

func (c *conn) LocalAddr() net.Addr  { return c.local }
func (c *conn) RemoteAddr() net.Addr { return c.remote }

type listener struct {
	host  *Host
	port  int
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func (l *listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *listener) Close() error {
	l.once.Do(func() {
		close(l.done)
		unbind(l.host.net.listeners, l.host, l.port, l)
	})
	return nil
}

func (l *listener) Addr() net.Addr { return &net.TCPAddr{IP: l.host.ip(), Port: l.port} }

// ip is the host's first address, which its sockets report as theirs.
func (h *Host) ip() net.IP {
	if len(h.addrs) == 0 {
		return nil
	}
	return h.addrs[0].AsSlice()
}

// unbind frees h's port in table (listeners or packets) if v still holds it.
func unbind[T comparable](table map[*Host]map[int]T, h *Host, port int, v T) {
	h.net.mu.Lock()
	defer h.net.mu.Unlock()
	if table[h][port] == v {
		delete(table[h], port)
	}
}

type packet struct {
	data []byte
	from net.Addr
}

// packetConn delivers datagrams; it has no read deadlines (the daemons
// end their readers by closing the socket).
type packetConn struct {
	host *Host
	port int
	in   chan packet
	done chan struct{}
	once sync.Once
}

func (p *packetConn) ReadFrom(b []byte) (int, net.Addr, error) {
	select {
	case pk := <-p.in:
		return copy(b, pk.data), pk.from, nil
	case <-p.done:
		return 0, nil, net.ErrClosed
	}
}

// WriteTo sends a datagram; one that is lost, or finds no socket or a
// full queue, is dropped without an error, as UDP does.
func (p *packetConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	select {
	case <-p.done:
		return 0, net.ErrClosed
	default:
	}
	ua, ok := addr.(*net.UDPAddr)
	if !ok {
		return 0, errors.New("mocknet: not a UDP address")
	}
	dst := ua.AddrPort().Addr().Unmap()
	n := p.host.net
	n.mu.Lock()
	src, to, ok := n.route(p.host, dst)
	var q *packetConn
	if ok {
		q = n.packets[to][ua.Port]
	}
	n.mu.Unlock()
	if q == nil {
		return len(b), nil
	}
	pk := packet{data: append([]byte(nil), b...), from: &net.UDPAddr{IP: src.AsSlice(), Port: p.port}}
	select {
	case q.in <- pk:
	default:
	}
	return len(b), nil
}

func (p *packetConn) Close() error {
	p.once.Do(func() {
		close(p.done)
		unbind(p.host.net.packets, p.host, p.port, p)
	})
	return nil
}

func (p *packetConn) LocalAddr() net.Addr { return &net.UDPAddr{IP: p.host.ip(), Port: p.port} }

func (p *packetConn) SetDeadline(time.Time) error      { return nil }
func (p *packetConn) SetReadDeadline(time.Time) error  { return nil }
func (p *packetConn) SetWriteDeadline(time.Time) error { return nil }
