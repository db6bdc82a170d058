package wire

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"time"
)

// Throttle logs rejections at most once per source and reason per
// interval, with the count of those it held back, so that a flood of bad frames or
// connections neither fills /var/log nor slows the loop that rejects
// them.
type Throttle struct {
	Every time.Duration                    // per source (default 1 minute)
	Log   func(format string, args ...any) // where the lines go
	now   func() time.Time                 // for tests
	mu    sync.Mutex                       // guards last
	last  map[throttleKey]*throttled       // by source address (port ignored) and reason
}

type throttleKey struct {
	src    netip.Addr
	reason string
}

// reasons are the rejections told apart; others share one line.
var reasons = []error{ErrTooLarge, ErrFormat, ErrCorrupt, ErrAuth, ErrReplay, ErrStale, ErrNotMine, ErrUnbound}

func reasonOf(err error) string {
	for _, r := range reasons {
		if errors.Is(err, r) {
			return r.Error()
		}
	}
	return "other"
}

type throttled struct {
	at         time.Time
	suppressed int
}

// Reject is a Server.OnReject that throttles.
func (t *Throttle) Reject(from net.Addr, err error) {
	src := throttleKey{sourceOf(from), reasonOf(err)}
	now := time.Now()
	if t.now != nil {
		now = t.now()
	}
	every := t.Every
	if every <= 0 {
		every = time.Minute
	}
	t.mu.Lock()
	if t.last == nil {
		t.last = map[throttleKey]*throttled{}
	}
	e := t.last[src]
	if e != nil && now.Sub(e.at) < every {
		e.suppressed++
		t.mu.Unlock()
		return
	}
	held := 0
	if e != nil {
		held = e.suppressed
	}
	if len(t.last) > 4096 { // a spoofing flood: forget the quiet ones
		for a, x := range t.last {
			if now.Sub(x.at) >= every {
				delete(t.last, a)
			}
		}
	}
	t.last[src] = &throttled{at: now}
	t.mu.Unlock()
	if held > 0 {
		t.Log("Rejected %s: %v (and %d more from it in the last %v)", from, err, held, every)
	} else {
		t.Log("Rejected %s: %v", from, err)
	}
}

func sourceOf(a net.Addr) netip.Addr {
	var ip net.IP
	switch x := a.(type) {
	case *net.TCPAddr:
		ip = x.IP
	case *net.UDPAddr:
		ip = x.IP
	}
	addr, _ := netip.AddrFromSlice(ip)
	return addr.Unmap()
}
