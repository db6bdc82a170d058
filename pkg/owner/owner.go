// Package owner holds, in the etcd membership mode (issue 23), this
// node's claim on one application: an etcd election on a lease of its
// own (go.etcd.io/etcd/client/v3/concurrency), renewed by keep-alive
// requests whose send times feed pkg/ownership's pure decision. The
// application is started only while the claim holds and stopped before
// the lease could lapse, so a node cut from the quorum stops before any
// other can win the key.
package owner

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"

	"github.com/linuxha-ng/linuxha/pkg/ownership"
)

// Actions start and stop the application. Start gets the election's
// fencing token; its context is cancelled when the claim is lost while
// it runs. Stop must end within Owner.StopTime.
type Actions interface {
	Start(ctx context.Context, token int64) error
	Stop(ctx context.Context) error
}

// Owner claims one application for this node.
type Owner struct {
	Client *clientv3.Client
	// Key is the election's prefix: /linuxha/<cluster>/apps/<app>/owner.
	Key  string
	Node string // the election's value: who holds it
	// TTL is the lease's TTL asked for (etcd grants whole seconds, at
	// least one and a half election timeouts).
	TTL time.Duration
	// StopTime and Margin: the stop begins StopTime + Margin before the
	// lease could lapse (ownership.State).
	StopTime, Margin time.Duration
	// Retry is how long the node waits before claiming again after its
	// start failed, so that another node gets the key first.
	Retry   time.Duration
	Actions Actions
	// Rank, when set, is this node's place among the nodes that may run
	// the application (0 = best; pkg/placement), or false when it may
	// not now: the node then campaigns only for a free key, Stagger
	// times its rank after the key fell free, so that the best node
	// alive wins it.
	Rank    func(ctx context.Context) (int, bool)
	Stagger time.Duration
	// Logf reports decisions and errors.
	Logf func(format string, args ...any)
}

// Period is how often a claim's lease is renewed: a tenth of its TTL.
// The lease is known to hold for TTL after the last answered renewal was
// sent, so a node that crashes leaves its key to another on average
// TTL - Period/2 after; renewals are not raft writes, and a tenth keeps
// that close to the TTL at little cost.
func Period(ttl time.Duration) time.Duration { return ttl / 10 }

// event is what one round (one lease) reports, or a start's end.
type event struct {
	round   int
	ev      ownership.Event
	granted clientv3.LeaseID // the round's lease was granted (ev.Sent, ev.TTL)
	ended   int              // the start of that number ended, failed when fail is set
	fail    error
}

