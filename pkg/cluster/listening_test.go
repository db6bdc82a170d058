package cluster

import (
	"net"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// A port nobody holds is free; one held by a listener too busy to accept
// is not, or the daemon would start a second helper that cannot bind it.
func TestListening(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if !listening(port) {
		t.Fatal("a listening port reported free")
	}
	l.Close()
	if listening(port) {
		t.Fatal("a closed port reported held")
	}

	// A listener that never accepts, with the smallest backlog: once its
	// queue is full the kernel drops further SYNs and a connection
	// times out instead of being refused.
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, _ := syscall.Getsockname(fd)
	port = sa.(*syscall.SockaddrInet4).Port
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	var held []net.Conn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	for range 4 { // fill the accept queue
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			held = append(held, c)
		}
	}
	if _, err := net.DialTimeout("tcp", addr, 300*time.Millisecond); err == nil {
		t.Skip("the kernel accepted beyond the backlog: no busy listener to test here")
	}
	if !listening(port) {
		t.Fatal("a busy listener's port reported free: a second helper would be started on it")
	}
}
