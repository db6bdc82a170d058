package admit

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"syscall"
	"testing"

	"github.com/vishvananda/netlink"
)

// pair returns both ends of a loopback TCP connection.
func pair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, err = ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

func TestLocalRootAdmitted(t *testing.T) {
	_, s := pair(t)
	p := &Policy{}
	if err := p.Admit(s); err != nil {
		t.Fatalf("own local socket refused: %v", err)
	}
}

func TestLocalOtherUserRefused(t *testing.T) {
	_, s := pair(t)
	p := &Policy{Owner: func(net.Addr, net.Addr) (uint32, bool, error) { return uint32(os.Geteuid() + 1000), true, nil }}
	if err := p.Admit(s); !errors.Is(err, ErrUser) {
		t.Fatalf("another user's socket: %v, want ErrUser", err)
	}
}

// from is a connection that came from another host.
type from struct {
	net.Conn
	remote net.Addr
}

func (f from) RemoteAddr() net.Addr { return f.remote }

func TestStrangerRefusedPeerAdmitted(t *testing.T) {
	_, s := pair(t)
	c := from{s, &net.TCPAddr{IP: net.ParseIP("172.16.177.254"), Port: 40000}}
	notLocal := func(net.Addr, net.Addr) (uint32, bool, error) { return 0, false, nil }
	p := &Policy{Owner: notLocal}
	if err := p.Admit(c); !errors.Is(err, ErrStranger) {
		t.Fatalf("remote host not in the topology: %v, want ErrStranger", err)
	}
	p.Peers = func() []netip.Addr { return []netip.Addr{netip.MustParseAddr("172.16.177.254")} }
	if err := p.Admit(c); err != nil {
		t.Fatalf("peer address refused: %v", err)
	}
	// Without sock_diag a stranger is still refused.
	p = &Policy{Owner: func(net.Addr, net.Addr) (uint32, bool, error) { return 0, false, errors.New("no inet_diag") }}
	if err := p.Admit(c); !errors.Is(err, ErrStranger) {
		t.Fatalf("stranger without sock_diag: %v, want ErrStranger", err)
	}
}

func TestSockDiagFindsOnlyLocal(t *testing.T) {
	c, s := pair(t)
	uid, local, err := sockDiagOwner(s.RemoteAddr(), s.LocalAddr())
	if err != nil || !local || int(uid) != os.Geteuid() {
		t.Fatalf("client end of a loopback connection: uid %d local %v err %v", uid, local, err)
	}
	_ = c
	far := &net.TCPAddr{IP: net.ParseIP("192.0.2.7"), Port: 40000}
	if _, local, err := sockDiagOwner(far, s.LocalAddr()); err != nil || local {
		t.Fatalf("an address of no local socket: local %v err %v", local, err)
	}
}

// The uid comes from the client's own socket: a connection opened by
// nobody is nobody's, not the listener's root (a wrong offset into
// inet_diag_msg, or the server's end, would read root's 0).
func TestSockDiagOwnerOfOtherUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to connect as another user")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	cmd := exec.Command("bash", "-c", fmt.Sprintf("exec 3<>/dev/tcp/127.0.0.1/%d; read -t 10 <&3", port))
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close() // ends the client's read
	uid, local, err := sockDiagOwner(s.RemoteAddr(), s.LocalAddr())
	if err != nil || !local || uid != 65534 {
		t.Fatalf("client end opened by uid 65534: uid %d local %v err %v", uid, local, err)
	}
	if err := (&Policy{}).Admit(s); !errors.Is(err, ErrUser) {
		t.Fatalf("nobody's connection: %v, want ErrUser", err)
	}
}

// BenchmarkSockDiagOwner compares the exact lookup with netlink.SocketGet
// (a filtered dump of every TCP socket of the host) while 500 other
// local connections are open, as during a takeover of many applications.
func BenchmarkSockDiagOwner(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	var c net.Conn
	for range 500 {
		if c, err = net.Dial("tcp", ln.Addr().String()); err != nil {
			b.Fatal(err)
		}
		defer c.Close()
	}
	b.Run("exact", func(b *testing.B) {
		for b.Loop() {
			if _, ok, err := sockDiagOwner(c.LocalAddr(), c.RemoteAddr()); !ok || err != nil {
				b.Fatal(ok, err)
			}
		}
	})
	b.Run("netlink.SocketGet", func(b *testing.B) {
		for b.Loop() {
			if _, err := netlink.SocketGet(c.LocalAddr(), c.RemoteAddr()); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// A kernel that cannot look sockets up (no inet_diag) still admits
// loopback, once warned, and refuses every other source.
func TestNoSockDiag(t *testing.T) {
	_, s := pair(t)
	var warned []string
	p := &Policy{Owner: func(net.Addr, net.Addr) (uint32, bool, error) { return 0, false, nil },
		Warn: func(f string, a ...any) { warned = append(warned, f) }}
	for i := 0; i < 3; i++ {
		if err := p.Admit(s); err != nil {
			t.Fatalf("loopback refused without sock_diag: %v", err)
		}
	}
	if len(warned) != 1 {
		t.Fatalf("warned %d times", len(warned))
	}
}