// Run claims the application until ctx ends, then stops it if it runs
// here and gives the claim up.
func (o *Owner) Run(ctx context.Context) error {
	if o.TTL < time.Second {
		return fmt.Errorf("owner %s: a lease TTL of %v is less than etcd's second", o.Key, o.TTL)
	}
	st := ownership.State{StopTime: o.StopTime, Margin: o.Margin, Renew: Period(o.TTL)}
	events := make(chan event, 16)
	var wg sync.WaitGroup
	defer wg.Wait()
	var (
		round       int
		cancelRound context.CancelFunc = func() {}
		lease       clientv3.LeaseID
		sent        time.Time // the last answered request's send time
		ttl         time.Duration
		cancelStart context.CancelFunc // the start under way, nil when none
		startDone   chan struct{}
		starts      int // the number of the last start
	)
	stop := func(why string) {
		if cancelStart != nil {
			cancelStart()
			<-startDone
			cancelStart = nil
		}
		o.Logf("%s: stopping the application: %s", o.Key, why)
		sctx, cancel := context.WithTimeout(context.Background(), o.StopTime)
		if err := o.Actions.Stop(sctx); err != nil {
			o.Logf("%s: stop: %v", o.Key, err)
		}
		cancel()
		st.Running = false
	}
	newRound := func(wait time.Duration) {
		cancelRound()
		if lease != 0 {
			// Giving the lease back lets another node win at once
			// rather than after the TTL; the application is stopped.
			rctx, cancel := context.WithTimeout(ctx, time.Second)
			o.Client.Revoke(rctx, lease)
			cancel()
		}
		round++
		st.Holding, lease = false, 0
		var rctx context.Context
		rctx, cancelRound = context.WithCancel(ctx)
		wg.Add(1)
		go func(r int) {
			defer wg.Done()
			o.claim(rctx, r, wait, events)
		}(round)
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	newRound(0)
	for {
		var e event
		select {
		case <-ctx.Done():
			cancelRound()
			if st.Running {
				stop("the node leaves the cluster")
			}
			if lease != 0 {
				rctx, cancel := context.WithTimeout(context.Background(), time.Second)
				o.Client.Revoke(rctx, lease)
				cancel()
			}
			return nil
		case now := <-timer.C:
			e = event{round: round, ev: ownership.Event{Kind: ownership.Tick, Now: now}}
		case e = <-events:
		}
		if e.round != round {
			continue // an event of a lease given up
		}
		switch {
		case e.ended != 0:
			if e.ended != starts || cancelStart == nil {
				continue // a start a stop has already cancelled and waited for
			}
			startDone, cancelStart = nil, nil
			if e.fail != nil {
				o.Logf("%s: the start failed (%v): giving the claim up for %v", o.Key, e.fail, o.Retry)
				stop("its start failed")
				newRound(o.Retry)
				continue
			}
			continue
		case e.granted != 0:
			lease, sent, ttl = e.granted, e.ev.Sent, e.ev.TTL
			continue
		case e.ev.Kind == ownership.Won:
			// The lease holds from the last answered request's send.
			e.ev.Sent, e.ev.TTL = sent, ttl
		case e.ev.Kind == ownership.Renewed:
			if e.ev.Sent.After(sent) {
				sent, ttl = e.ev.Sent, e.ev.TTL
			}
		}
		var do ownership.Do
		var why string
		st, do, why = ownership.Decide(st, e.ev)
		switch do {
		case ownership.Start:
			o.Logf("%s: starting the application: %s", o.Key, why)
			st.Running = true
			sctx, cancel := context.WithCancel(ctx)
			cancelStart, startDone = cancel, make(chan struct{})
			starts++
			wg.Add(1)
			go func(r, n int, token int64, done chan struct{}) {
				defer wg.Done()
				err := o.Actions.Start(sctx, token)
				close(done)
				select {
				case events <- event{round: r, ended: n, fail: err}:
				case <-ctx.Done():
				}
			}(round, starts, st.Token, startDone)
		case ownership.Stop:
			stop(why)
		}
		if e.ev.Kind == ownership.Lost {
			newRound(0)
			continue
		}
		if st.Holding && st.Running {
			timer.Reset(time.Until(st.Deadline()))
		}
	}
}

// claim grants a lease, keeps it alive and campaigns with it, reporting
// to events until ctx ends.
func (o *Owner) claim(ctx context.Context, round int, wait time.Duration, events chan<- event) {
	send := func(e event) bool {
		e.round = round
		select {
		case events <- e:
			return true
		case <-ctx.Done():
			return false
		}
	}
	select {
	case <-time.After(wait):
	case <-ctx.Done():
		return
	}
	period := Period(o.TTL)
	var g *clientv3.LeaseGrantResponse
	var sent time.Time
	for {
		sent = time.Now()
		gctx, cancel := context.WithTimeout(ctx, period)
		var err error
		g, err = o.Client.Grant(gctx, int64((o.TTL+time.Second-1)/time.Second))
		cancel()
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return
		}
		o.Logf("%s: lease: %v", o.Key, err)
		select {
		case <-time.After(period):
		case <-ctx.Done():
			return
		}
	}
	ttl := time.Duration(g.TTL) * time.Second
	if !send(event{granted: g.ID, ev: ownership.Event{Sent: sent, TTL: ttl}}) {
		return
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Add(1)
	go func() {
		defer wg.Done()
		o.campaign(ctx, g.ID, send)
	}()
	t := time.NewTicker(period)
	defer t.Stop()
	failed := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s := time.Now()
		kctx, cancel := context.WithTimeout(ctx, period)
		r, err := o.Client.KeepAliveOnce(kctx, g.ID)
		cancel()
		switch {
		case errors.Is(err, rpctypes.ErrLeaseNotFound):
			send(event{ev: ownership.Event{Kind: ownership.Lost, Now: time.Now()}})
			return
		case err != nil:
			// Logged when they begin and when they end, not each one.
			if failed++; failed == 1 && ctx.Err() == nil {
				o.Logf("%s: the lease's renewal failed: %v", o.Key, err)
			}
		default:
			if failed > 0 {
				o.Logf("%s: the lease is renewed again, after %d failed renewals", o.Key, failed)
				failed = 0
			}
			send(event{ev: ownership.Event{Kind: ownership.Renewed, Now: time.Now(), Sent: s, TTL: time.Duration(r.TTL) * time.Second}})
		}
	}
}

