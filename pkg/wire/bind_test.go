package wire

import (
	"bufio"
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"
)

// boundServer serves as self and records what it rejected.
func boundServer(t *testing.T, self string) (addr string, rejects func() []error) {
	t.Helper()
	return serve(t, &Server{Codec: codec(t, Authenticated, "c", "k"), Self: self,
		Handler: func(ctx context.Context, req string, _ net.Addr) string {
			return "OK " + EnvelopeOf(ctx).From
		}})
}

// A request reaches only the service it names, and its sender is known
// to the handler.
func TestRecipientBinding(t *testing.T) {
	addr, rejects := boundServer(t, "servera/cldaemon")
	cl := codec(t, Authenticated, "c", "k", WithFrom("servera/clstat"))
	reply, _, err := Call(context.Background(), cl, "servera/cldaemon", []string{addr}, "ECHO", time.Second)
	if err != nil || reply != "OK servera/clstat" {
		t.Fatalf("addressed request: %q %v", reply, err)
	}
	for _, to := range []string{"serverb/cldaemon", "servera/lems/apache", ""} {
		if _, _, err := Call(context.Background(), cl, to, []string{addr}, "STOP_APP app=x", time.Second); err == nil {
			t.Fatalf("request for %q answered by servera/cldaemon", to)
		}
	}
	r := rejects()
	if len(r) != 3 || !errors.Is(r[0], ErrNotMine) {
		t.Fatalf("rejections %v", r)
	}
}

// A frame that was valid on one connection is refused on another (so a
// captured request replays nowhere, not even to a restarted server with
// an empty replay cache), and a reply must answer the request sent.
func TestChallengeBinding(t *testing.T) {
	addr, rejects := boundServer(t, "servera/cldaemon")
	cl := codec(t, Authenticated, "c", "k")
	c1, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c1.Close()
	r1 := bufio.NewReader(c1)
	ch, _ := r1.ReadString('\n')
	frame, _, _ := cl.SealEnv(Envelope{To: "servera/cldaemon", Re: strings.TrimSpace(ch)}, "STOP_APP app=apache")

	// On its own connection it is answered, bound to its ID.
	c1.Write(frame)
	line, err := r1.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	env, _, err := cl.OpenEnv([]byte(line))
	if err != nil || env.From != "servera/cldaemon" || env.Re == "" {
		t.Fatalf("reply envelope %+v %v", env, err)
	}
	// The same frame on a new connection: to the same server, and to a
	// server whose replay cache has never seen it (a fresh codec, as
	// after a restart).
	addr2, rejects2 := boundServer(t, "servera/cldaemon")
	for _, a := range []string{addr, addr2} {
		c2, err := net.Dial("tcp", a)
		if err != nil {
			t.Fatal(err)
		}
		r2 := bufio.NewReader(c2)
		r2.ReadString('\n')
		c2.Write(frame)
		c2.SetReadDeadline(time.Now().Add(2 * time.Second))
		if line, err := r2.ReadString('\n'); err == nil {
			t.Fatalf("replayed frame answered: %q", line)
		}
		c2.Close()
	}
	if r := rejects(); len(r) != 1 || !errors.Is(r[0], ErrReplay) {
		t.Fatalf("same server: %v", r)
	}
	if r := rejects2(); len(r) != 1 || !errors.Is(r[0], ErrUnbound) {
		t.Fatalf("restarted server: %v", r)
	}
}

// A reply that answers another request (one captured earlier, played by
// a host in the middle) is refused by the client.
func TestReplyBinding(t *testing.T) {
	srvCodec := codec(t, Authenticated, "c", "k")
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()
	old, _, _ := srvCodec.SealEnv(Envelope{From: "servera/cldaemon", Re: "0011223344556677"}, "OK")
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.Write([]byte("aa\n"))
		bufio.NewReader(c).ReadString('\n')
		c.Write(old)
	}()
	_, _, err := Call(context.Background(), codec(t, Authenticated, "c", "k"), "servera/cldaemon", []string{ln.Addr().String()}, "ECHO", time.Second)
	if !errors.Is(err, ErrUnbound) {
		t.Fatalf("reply to another request: %v", err)
	}
}

func TestThrottle(t *testing.T) {
	now := time.Unix(1000, 0)
	var lines []string
	th := &Throttle{Every: time.Minute, now: func() time.Time { return now },
		Log: func(f string, a ...any) { lines = append(lines, f) }}
	a := &net.TCPAddr{IP: net.ParseIP("172.16.177.254"), Port: 1}
	b := &net.TCPAddr{IP: net.ParseIP("172.16.177.253"), Port: 1}
	for i := 0; i < 500; i++ {
		th.Reject(a, ErrAuth)
	}
	th.Reject(b, ErrAuth)
	if len(lines) != 2 {
		t.Fatalf("500 rejections from one source and 1 from another gave %d lines", len(lines))
	}
	now = now.Add(61 * time.Second)
	th.Reject(a, ErrAuth)
	if len(lines) != 3 || !strings.Contains(lines[2], "more") {
		t.Fatalf("after a minute: %q", lines)
	}
}
