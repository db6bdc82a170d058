package drbdtool

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/linuxha-ng/linuxha/pkg/clitool"
	"github.com/linuxha-ng/linuxha/pkg/daemonize"
	"github.com/linuxha-ng/linuxha/pkg/layout"
	"github.com/linuxha-ng/linuxha/pkg/logx"
	"github.com/linuxha-ng/linuxha/pkg/storage/filesync"
	"github.com/linuxha-ng/linuxha/pkg/storage/volumes"
)

// runSyncer is the hidden "syncd" subcommand: the detached process that
// replicates until SIGTERM, then makes a final pass.
func runSyncer(ctx context.Context, l layout.Layout, app string) error {
	cfg, err := clitool.LoadBuiltCluster(l, true)
	if err != nil {
		daemonize.Ready(err)
		return err
	}
	s, err := volumes.NewSyncer(l, cfg, app)
	if err != nil {
		daemonize.Ready(err)
		return err
	}
	log, err := logx.Open(l.Path(cfg.LogDir) + "/filesync." + app + ".log")
	if err != nil {
		daemonize.Ready(err)
		return err
	}
	defer log.Close()
	s.Logf = func(format string, args ...any) {
		log.Warnf("%s", strings.TrimPrefix(fmt.Sprintf(format, args...), "WARN "))
	}
	daemonize.SetName(volumes.SyncerTitle(app))
	pidFile := filesync.PidFile(l.StatusDir(app))
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		daemonize.Ready(err)
		return err
	}
	defer os.Remove(pidFile)
	now := make(chan bool, 1)
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	go func() {
		for range usr1 {
			select {
			case now <- true:
			default:
			}
		}
	}()
	log.Infof("Replicating %d directories of %s to %s (%s)", len(s.Dirs), app, s.PeerNode, s.Host)
	daemonize.Ready(nil)
	err = s.Run(ctx, now)
	log.Infof("Replication of %s stopped (final pass: %v)", app, errString(err))
	return err
}

func errString(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}
