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
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"syscall"

	"github.com/vishvananda/netlink"
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
func sockDiagOwner(client, server net.Addr) (uint32, bool, error) {
	s, err := netlink.SocketGet(client, server)
	switch {
	case err == nil:
		return s.UID, true, nil
	case errors.Is(err, syscall.ENOENT), strings.Contains(err.Error(), "no message nor error"):
		return 0, false, nil // no such socket here: the client is elsewhere
	}
	return 0, false, err
}

func addrOf(a net.Addr) netip.Addr {
	if t, ok := a.(*net.TCPAddr); ok {
		if ip, ok := netip.AddrFromSlice(t.IP); ok {
			return ip.Unmap()
		}
	}
	return netip.Addr{}
}
