package mocknet

import (
	"context"
	"io"
	"net"
	"testing"
	"testing/synctest"
	"time"
)

// Streams and datagrams carry the sender's address on the receiver's
// network; a cut link loses them (a dial waits for its deadline, as a
// lost SYN does), a crash closes what listened, an unused port refuses.
func TestNetwork(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := New()
		a := n.AddHost("a", "10.0.1.1", "10.0.2.1")
		b := n.AddHost("b", "10.0.1.2", "10.0.2.2")
		ln, err := b.Listen(7)
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				io.WriteString(c, c.RemoteAddr().String())
				c.Close()
			}
		}()
		read := func(addr string) (string, error) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			c, err := a.Dial(ctx, addr)
			if err != nil {
				return "", err
			}
			defer c.Close()
			b, err := io.ReadAll(c)
			return string(b), err
		}
		if got, err := read("10.0.2.2:7"); err != nil || got != "10.0.2.1:40001" {
			t.Errorf("dial on the second network: %q %v", got, err)
		}
		n.Cut("10.0.2.1", "10.0.2.2")
		start := time.Now()
		if _, err := read("10.0.2.2:7"); err == nil || time.Since(start) != time.Second {
			t.Errorf("dial over a cut link: %v after %v", err, time.Since(start))
		}
		if _, err := read("10.0.1.2:7"); err != nil {
			t.Errorf("the other network is not cut: %v", err)
		}
		if _, err := read("10.0.1.2:8"); err == nil {
			t.Error("a port nobody listens on accepted")
		}

		pa, _ := a.ListenPacket(9)
		pb, _ := b.ListenPacket(9)
		pa.WriteTo([]byte("hb"), &net.UDPAddr{IP: net.ParseIP("10.0.2.2"), Port: 9}) // lost: cut
		pa.WriteTo([]byte("hb"), &net.UDPAddr{IP: net.ParseIP("10.0.1.2"), Port: 9})
		buf := make([]byte, 16)
		if k, from, err := pb.ReadFrom(buf); err != nil || string(buf[:k]) != "hb" || from.String() != "10.0.1.1:9" {
			t.Errorf("datagram: %q from %v, %v", buf[:k], from, err)
		}
		if got := a.Answering(context.Background(), "ICMP", []string{"10.0.1.2", "10.0.2.2"}, time.Second); len(got) != 1 || got[0] != "10.0.1.2" {
			t.Errorf("echoes answered: %v", got)
		}

		b.Crash()
		if _, _, err := pb.ReadFrom(buf); err != net.ErrClosed {
			t.Errorf("read on a crashed host: %v", err)
		}
		if got := a.Answering(context.Background(), "ICMP", []string{"10.0.1.2"}, time.Second); len(got) != 0 {
			t.Errorf("a crashed host answered: %v", got)
		}
		pa.Close()
	})
}
