// Package probe holds the echo probes that ask whether a host answers:
// ICMP through pro-bing, UDP and TCP echo, as Global.echotype says
// (L1582). The daemons probe the peer with them, Lems its net monitors.
package probe

import (
	"context"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	probing "github.com/prometheus-community/pro-bing"
)

// Echo sends one echo of the given type ("ICMP", "UDP" or "TCP") to addr
// and reports whether it was answered within timeout. UDP and TCP use the
// echo service (port 7), which must be enabled on the nodes (L1588-1601).
func Echo(ctx context.Context, kind, addr string, timeout time.Duration) bool {
	switch strings.ToUpper(kind) {
	case "UDP":
		return udpEcho(ctx, addr, timeout)
	case "TCP":
		d := net.Dialer{Timeout: timeout}
		c, err := d.DialContext(ctx, "tcp", net.JoinHostPort(addr, "7"))
		if err != nil {
			return false
		}
		c.Close()
		return true
	}
	return Ping(ctx, addr, timeout)
}

// Answering echoes every address at once and returns those that answered
// within timeout: a probe of several silent addresses costs one timeout,
// not one each.
func Answering(ctx context.Context, kind string, addrs []string, timeout time.Duration) []string {
	res := make(chan string, len(addrs))
	for _, a := range addrs {
		go func() {
			if !Echo(ctx, kind, a, timeout) {
				a = ""
			}
			res <- a
		}()
	}
	var out []string
	for range addrs {
		if a := <-res; a != "" {
			out = append(out, a)
		}
	}
	return out
}

// Ping sends one ICMP echo and reports whether it was answered within
// timeout. It returns at the reply or at timeout rather than when
// pro-bing's Run does: Run waits for its receiver, whose read deadline
// backs off to about 100 ms, so a silent address cost up to timeout +
// 100 ms and even an answer arriving after a few milliseconds could wait
// out a long read — time that a dead-node verdict and a fail-over spend
// doing nothing. The pinger is stopped on return; its receiver finishes
// by itself within that back-off and holds nothing of ours.
func Ping(ctx context.Context, addr string, timeout time.Duration) bool {
	p, err := probing.NewPinger(addr)
	if err != nil {
		return false
	}
	p.SetPrivileged(os.Geteuid() == 0)
	p.Count = 1
	p.Timeout = timeout
	answered := make(chan struct{})
	var once sync.Once
	p.OnRecv = func(*probing.Packet) { once.Do(func() { close(answered) }) }
	ran := make(chan error, 1)
	go func() { ran <- p.RunWithContext(ctx) }()
	t := time.NewTimer(timeout)
	defer t.Stop()
	defer p.Stop()
	select {
	case <-answered:
		return true
	case err := <-ran:
		return err == nil && p.Statistics().PacketsRecv > 0
	case <-t.C:
	case <-ctx.Done():
	}
	// A reply may have raced the timer.
	select {
	case <-answered:
		return true
	default:
		return false
	}
}

func udpEcho(ctx context.Context, addr string, timeout time.Duration) bool {
	d := net.Dialer{Timeout: timeout}
	c, err := d.DialContext(ctx, "udp", net.JoinHostPort(addr, "7"))
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(timeout))
	if _, err := c.Write([]byte("linuxha")); err != nil {
		return false
	}
	buf := make([]byte, 16)
	n, err := c.Read(buf)
	return err == nil && string(buf[:n]) == "linuxha"
}
