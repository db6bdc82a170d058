package wire

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"
)

// Limits protect a server from oversized, slow or too many connections.
type Limits struct {
	MaxConns     int           // concurrent connections; more are closed at once (default 64)
	FirstTimeout time.Duration // for the first request to arrive whole (default 2 s)
	LineTimeout  time.Duration // to receive one whole request line (default 5 s)
	IdleTimeout  time.Duration // between requests on one connection (default 30 s)
	// LongIdle is the idle allowed while Server.Holding says the client
	// holds something the connection stands for (a lock); default 24 h.
	LongIdle time.Duration
}

func (l Limits) withDefaults() Limits {
	if l.MaxConns <= 0 {
		l.MaxConns = 64
	}
	if l.FirstTimeout <= 0 {
		l.FirstTimeout = 2 * time.Second
	}
	if l.LineTimeout <= 0 {
		l.LineTimeout = 5 * time.Second
	}
	if l.IdleTimeout <= 0 {
		l.IdleTimeout = 30 * time.Second
	}
	if l.LongIdle <= 0 {
		l.LongIdle = 24 * time.Hour
	}
	return l
}

// Handler answers one request with one reply line. Its ctx ends when the
// connection closes, so state tied to a client (a held lock) can be
// released when the client goes away, even killed with -9. The request's
// envelope is EnvelopeOf(ctx).
type Handler func(ctx context.Context, req string, from net.Addr) string

type envKey struct{}

// current is the envelope of the request being answered. One per
// connection, so that the Handler's ctx is the same for every request of
// a connection (a lock daemon knows its holder by it); requests on one
// connection are answered one at a time, so it needs no lock.
type current struct{ env Envelope }

// EnvelopeOf returns the envelope of the request a Handler is answering.
func EnvelopeOf(ctx context.Context) Envelope {
	if c, ok := ctx.Value(envKey{}).(*current); ok {
		return c.env
	}
	return Envelope{}
}

// Server answers framed requests on a listener.
//
// With authenticated framing each connection starts with a challenge line
// from the server; the first request must echo it (Envelope.Re) and be
// addressed to Self, so a frame captured on another connection, to another
// node or service, or before a restart is refused. Replies are bound to
// the request's ID.
type Server struct {
	Codec   *Codec
	Handler Handler
	Limits  Limits
	Self    string // "node/service" requests must be addressed to; "" = any
	// Admit decides, before anything is read, whether a connection may be
	// served at all (see package admit); nil admits every connection.
	Admit func(c net.Conn) error
	// Holding tells whether the client of a connection (the Handler's
	// ctx) holds something that justifies Limits.LongIdle.
	Holding  func(ctx context.Context) bool
	OnReject func(from net.Addr, err error) // told of every rejection; nil = ignore
}

// Serve accepts connections until ctx ends, then closes the listener and
// waits for its connections to finish.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	lim := s.Limits.withDefaults()
	var wg sync.WaitGroup
	slots := make(chan struct{}, lim.MaxConns)
	ctx, cancel := context.WithCancel(ctx)
	defer func() { cancel(); wg.Wait() }()
	go func() { <-ctx.Done(); ln.Close() }()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("accept: %w", err)
		}
		// Admission first, before a slot is taken: a host that is not
		// of the cluster never holds one (SECURITY.md).
		if s.Admit != nil {
			if err := s.Admit(c); err != nil {
				s.reject(c.RemoteAddr(), err)
				c.Close()
				continue
			}
		}
		select {
		case slots <- struct{}{}:
		default:
			s.reject(c.RemoteAddr(), errors.New("too many connections"))
			c.Close()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			s.serveConn(ctx, c, lim)
		}()
	}
}

func (s *Server) reject(from net.Addr, err error) {
	if s.OnReject != nil {
		s.OnReject(from, err)
	}
}

func (s *Server) serveConn(ctx context.Context, c net.Conn, lim Limits) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Now()) })
	defer stop()
	auth := s.Codec.Framing() == Authenticated
	var challenge string
	if auth {
		var err error
		if challenge, err = s.Codec.Challenge(); err != nil {
			return
		}
		c.SetWriteDeadline(time.Now().Add(lim.LineTimeout))
		if _, err := c.Write([]byte(challenge + "\n")); err != nil {
			return
		}
	}
	r := bufio.NewReaderSize(c, MaxFrame+1)
	cur := &current{}
	ctx = context.WithValue(ctx, envKey{}, cur)
	for first := true; ; first = false {
		// The first request must arrive whole within FirstTimeout, so
		// that a silent connection gives its slot back at once; later
		// the first byte may take the idle time (long while the client
		// holds a lock) and the rest of the line LineTimeout, so a slow
		// drip is cut off.
		if first {
			c.SetReadDeadline(time.Now().Add(lim.FirstTimeout))
		} else {
			idle := lim.IdleTimeout
			if s.Holding != nil && s.Holding(ctx) {
				idle = lim.LongIdle
			}
			c.SetReadDeadline(time.Now().Add(idle))
			if _, err := r.Peek(1); err != nil {
				return
			}
			c.SetReadDeadline(time.Now().Add(lim.LineTimeout))
		}
		line, err := r.ReadSlice('\n')
		if err != nil {
			if errors.Is(err, bufio.ErrBufferFull) {
				s.reject(c.RemoteAddr(), ErrTooLarge)
			} else if ne, ok := err.(net.Error); ok && ne.Timeout() && (first || len(line) > 0) {
				s.reject(c.RemoteAddr(), errors.New("request line not complete in time"))
			}
			return
		}
		env, msg, err := s.Codec.OpenEnv(line)
		if err == nil && auth {
			err = s.bound(env, challenge)
		}
		if err != nil {
			s.reject(c.RemoteAddr(), err)
			return
		}
		cur.env = env
		reply := s.Handler(ctx, msg, c.RemoteAddr())
		frame, _, err := s.Codec.SealEnv(Envelope{From: s.Self, To: env.From, Re: env.ID}, reply)
		if err != nil {
			return
		}
		c.SetWriteDeadline(time.Now().Add(lim.LineTimeout))
		if _, err := c.Write(frame); err != nil {
			return
		}
	}
}

