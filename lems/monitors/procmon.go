package monitors

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/linuxha-ng/linuxha/pkg/config"
	"github.com/linuxha-ng/linuxha/pkg/logx"
)

// Procmon keeps an application's processes running (§24.4.8,
// L7308-7353): when a process count leaves [min_count, max_count] it runs
// restartcmd, and once it has restarted `restarts` times within
// `resetwindow` it answers rc 2, which the action list maps to FAILOVER.
// rc 1 means the monitor itself cannot work (L7310).
type Procmon struct {
	conf  *config.Procmon
	env   *Env
	log   *logx.Logger
	procs func() ([]Proc, error)
	now   func() time.Time

	mu       sync.Mutex // guards the fields below: runs and lemsctl commands share them
	max      int        // restarts before fail-over (MAXCOUNT changes it)
	current  int        // restarts in this window
	resetAt  time.Time  // when current returns to 0; zero when current is 0
	failed   bool       // rc 2 given; stays until RESET
	lastSeen []int      // count per <process> at the last run
}

// Proc is one process as procmon matches it.
type Proc struct {
	Pid  int
	User string
	Cmd  string // the command line, arguments separated by spaces
	Exe  string // the executable's path (/proc/PID/exe)
}

// RestartTimeout bounds restartcmd.
const RestartTimeout = 2 * time.Minute

func NewProcmon(env *Env, args []string) (Monitor, error) {
	if len(args) != 1 {
		return nil, errors.New("procmon needs the path of its XML file")
	}
	path := env.L.Path(args[0])
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	conf, err := config.ParseProcmon(path, data)
	if err != nil {
		return nil, err
	}
	dir := env.L.Path(conf.LogDir)
	os.MkdirAll(dir, 0o755)
	log, err := logx.Open(filepath.Join(dir, fmt.Sprintf("procmon-%s-%s.log", env.App, env.Check)))
	if err != nil {
		return nil, err
	}
	log.SetVerbose(true)
	return &Procmon{conf: conf, env: env, log: log, procs: Processes, now: time.Now, max: conf.Restarts}, nil
}

func (p *Procmon) Check(ctx context.Context) (int, string) {
	procs, err := p.procs()
	if err != nil {
		p.log.Errorf("Unable to list processes: %v", err)
		return 1, err.Error()
	}
	p.mu.Lock()
	now := p.now()
	if !p.resetAt.IsZero() && now.After(p.resetAt) {
		p.log.Infof("Reset window passed: restart count %d set to 0.", p.current)
		p.current, p.resetAt = 0, time.Time{}
	}
	if p.failed {
		p.mu.Unlock()
		return 2, "restarts exhausted"
	}
	var bad []string
	counts := make([]int, len(p.conf.Processes))
	for i, pr := range p.conf.Processes {
		for _, q := range procs {
			if q.Pid == os.Getpid() || !pr.Pattern.MatchString(q.Cmd) {
				continue
			}
			if pr.User != "." && pr.User != q.User {
				continue
			}
			if pr.Exe != nil && !pr.Exe.MatchString(q.Exe) {
				continue // same command line, another program (exec -a)
			}
			counts[i]++
		}
		if counts[i] < pr.MinCount || counts[i] > pr.MaxCount {
			bad = append(bad, fmt.Sprintf("%s: %d running, want %d-%d", pr.Label, counts[i], pr.MinCount, pr.MaxCount))
		}
	}
	p.lastSeen = counts
	if len(bad) == 0 {
		p.mu.Unlock()
		return 0, ""
	}
	for _, b := range bad {
		p.log.Warnf("Process check failed for %s", b)
	}
	if p.current >= p.max {
		p.failed = true
		p.log.Errorf("%d restarts within the reset window already: requesting fail-over.", p.current)
		p.mu.Unlock()
		return 2, strings.Join(bad, "; ")
	}
	p.current++
	if p.resetAt.IsZero() {
		p.resetAt = now.Add(p.conf.ResetWindow)
	}
	n := p.current
	p.mu.Unlock()
	p.log.Infof("Restart %d of %d: %s", n, p.max, strings.Join(p.conf.RestartCmd, " "))
	p.env.Log.Infof("Monitor %s restarting the application processes (%d of %d).", p.env.Check, n, p.max)
	if err := p.restart(ctx); err != nil {
		p.log.Warnf("Restart command failed: %v", err)
	}
	return 0, ""
}

func (p *Procmon) restart(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, RestartTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, p.conf.RestartCmd[0], p.conf.RestartCmd[1:]...)
	// The restarted application must outlive Lems: its own session, and
	// no pipes that Lems would have to drain.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	out, err := cmd.CombinedOutput()
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if l != "" {
			p.log.Infof("restartcmd: %s", l)
		}
	}
	return err
}

// Stat is "<max restarts>,<current>,<reset at unix or 0>" (clstat's
// Restarts, Current and Reset at columns, L3054-3062).
func (p *Procmon) Stat() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var at int64
	if !p.resetAt.IsZero() {
		at = p.resetAt.Unix()
	}
	return fmt.Sprintf("%d,%d,%d", p.max, p.current, at)
}

// Accept takes RESET and MAXCOUNT N (L7346-7353); changes last until Lems
// restarts, as the Reference says (L4548).
func (p *Procmon) Accept(w []string) (string, error) {
	if len(w) == 0 {
		return "", errors.New("procmon accepts RESET or MAXCOUNT n")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	switch strings.ToUpper(w[0]) {
	case "RESET":
		p.current, p.resetAt, p.failed = 0, time.Time{}, false
		p.log.Infof("Restart count reset by request.")
		return "", nil
	case "MAXCOUNT":
		if len(w) != 2 {
			return "", errors.New("MAXCOUNT needs a number")
		}
		n, err := strconv.Atoi(w[1])
		if err != nil || n < 0 {
			return "", fmt.Errorf("MAXCOUNT %q is not a count", w[1])
		}
		p.max = n
		p.log.Infof("Maximum restarts set to %d by request.", n)
		return "", nil
	}
	return "", fmt.Errorf("procmon does not know %q", w[0])
}

// Processes lists the node's processes from /proc. Kernel threads (no
// command line) are left out.
func Processes() ([]Proc, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	names := map[uint32]string{}
	var out []Proc
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		raw, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || len(raw) == 0 {
			continue
		}
		var st syscall.Stat_t
		if syscall.Stat(filepath.Join("/proc", e.Name()), &st) != nil {
			continue
		}
		name, ok := names[st.Uid]
		if !ok {
			name = strconv.Itoa(int(st.Uid))
			if u, err := user.LookupId(name); err == nil {
				name = u.Username
			}
			names[st.Uid] = name
		}
		cmd := strings.TrimRight(strings.ReplaceAll(string(raw), "\x00", " "), " ")
		exe, _ := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		out = append(out, Proc{Pid: pid, User: name, Cmd: cmd, Exe: exe})
	}
	return out, nil
}
