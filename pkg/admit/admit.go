// Package admit decides which TCP connections a cluster server serves at
// all, before it reads a byte (SECURITY.md): connections from the other
// node's topology addresses, and connections from this host whose socket
// belongs to root (or to the server's own user). Everything else — any
// other host of the LAN, any unprivileged local user — is closed at once
// and so never holds one of the server's connection slots.
//
// A local connection is recognised by asking the kernel (sock_diag) for
// the client's end of it: only a socket of this host's network namespace
// is found, and it carries its owner's uid.
package admit

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"syscall"

	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// Errors a connection is refused with.
var (
	ErrStranger = errors.New("not a cluster address")
	ErrUser     = errors.New("local connection from a non-root user")
)

// Policy admits the peer's addresses and root's local sockets.
type Policy struct {
	// Peers returns the other node's addresses now (they change when
	// the topology is re-read); nil admits no remote host.
	Peers func() []netip.Addr
	// Owner finds the uid owning the client end of a local connection;
	// nil uses sock_diag. ok is false when the client is not local.
	Owner func(client, server net.Addr) (uid uint32, ok bool, err error)
	// Warn is told, once, that the kernel cannot say who owns a local
	// socket (no inet_diag), so loopback is admitted unchecked.
	Warn func(format string, args ...any)

	once sync.Once // guards the one Warn
}

// Admit is a wire.Server.Admit.
func (p *Policy) Admit(c net.Conn) error {
	src := addrOf(c.RemoteAddr())
	if p.Peers != nil {
		for _, a := range p.Peers() {
			if a.Unmap() == src {
				return nil
			}
		}
	}
	owner := p.Owner
	if owner == nil {
		owner = sockDiagOwner
	}
	uid, local, err := owner(c.RemoteAddr(), c.LocalAddr())
	if err == nil && !local && src.IsLoopback() {
		// The client end of a loopback connection is on this host by
		// definition: not finding it means the kernel cannot look
		// sockets up (inet_diag not loaded, as in a minimal VM).
		err = errors.New("sock_diag found no socket for a loopback connection")
	}
	if err != nil {
		// Loopback stays usable (the tools need it), unchecked; other
		// sources are refused.
		if src.IsLoopback() {
			p.once.Do(func() {
				if p.Warn != nil {
					p.Warn("Cannot tell who owns local connections (%v): admitting loopback without the root check; load the inet_diag and tcp_diag modules", err)
				}
			})
			return nil
		}
		return fmt.Errorf("%w (%s)", ErrStranger, src)
	}
	if !local {
		return fmt.Errorf("%w (%s)", ErrStranger, src)
	}
	if uid != 0 && int(uid) != os.Geteuid() {
		return fmt.Errorf("%w (uid %d)", ErrUser, uid)
	}
	return nil
}

// sockDiagOwner looks the client's socket up: found means local.
//
// It asks for that one socket (SOCK_DIAG_BY_FAMILY without NLM_F_DUMP:
// the kernel's inet_diag_cmd_exact, a hash lookup). netlink.SocketGet
// sends the same request as a dump, which walks every TCP socket of the
// host - all namespaces share the table - and keeps the one that
// matches: in a takeover of 30 applications, whose starts open a few
// local connections each while the previous ones linger in TIME_WAIT,
// those walks were more than half of cldaemon's CPU and a good share of
// cllockd's (perf, issue 20).
func sockDiagOwner(client, server net.Addr) (uint32, bool, error) {
	c, ok1 := client.(*net.TCPAddr)
	s, ok2 := server.(*net.TCPAddr)
	if !ok1 || !ok2 {
		return 0, false, fmt.Errorf("sock_diag: %T, %T: not TCP", client, server)
	}
	req := nl.NewNetlinkRequest(nl.SOCK_DIAG_BY_FAMILY, 0)
	req.AddData(diagReq(c, s))
	msgs, err := req.Execute(unix.NETLINK_INET_DIAG, nl.SOCK_DIAG_BY_FAMILY)
	switch {
	case errors.Is(err, syscall.ENOENT):
		return 0, false, nil // no such socket here: the client is elsewhere
	case err != nil:
		return 0, false, err
	case len(msgs) == 0:
		return 0, false, errors.New("sock_diag: no answer")
	}
	return diagUID(msgs[0])
}

// diagRequest is struct inet_diag_req_v2 (linux/inet_diag.h) naming one
// socket by its four-tuple, seen from the client's end.
type diagRequest []byte

func (r diagRequest) Serialize() []byte { return r }
func (r diagRequest) Len() int          { return len(r) }

func diagReq(client, server *net.TCPAddr) diagRequest {
	b := make([]byte, 56)
	src, dst := client.IP.To4(), server.IP.To4()
	b[0] = unix.AF_INET
	if src == nil || dst == nil {
		b[0], src, dst = unix.AF_INET6, client.IP.To16(), server.IP.To16()
	}
	b[1] = unix.IPPROTO_TCP
	binary.NativeEndian.PutUint32(b[4:], 0xffffffff) // any state
	binary.BigEndian.PutUint16(b[8:], uint16(client.Port))
	binary.BigEndian.PutUint16(b[10:], uint16(server.Port))
	copy(b[12:28], src)
	copy(b[28:44], dst)
	// b[44:48] interface 0; the cookie "none" (INET_DIAG_NOCOOKIE), or
	// the kernel would compare it with the socket's.
	binary.NativeEndian.PutUint32(b[48:], nl.TCPDIAG_NOCOOKIE)
	binary.NativeEndian.PutUint32(b[52:], nl.TCPDIAG_NOCOOKIE)
	return b
}

// diagUID reads idiag_uid from a struct inet_diag_msg.
func diagUID(m []byte) (uint32, bool, error) {
	const uidAt = 4 + 48 + 12 // family..retrans, id, expires rqueue wqueue
	if len(m) < uidAt+4 {
		return 0, false, fmt.Errorf("sock_diag: short answer (%d bytes)", len(m))
	}
	return binary.NativeEndian.Uint32(m[uidAt:]), true, nil
}

func addrOf(a net.Addr) netip.Addr {
	if t, ok := a.(*net.TCPAddr); ok {
		if ip, ok := netip.AddrFromSlice(t.IP); ok {
			return ip.Unmap()
		}
	}
	return netip.Addr{}
}
