// Package locks is the cluster lock daemon, cllockd (Reference §5.5,
// §7.2.3 L1607-1640): named locks local to one node (NET, NBD_CLIENT,
// NBD_SERVER and any others of cllocks.xml) that the start and halt tools
// take around the steps that must not interleave. A lock belongs to the
// client connection that took it: it is released on UNLOCK, when that
// connection drops (the holder died, even by kill -9), or after the
// lock's maxt seconds. The daemon has no timers or goroutines of its own
// while idle.
package locks

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/linuxha-ng/linuxha/pkg/config"
	"github.com/linuxha-ng/linuxha/pkg/logx"
	"github.com/linuxha-ng/linuxha/pkg/wire"
)

// Manager holds the node's locks.
type Manager struct {
	log   *logx.Logger
	mu    sync.Mutex // guards locks and each *lock in it
	locks map[string]*lock
	quit  func()
}

type lock struct {
	cfg    config.Lock
	holder *holding
	free   chan struct{} // closed and replaced whenever the lock is released
}

type holding struct {
	who   string
	owner context.Context // the holder's connection
	since time.Time
	timer *time.Timer
	stop  func() bool // stops watching the connection
}

// NewManager builds a manager for the configured locks.
func NewManager(cfg map[string]config.Lock, log *logx.Logger, quit func()) *Manager {
	m := &Manager{log: log, locks: map[string]*lock{}, quit: quit}
	for n, c := range cfg {
		m.locks[n] = &lock{cfg: c, free: make(chan struct{})}
	}
	return m
}

// Errors of Acquire.
var (
	ErrUnknown = errors.New("locks: unknown lock")
	ErrTimeout = errors.New("locks: timed out waiting for lock")
)

// Acquire blocks until the lock is free and gives it to owner, or until
// wait passes or owner ends.
func (m *Manager) Acquire(owner context.Context, name, who string, wait time.Duration) error {
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		m.mu.Lock()
		l, ok := m.locks[name]
		if !ok {
			m.mu.Unlock()
			return ErrUnknown
		}
		if l.holder == nil {
			h := &holding{who: who, owner: owner, since: time.Now()}
			h.timer = time.AfterFunc(l.cfg.MaxT, func() { m.expire(name, h) })
			h.stop = context.AfterFunc(owner, func() { m.drop(name, h, "its holder went away") })
			l.holder = h
			m.mu.Unlock()
			m.log.Infof("Lock %s granted to %s", name, who)
			return nil
		}
		free := l.free
		m.mu.Unlock()
		select {
		case <-free:
		case <-deadline.C:
			return ErrTimeout
		case <-owner.Done():
			return owner.Err()
		}
	}
}

// Holds tells whether owner (a connection) holds any lock.
func (m *Manager) Holds(owner context.Context) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, l := range m.locks {
		if l.holder != nil && l.holder.owner == owner {
			return true
		}
	}
	return false
}

// Release gives the lock back; only its owner can.
func (m *Manager) Release(owner context.Context, name string) bool {
	m.mu.Lock()
	l, ok := m.locks[name]
	if !ok || l.holder == nil || l.holder.owner != owner {
		m.mu.Unlock()
		return false
	}
	h := l.holder
	// Logged before the lock is freed, with mu held, so that the log
	// says "released" before the next holder's "granted".
	m.log.Infof("Lock %s released by %s after %.1fs", name, h.who, time.Since(h.since).Seconds())
	m.releaseLocked(l)
	m.mu.Unlock()
	return true
}

func (m *Manager) releaseLocked(l *lock) {
	h := l.holder
	h.timer.Stop()
	h.stop()
	l.holder = nil
	close(l.free)
	l.free = make(chan struct{})
}

func (m *Manager) expire(name string, h *holding) {
	m.drop(name, h, fmt.Sprintf("it was held longer than %v", m.maxt(name)))
}

func (m *Manager) maxt(name string) time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	if l, ok := m.locks[name]; ok {
		return l.cfg.MaxT
	}
	return 0
}

func (m *Manager) drop(name string, h *holding, why string) {
	m.mu.Lock()
	l := m.locks[name]
	if l.holder != h {
		m.mu.Unlock()
		return
	}
	// As in Release: the log says "taken from" before the waiter it
	// wakes says "granted" (a test reading the log after the grant saw
	// it missing).
	m.log.Warnf("Lock %s taken from %s: %s", name, h.who, why)
	m.releaseLocked(l)
	m.mu.Unlock()
}

// Status lists every lock as "NAME=free" or "NAME=held:who".
func (m *Manager) Status() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for n, l := range m.locks {
		if l.holder == nil {
			out = append(out, n+"=free")
		} else {
			out = append(out, n+"=held:"+l.holder.who)
		}
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

// Handle answers the lock protocol:
//
//	LOCK name=N [who=W] [timeout=S]  -> OK | TIMEOUT | UNKNOWN_LOCK
//	UNLOCK name=N                    -> OK | NOT_HELD
//	STATUS                           -> NET=free,NBD_CLIENT=held:who,...
//	ECHO -> UP;  ABORT -> OK and the daemon exits
func (m *Manager) Handle(ctx context.Context, msg string, _ net.Addr) string {
	r, err := wire.ParseRequest(msg)
	if err != nil {
		return "ERROR empty request"
	}
	switch r.Verb {
	case "LOCK":
		name, ok := r.Arg("name")
		if !ok {
			return "MISSING_ARG"
		}
		who, _ := r.Arg("who")
		if who == "" {
			who = "unnamed"
		}
		wait := m.maxt(name) // unknown locks answer below
		if v, ok := r.Arg("timeout"); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil && f >= 0 {
				wait = time.Duration(f * float64(time.Second))
			}
		}
		switch err := m.Acquire(ctx, name, who, wait); {
		case err == nil:
			return "OK"
		case errors.Is(err, ErrUnknown):
			return "UNKNOWN_LOCK"
		case errors.Is(err, ErrTimeout):
			return "TIMEOUT"
		default:
			return "ERROR " + err.Error()
		}
	case "UNLOCK":
		name, _ := r.Arg("name")
		if m.Release(ctx, name) {
			return "OK"
		}
		return "NOT_HELD"
	case "STATUS":
		return m.Status()
	case "ECHO":
		return "UP"
	case "ABORT":
		m.log.Infof("ABORT received - lock daemon stopping.")
		if m.quit != nil {
			go m.quit()
		}
		return "OK"
	}
	return "UNKNOWN_REQUEST " + r.Verb
}
