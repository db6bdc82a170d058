package testbed

import (
	"net"
	"testing"
)

// FreeLoopback returns a 127.0.0.1 address with a port no one listens
// on, for servers a test starts on the host itself (etcd members).
func FreeLoopback(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
