package wire

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// Limits protect a server from oversized, slow or too many connections.
type Limits struct {
	MaxConns    int           // concurrent connections; more are closed at once (default 64)
	LineTimeout time.Duration // to receive one whole request line (default 5 s)
	IdleTimeout time.Duration // between requests on one connection (default 30 s)
}

func (l Limits) withDefaults() Limits {
	if l.MaxConns <= 0 {
		l.MaxConns = 64
	}
	if l.LineTimeout <= 0 {
		l.LineTimeout = 5 * time.Second
	}
	if l.IdleTimeout <= 0 {
		l.IdleTimeout = 30 * time.Second
	}
	return l
}

// Handler answers one request with one reply line. Its ctx ends when the
// connection closes, so state tied to a client (a held lock) can be
// released when the client goes away, even killed with -9.
type Handler func(ctx context.Context, req string, from net.Addr) string

// Server answers framed requests on a listener.
type Server struct {
	Codec    *Codec
	Handler  Handler
	Limits   Limits
	OnReject func(from net.Addr, err error) // told of every rejected frame; nil = ignore
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
	r := bufio.NewReaderSize(c, MaxFrame+1)
	for {
		// The first byte may take the idle time; the rest of the line must
		// arrive within LineTimeout, so a slow drip is cut off.
		c.SetReadDeadline(time.Now().Add(lim.IdleTimeout))
		if _, err := r.Peek(1); err != nil {
			return
		}
		c.SetReadDeadline(time.Now().Add(lim.LineTimeout))
		line, err := r.ReadSlice('\n')
		if err != nil {
			if errors.Is(err, bufio.ErrBufferFull) {
				s.reject(c.RemoteAddr(), ErrTooLarge)
			} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
				s.reject(c.RemoteAddr(), fmt.Errorf("request line not complete within %v", lim.LineTimeout))
			}
			return
		}
		msg, err := s.Codec.Open(line)
		if err != nil {
			s.reject(c.RemoteAddr(), err)
			return
		}
		reply, err := s.Codec.Seal(s.Handler(ctx, msg, c.RemoteAddr()))
		if err != nil {
			return
		}
		c.SetWriteDeadline(time.Now().Add(lim.LineTimeout))
		if _, err := c.Write(reply); err != nil {
			return
		}
	}
}

// Call sends req to the first address that answers ("host:port", tried in
// order, as every tool reaches the peer on any network, L1862) and
// returns the reply and the address used.
func Call(ctx context.Context, codec *Codec, addrs []string, req string, timeout time.Duration) (reply, used string, err error) {
	var errs []error
	for _, a := range addrs {
		// A fresh frame per address: a server that got the first try
		// but answered too late would refuse the same frame as replayed.
		frame, err := codec.Seal(req)
		if err != nil {
			return "", "", err
		}
		reply, err := call1(ctx, codec, a, frame, timeout)
		if err == nil {
			return reply, a, nil
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

func call1(ctx context.Context, codec *Codec, addr string, frame []byte, timeout time.Duration) (string, error) {
	d := net.Dialer{Timeout: timeout}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(timeout))
	if _, err := c.Write(frame); err != nil {
		return "", err
	}
	r := bufio.NewReaderSize(c, MaxFrame+1)
	line, err := r.ReadSlice('\n')
	if err != nil {
		return "", err
	}
	return codec.Open(line)
}

// Conn is a client connection kept open for several requests; a lock
// daemon ties a held lock to it.
type Conn struct {
	codec *Codec
	c     net.Conn
	r     *bufio.Reader
}

// Dial connects to the first address that accepts.
func Dial(ctx context.Context, codec *Codec, addrs []string, timeout time.Duration) (*Conn, error) {
	var errs []error
	for _, a := range addrs {
		d := net.Dialer{Timeout: timeout}
		c, err := d.DialContext(ctx, "tcp", a)
		if err == nil {
			return &Conn{codec: codec, c: c, r: bufio.NewReaderSize(c, MaxFrame+1)}, nil
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

// Call sends one request and waits up to timeout for its reply.
func (c *Conn) Call(req string, timeout time.Duration) (string, error) {
	frame, err := c.codec.Seal(req)
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
	return c.codec.Open(line)
}

// Close closes the connection.
func (c *Conn) Close() error { return c.c.Close() }