// campaign wins the election on lease id, then reports the loss of its
// key (revoked, expired, deleted).
func (o *Owner) campaign(ctx context.Context, id clientv3.LeaseID, send func(event) bool) {
	s, err := concurrency.NewSession(o.Client, concurrency.WithLease(id), concurrency.WithContext(ctx))
	if err != nil {
		if ctx.Err() == nil {
			o.Logf("%s: session: %v", o.Key, err)
			send(event{ev: ownership.Event{Kind: ownership.Lost, Now: time.Now()}})
		}
		return
	}
	el := concurrency.NewElection(s, o.Key)
	if o.Rank != nil && !o.awaitTurn(ctx) {
		return
	}
	if err := el.Campaign(ctx, o.Node); err != nil {
		if ctx.Err() == nil {
			o.Logf("%s: campaign: %v", o.Key, err)
			send(event{ev: ownership.Event{Kind: ownership.Lost, Now: time.Now()}})
		}
		return
	}
	if !send(event{ev: ownership.Event{Kind: ownership.Won, Now: time.Now(), Rev: el.Rev()}}) {
		return
	}
	w := o.Client.Watch(ctx, el.Key(), clientv3.WithRev(el.Rev()))
	for r := range w {
		for _, e := range r.Events {
			if e.Type == clientv3.EventTypeDelete {
				send(event{ev: ownership.Event{Kind: ownership.Lost, Now: time.Now()}})
				return
			}
		}
	}
}

// awaitTurn waits until the election has no holder and this node's turn
// has come: Rank times Stagger after it fell free, the key still free.
// It returns false when ctx ends.
func (o *Owner) awaitTurn(ctx context.Context) bool {
	pause := func(d time.Duration) bool {
		select {
		case <-time.After(d):
			return true
		case <-ctx.Done():
			return false
		}
	}
	pfx := o.Key + "/" // concurrency.Election's keys
	for ctx.Err() == nil {
		r, err := o.Client.Get(ctx, pfx, clientv3.WithPrefix(), clientv3.WithKeysOnly())
		if err != nil {
			if !pause(Period(o.TTL)) {
				return false
			}
			continue
		}
		if len(r.Kvs) > 0 {
			// Held (or queued for): wait for a key to go, looking again
			// at least every TTL in case the watch missed it.
			wctx, cancel := context.WithTimeout(ctx, o.TTL)
			for resp := range o.Client.Watch(wctx, pfx, clientv3.WithPrefix(), clientv3.WithRev(r.Header.Revision+1)) {
				if slices.ContainsFunc(resp.Events, func(e *clientv3.Event) bool { return e.Type == clientv3.EventTypeDelete }) {
					break
				}
			}
			cancel()
			continue
		}
		rank, ok := o.Rank(ctx)
		if !ok {
			if !pause(Period(o.TTL)) {
				return false
			}
			continue
		}
		if rank == 0 {
			return true
		}
		if !pause(time.Duration(rank) * o.Stagger) {
			return false
		}
		if r, err := o.Client.Get(ctx, pfx, clientv3.WithPrefix(), clientv3.WithKeysOnly(), clientv3.WithCountOnly()); err == nil && r.Count == 0 {
			return true
		}
	}
	return false
}
