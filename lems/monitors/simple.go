package monitors

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// FlagCheck stops the monitor named by each file in the application's
// flags directory and starts it again when the file goes (§24.4.1,
// L7226-7234; §11.6, L3177-3242). It answers rc 1 with RCDATA such as
// "STOP httpd;", which the action "%RCDATA%" runs.
type FlagCheck struct {
	dir    string
	env    *Env
	mu     sync.Mutex      // guards seen and warned
	seen   map[string]bool // flags present at the last run
	warned map[string]bool
}

func NewFlagCheck(env *Env, args []string) (Monitor, error) {
	app := env.App
	if len(args) > 0 {
		app = args[0]
	}
	dir := env.L.FlagsDir(app)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("flags directory: %w", err)
	}
	return &FlagCheck{dir: dir, env: env, seen: map[string]bool{}, warned: map[string]bool{}}, nil
}

func (f *FlagCheck) Check(context.Context) (int, string) {
	ents, err := os.ReadDir(f.dir)
	if err != nil {
		return 2, ""
	}
	known := map[string]bool{}
	for _, n := range f.env.Checks() {
		known[n] = true
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	now := map[string]bool{}
	var acts []string
	for _, e := range ents {
		n := e.Name()
		if strings.HasPrefix(n, ".") {
			continue
		}
		now[n] = true
		if f.seen[n] {
			continue
		}
		if !known[n] {
			if !f.warned[n] {
				f.env.Log.Warnf("Flag file %s does not name a monitor of %s.", n, f.env.App)
				f.warned[n] = true
			}
			continue
		}
		acts = append(acts, "STOP "+n+";")
	}
	for n := range f.seen {
		if !now[n] && known[n] {
			acts = append(acts, "START "+n+";")
		}
	}
	for n := range f.seen {
		if !now[n] {
			delete(f.warned, n)
		}
	}
	// Only flags that named a monitor count as seen, so a monitor that is
	// installed later is stopped by a flag already present.
	f.seen = map[string]bool{}
	for n := range now {
		if known[n] {
			f.seen[n] = true
		}
	}
	if len(acts) == 0 {
		return 0, ""
	}
	sort.Strings(acts)
	return 1, strings.Join(acts, " ")
}

func (f *FlagCheck) Stat() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(slices.Sorted(maps.Keys(f.seen)), ",")
}

// Capacity answers rc 1 when a file system is fuller than its limit
// ("/tmp:75,/var:90", §24.4.5, L7252-7274). Usage is df's: used blocks
// over the blocks available to users.
type Capacity struct {
	limits []fsLimit
	mu     sync.Mutex // guards last
	last   string
}

type fsLimit struct {
	path string
	pct  float64
}

func NewCapacity(_ *Env, args []string) (Monitor, error) {
	spec := strings.Join(args, "")
	if spec == "" {
		return nil, errors.New("capacity_check needs FS:CAP[,FS:CAP...]")
	}
	var c Capacity
	for _, item := range strings.Split(spec, ",") {
		p, v, ok := strings.Cut(item, ":")
		pct, err := strconv.ParseFloat(v, 64)
		if !ok || p == "" || err != nil || pct <= 0 || pct > 100 {
			return nil, fmt.Errorf("capacity_check: %q is not FS:CAP with CAP 1-100", item)
		}
		c.limits = append(c.limits, fsLimit{p, pct})
	}
	return &c, nil
}

// Used returns the percentage of path's file system in use, as df does.
func Used(path string) (float64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return 0, err
	}
	used := st.Blocks - st.Bfree
	total := used + st.Bavail
	if total == 0 {
		return 0, nil
	}
	return float64(used) * 100 / float64(total), nil
}

func (c *Capacity) Check(context.Context) (int, string) {
	rc := 0
	var over, all []string
	for _, l := range c.limits {
		u, err := Used(l.path)
		if err != nil {
			continue
		}
		all = append(all, fmt.Sprintf("%s:%.0f", l.path, u))
		if u > l.pct {
			rc = 1
			over = append(over, fmt.Sprintf("%s:%.0f>%.0f", l.path, u, l.pct))
		}
	}
	c.mu.Lock()
	c.last = strings.Join(all, ",")
	c.mu.Unlock()
	return rc, strings.Join(over, ",")
}

func (c *Capacity) Stat() string { c.mu.Lock(); defer c.mu.Unlock(); return c.last }

// Swap answers rc 1 when free swap is below the limit in KB (default
// 51200), as the Reference's own sample module does (§24.8, L7432-7506).
type Swap struct {
	meminfo string
	limit   int64
	mu      sync.Mutex // guards last and ran
	last    int64
	ran     bool
}

func NewSwap(_ *Env, args []string) (Monitor, error) {
	s := &Swap{meminfo: "/proc/meminfo", limit: 51200}
	if len(args) > 0 {
		n, err := strconv.ParseInt(args[0], 10, 64)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("swap_check: limit %q is not a number of KB", args[0])
		}
		s.limit = n
	}
	return s, nil
}

func (s *Swap) Check(context.Context) (int, string) {
	data, err := os.ReadFile(s.meminfo)
	if err != nil {
		return 0, "" // L7466: an unreadable meminfo is not an alarm
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 || f[0] != "SwapFree:" {
			continue
		}
		n, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			return 0, ""
		}
		s.mu.Lock()
		s.last, s.ran = n, true
		s.mu.Unlock()
		if n < s.limit {
			return 1, strconv.FormatInt(n, 10)
		}
		return 0, ""
	}
	return 0, ""
}

// Stat is "<free>,<limit>", or empty before the first run (L7494-7504).
func (s *Swap) Stat() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.ran {
		return ""
	}
	return fmt.Sprintf("%d,%d", s.last, s.limit)
}

// Program is a check of type "program": an executable in the programs
// directory (or a full path). Its exit status is the rc and its first
// line of output the RCDATA. It gets the application and check names in
// LEMS_APPLICATION and LEMS_CHECK.
type Program struct {
	argv []string
	env  []string
}

// ProgramTimeout bounds one run of a program check; Lems kills it after.
const ProgramTimeout = 60 * time.Second

func NewProgram(env *Env, module string, args []string) (Monitor, error) {
	path := module
	if !filepath.IsAbs(path) {
		path = filepath.Join(env.Programs, module)
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("program %s: %w", path, err)
	}
	if st.IsDir() || st.Mode()&0o111 == 0 {
		return nil, fmt.Errorf("program %s is not executable", path)
	}
	return &Program{
		argv: append([]string{path}, args...),
		env:  append(os.Environ(), "LEMS_APPLICATION="+env.App, "LEMS_CHECK="+env.Check),
	}, nil
}

func (p *Program) Check(ctx context.Context) (int, string) {
	ctx, cancel := context.WithTimeout(ctx, ProgramTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, p.argv[0], p.argv[1:]...)
	cmd.Env = p.env
	out, err := cmd.Output()
	first, _, _ := strings.Cut(string(out), "\n")
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, strings.TrimSpace(first)
	case errors.As(err, &ee) && ee.ExitCode() >= 0:
		return ee.ExitCode(), strings.TrimSpace(first)
	}
	// Killed or not started: no rc the action list could know.
	return 255, err.Error()
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