// bound checks that a request is meant for this server and this
// connection.
func (s *Server) bound(env Envelope, challenge string) error {
	if s.Self != "" && env.To != s.Self {
		return fmt.Errorf("%w: for %q, this is %q", ErrNotMine, env.To, s.Self)
	}
	if env.Re != challenge {
		return fmt.Errorf("%w: challenge not answered", ErrUnbound)
	}
	return nil
}

// Call sends req to the first address that answers ("host:port", tried in
// order, as every tool reaches the peer on any network, L1862) and
// returns the reply and the address used. to names the recipient
// ("node/service", Svc); the reply must come from it and answer this
// request.
func Call(ctx context.Context, codec *Codec, to string, addrs []string, req string, timeout time.Duration) (reply, used string, err error) {
	var errs []error
	for _, a := range addrs {
		c, err := dial(ctx, codec, a, timeout)
		if err == nil {
			reply, err = c.call(to, req, timeout)
			c.Close()
			if err == nil {
				return reply, a, nil
			}
		}
		errs = append(errs, fmt.Errorf("%s: %w", a, err))
		if ctx.Err() != nil {
			break
		}
	}
	if len(errs) == 0 {
		return "", "", errors.New("wire: no address to call")
	}
	return "", "", errors.Join(errs...)
}

// Conn is a client connection kept open for several requests; a lock
// daemon ties a held lock to it.
type Conn struct {
	codec     *Codec
	c         net.Conn
	r         *bufio.Reader
	to        string
	challenge string
}

// Dial connects to the first address that accepts; to names the server
// as in Call.
func Dial(ctx context.Context, codec *Codec, to string, addrs []string, timeout time.Duration) (*Conn, error) {
	var errs []error
	for _, a := range addrs {
		c, err := dial(ctx, codec, a, timeout)
		if err == nil {
			c.to = to
			return c, nil
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

func dial(ctx context.Context, codec *Codec, addr string, timeout time.Duration) (*Conn, error) {
	var nc net.Conn
	var err error
	if codec.dial != nil {
		dctx, cancel := context.WithTimeout(ctx, timeout)
		nc, err = codec.dial(dctx, addr)
		cancel()
	} else {
		d := net.Dialer{Timeout: timeout}
		nc, err = d.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return nil, err
	}
	c := &Conn{codec: codec, c: nc, r: bufio.NewReaderSize(nc, MaxFrame+1)}
	if codec.Framing() == Authenticated {
		nc.SetReadDeadline(time.Now().Add(timeout))
		line, err := c.r.ReadSlice('\n')
		if err != nil {
			nc.Close()
			return nil, fmt.Errorf("no challenge from server: %w", err)
		}
		c.challenge = strings.TrimSpace(string(line))
	}
	return c, nil
}

// Call sends one request and waits up to timeout for its reply.
func (c *Conn) Call(req string, timeout time.Duration) (string, error) {
	return c.call(c.to, req, timeout)
}

func (c *Conn) call(to, req string, timeout time.Duration) (string, error) {
	frame, id, err := c.codec.SealEnv(Envelope{To: to, Re: c.challenge}, req)
	if err != nil {
		return "", err
	}
	c.c.SetDeadline(time.Now().Add(timeout))
	if _, err := c.c.Write(frame); err != nil {
		return "", err
	}
	line, err := c.r.ReadSlice('\n')
	if err != nil {
		return "", err
	}
	env, reply, err := c.codec.OpenEnv(line)
	if err != nil {
		return "", err
	}
	if c.codec.Framing() == Authenticated {
		if env.Re != id {
			return "", fmt.Errorf("%w: reply to another request", ErrUnbound)
		}
		if to != "" && env.From != to {
			return "", fmt.Errorf("%w: reply from %q, called %q", ErrNotMine, env.From, to)
		}
	}
	return reply, nil
}

// Close closes the connection.
func (c *Conn) Close() error { return c.c.Close() }
