package locks

import (
	"context"
	"net"
	"strconv"
	"time"

	"github.com/linuxha-ng/linuxha/pkg/admit"
	"github.com/linuxha-ng/linuxha/pkg/config"
	"github.com/linuxha-ng/linuxha/pkg/logx"
	"github.com/linuxha-ng/linuxha/pkg/wire"
)

// Serve runs the lock daemon on 127.0.0.1:clport until ctx ends or ABORT.
func Serve(ctx context.Context, cfg *config.Cluster, lockCfg map[string]config.Lock, log *logx.Logger, ready func(error)) error {
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.ClPort)))
	if err != nil {
		ready(err)
		return err
	}
	self := wire.Svc(cfg.ThisNode(), wire.SvcLocks)
	codec, err := wire.NewCodec(wire.FramingOf(cfg.Framing), cfg.Name, cfg.Key, wire.WithFrom(self))
	if err != nil {
		ln.Close()
		ready(err)
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	m := NewManager(lockCfg, log, cancel)
	log.Infof("Lock daemon listening on %s with locks %s", ln.Addr(), m.Status())
	ready(nil)
	// Only root's local sockets, so no other user can hold the slots; a
	// holder may sit idle while it holds a lock (maxt bounds it), any
	// other connection for the usual idle time.
	srv := &wire.Server{Codec: codec, Handler: m.Handle, Self: self, Admit: (&admit.Policy{Warn: log.Warnf}).Admit,
		Holding: m.Holds, Limits: wire.Limits{LongIdle: 24 * time.Hour, MaxConns: 256},
		OnReject: (&wire.Throttle{Log: log.Warnf}).Reject,
	}
	return srv.Serve(ctx, ln)
}
