package locks

import (
	"context"
	"fmt"
	"net"
	"strconv"
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
