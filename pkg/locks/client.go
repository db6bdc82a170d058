package locks

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/linuxha-ng/linuxha/pkg/config"
	"github.com/linuxha-ng/linuxha/pkg/wire"
)

// Client takes locks from this node's lock daemon. With NoLocking set, or
// no clport configured (locking disabled, L1534-1537), every lock is
// granted at once without asking anyone.
type Client struct {
	Addr      string
	To        string // the lock daemon's name in envelopes
	Codec     *wire.Codec
	NoLocking bool
	Who       string // shown in the daemon's log and STATUS
}

// NewClient prepares a client for the node's lock daemon.
func NewClient(cfg *config.Cluster, noLocking bool, who string) (*Client, error) {
	c := &Client{NoLocking: noLocking || cfg.ClPort == 0, Who: who}
	if c.NoLocking {
		return c, nil
	}
	host := cfg.ThisNode()
	codec, err := wire.NewCodec(wire.FramingOf(cfg.Framing), cfg.Name, cfg.Key, wire.WithFrom(wire.Svc(host, who)))
	if err != nil {
		return nil, err
	}
	c.Codec, c.Addr, c.To = codec, net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.ClPort)), wire.Svc(host, wire.SvcLocks)
	return c, nil
}

// Held is a lock this process holds until Release (or until it exits).
type Held struct {
	name string
	conn *wire.Conn
}

// Acquire waits up to wait for the named lock.
func (c *Client) Acquire(ctx context.Context, name string, wait time.Duration) (*Held, error) {
	if c.NoLocking {
		return &Held{name: name}, nil
	}
	conn, err := wire.Dial(ctx, c.Codec, c.To, []string{c.Addr}, 2*time.Second)
	if err != nil {
		return nil, fmt.Errorf("Unable to contact lock daemon: %w", err)
	}
	reply, err := conn.Call(fmt.Sprintf("LOCK name=%s who=%s timeout=%.1f", name, c.Who, wait.Seconds()), wait+5*time.Second)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	if reply != "OK" {
		conn.Close()
		return nil, fmt.Errorf("Unable to obtain lock %s: %s", name, reply)
	}
	return &Held{name: name, conn: conn}, nil
}

// Release gives the lock back.
func (h *Held) Release() error {
	if h.conn == nil {
		return nil
	}
	defer h.conn.Close()
	reply, err := h.conn.Call("UNLOCK name="+h.name, 5*time.Second)
	if err != nil {
		return err
	}
	if reply != "OK" {
		return fmt.Errorf("unlock %s: %s", h.name, reply)
	}
	return nil
}

// Shared lets the goroutines of one process share the lock daemon's
// locks: the first Acquire of a name takes the lock from the daemon, the
// others queue for it in the process, and the daemon's lock is given back
// when the last holder releases it with no one waiting. Between
// processes the daemon's lock means what it always did; within the
// process the queue serialises the holders. cldaemon shares one among the
// starts of a takeover wave: thirty applications coming up at once would
// otherwise each take NET and NBD_CLIENT from the daemon in turn, a
// connection, a handshake and two round trips apiece, one after another.
type Shared struct {
	Client *Client

	mu    sync.Mutex // guards names
	names map[string]*sharedLock
}

// sharedLock is one name's in-process queue.
type sharedLock struct {
	turn  chan struct{} // holds a token while a goroutine has the lock
	users int           // the holder and the waiters; guarded by Shared.mu
	held  *Held         // the daemon's lock; touched only by the holder
}

// Acquire waits up to wait for the named lock; release gives it back.
func (s *Shared) Acquire(ctx context.Context, name string, wait time.Duration) (release func() error, err error) {
	s.mu.Lock()
	if s.names == nil {
		s.names = map[string]*sharedLock{}
	}
	l := s.names[name]
	if l == nil {
		l = &sharedLock{turn: make(chan struct{}, 1)}
		s.names[name] = l
	}
	l.users++
	s.mu.Unlock()
	leave := func() (last bool) {
		s.mu.Lock()
		defer s.mu.Unlock()
		l.users--
		if l.users == 0 {
			delete(s.names, name)
			return true
		}
		return false
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case l.turn <- struct{}{}:
	case <-t.C:
		leave()
		return nil, fmt.Errorf("Unable to obtain lock %s: timed out after %v in this process", name, wait)
	case <-ctx.Done():
		leave()
		return nil, ctx.Err()
	}
	if l.held == nil {
		h, err := s.Client.Acquire(ctx, name, wait)
		if err != nil {
			leave()
			<-l.turn
			return nil, err
		}
		l.held = h
	}
	return sync.OnceValue(func() error {
		var err error
		if leave() {
			err = l.held.Release()
			l.held = nil
		}
		<-l.turn
		return err
	}), nil
}
