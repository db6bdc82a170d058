package clitool

import (
	"context"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/coreos/go-systemd/v22/journal"
	"github.com/linuxha-ng/linuxha/pkg/daemonize"
	"github.com/linuxha-ng/linuxha/pkg/logx"
)

// Daemon describes how a daemon command runs.
type Daemon struct {
	Title   string // "cldaemon-cluster1": what ps -ef shows
	Node    string // this node's name, the journal's NODE field
	App     string // the application of a Lems, the journal's APP field
	Detach  bool
	LogFile string // "-" = stdout
	Verbose bool
	Stdout  io.Writer
	// Run serves until ctx ends; it calls ready once it listens.
	Run func(ctx context.Context, log *logx.Logger, ready func(error)) error
}

// RunDaemon re-executes the program under its title (detached if asked,
// returning once the daemon is ready) or, in the re-executed process,
// opens the log and runs it.
func RunDaemon(ctx context.Context, d Daemon) error {
	if !daemonize.IsChild(d.Title) {
		if d.Detach {
			_, err := daemonize.Detach(d.Title, os.Args[1:], 30*time.Second)
			return err
		}
		return daemonize.Exec(d.Title, os.Args[1:])
	}
	daemonize.SetName(d.Title)
	setGC()
	var log *logx.Logger
	if d.LogFile == "-" {
		log = logx.New(d.Stdout)
	} else {
		var err error
		if log, err = logx.Open(d.LogFile); err != nil {
			daemonize.Ready(err)
			return err
		}
		defer log.Close()
	}
	log.SetVerbose(d.Verbose)
	// Under systemd (it sets INVOCATION_ID for its services) every line
	// also goes to the journal, with fields to select by.
	if os.Getenv("INVOCATION_ID") != "" && journal.Enabled() {
		fields := map[string]string{"SYSLOG_IDENTIFIER": d.Title, "NODE": d.Node}
		if d.App != "" {
			fields["APP"] = d.App
		}
		log.SetJournal(toJournal, fields)
	}
	if d.LogFile != "-" {
		stop := reopenOnHUP(log, d.LogFile)
		defer stop()
	}
	return d.Run(ctx, log, daemonize.Ready)
}

// reopenOnHUP reopens the log file on each SIGHUP, so that logrotate can
// move it away (examples/logrotate/linuxha) as it does other daemons'
// logs; without it SIGHUP would end the daemon. stop ends the watch and
// waits for it.
func reopenOnHUP(log *logx.Logger, path string) (stop func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	done, quit := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-quit:
				return
			case <-hup:
				if err := log.Reopen(); err != nil {
					log.Errorf("SIGHUP: %v", err)
					continue
				}
				log.Infof("Log file %s reopened (SIGHUP).", path)
			}
		}
	}()
	return func() {
		signal.Stop(hup)
		close(quit)
		<-done
	}
}

// toJournal sends a line with go-systemd's journal package, at the
// syslog priority of its level.
func toJournal(msg string, lv logx.Level, fields map[string]string) error {
	pri := journal.PriInfo
	switch lv {
	case logx.Warn:
		pri = journal.PriWarning
	case logx.Error:
		pri = journal.PriErr
	}
	return journal.Send(msg, pri, fields)
}

// daemonGCPercent is the garbage collector's target for the daemons: an
// idle daemon's live heap is small (cldaemon's about 0.4 MiB at the fast
// profile) and Go's default of 100 lets any heap grow to 4 MiB before
// collecting; 25 lets it grow to 1 MiB. Measured with make
// bench-footprint: cldaemon's own memory went from 7.3 to 4.4 MiB with no
// CPU change visible (it allocates about 0.3 MB/s at the fast profile:
// one collection every few seconds).
const daemonGCPercent = 25

// setGC applies daemonGCPercent unless GOGC says otherwise.
func setGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(daemonGCPercent)
	}
}
