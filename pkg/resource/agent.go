package resource

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/linuxha-ng/linuxha/pkg/atomicfile"
	"github.com/linuxha-ng/linuxha/pkg/config"
)

// Agent starts, stops and watches one resource. Each operation answers an
// OCF code; Stop answers Success for a resource that is not running, so
// stopping twice is harmless, as the OCF standard asks of stop.
type Agent interface {
	Start(ctx context.Context) Code
	Stop(ctx context.Context) Code
	Monitor(ctx context.Context) Code
	// Check is clbuildapp --check: what would keep the resource from
	// starting on this node. Warnings do not.
	Check(ctx context.Context) (warnings []string, err error)
}

// FieldError is a Check problem with the attribute of the member it
// comes from ("agent", "param", "user"), for the problem line to name.
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string { return e.Err.Error() }
func (e *FieldError) Unwrap() error { return e.Err }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Err: fmt.Errorf(format, args...)}
}

// Env is what agents use from the node.
type Env struct {
	App     string
	OCFRoot string               // "" = /usr/lib/ocf
	Log     func(string, ...any) // output of what the agents run; nil = dropped
	// Systemd says whether systemd runs this node (nil = sd_booted's
	// test, /run/systemd/system): services go through systemctl then,
	// else through their LSB init scripts.
	Systemd func() bool
}

// New returns the agent of r.
func New(r *config.Resource, env Env) Agent {
	if env.OCFRoot == "" {
		env.OCFRoot = "/usr/lib/ocf"
	}
	if env.Systemd == nil {
		env.Systemd = func() bool {
			st, err := os.Stat("/run/systemd/system")
			return err == nil && st.IsDir()
		}
	}
	b := base{r: r, env: env}
	switch r.Kind {
	case config.KindCrontab:
		return &crontab{b}
	case config.KindService:
		return &service{b}
	case config.KindUser:
		return &userApp{b}
	case config.KindMount:
		return &mount{b}
	case config.KindOCF:
		return &ocf{b}
	}
	return &unknown{b}
}

type base struct {
	r   *config.Resource
	env Env
}

func (b base) run(ctx context.Context, argv ...string) Code {
	c, _, err := run(ctx, command{argv: argv, limit: b.r.Timeout, log: b.env.Log})
	if err != nil && b.env.Log != nil {
		b.env.Log("%s: %v", argv[0], err)
	}
	return c
}

type unknown struct{ base }

func (u *unknown) Start(context.Context) Code   { return ErrConfigured }
func (u *unknown) Stop(context.Context) Code    { return Success }
func (u *unknown) Monitor(context.Context) Code { return ErrConfigured }
func (u *unknown) Check(context.Context) ([]string, error) {
	return nil, fmt.Errorf("unknown resource kind %q", u.r.Kind)
}

// crontab installs a template into /etc/cron.d (DRCM's CM_CRONTABS), so
// its jobs run on the node that runs the application and nowhere else.
type crontab struct{ base }

func (c *crontab) path() string { return filepath.Join(c.r.Target, filepath.Base(c.r.Template)) }

func (c *crontab) Start(context.Context) Code {
	data, err := os.ReadFile(c.r.Template)
	if err != nil {
		c.logf("crontab %s: %v", c.r.Name, err)
		return ErrInstalled
	}
	// cron refuses files others can write (cron(8)).
	if err := atomicfile.WriteFile(c.path(), data, 0o644); err != nil {
		c.logf("crontab %s: %v", c.r.Name, err)
		return ErrPerm
	}
	return Success
}

func (c *crontab) Stop(context.Context) Code {
	if err := os.Remove(c.path()); err != nil && !os.IsNotExist(err) {
		c.logf("crontab %s: %v", c.r.Name, err)
		return ErrGeneric
	}
	return Success
}

func (c *crontab) Monitor(context.Context) Code {
	have, err := os.ReadFile(c.path())
	if err != nil {
		return NotRunning
	}
	want, err := os.ReadFile(c.r.Template)
	if err != nil {
		return ErrInstalled
	}
	if !bytes.Equal(have, want) {
		c.logf("crontab %s: %s differs from %s", c.r.Name, c.path(), c.r.Template)
		return NotRunning
	}
	return Success
}

func (c *crontab) Check(context.Context) ([]string, error) {
	if _, err := os.ReadFile(c.r.Template); err != nil {
		return nil, fieldErr("template", "%v", err)
	}
	if st, err := os.Stat(c.r.Target); err != nil || !st.IsDir() {
		return nil, fieldErr("target", "%s is not a directory", c.r.Target)
	}
	return nil, nil
}

func (b base) logf(format string, args ...any) {
	if b.env.Log != nil {
		b.env.Log(format, args...)
	}
}

// service is a system service (DRCM's CM_SERVICES): through systemctl
// where systemd runs the node, else through its LSB init script.
type service struct{ base }

func (s *service) initScript() string { return "/etc/init.d/" + s.r.Service }

func (s *service) lsb(ctx context.Context, op string) Code {
	// service(8) runs the script with a clean environment, as init does.
	if p, err := exec.LookPath("service"); err == nil {
		return s.run(ctx, p, s.r.Service, op)
	}
	return s.run(ctx, s.initScript(), op)
}

func (s *service) Start(ctx context.Context) Code {
	if s.env.Systemd() {
		return s.run(ctx, "systemctl", "start", s.r.Service)
	}
	return s.lsb(ctx, "start")
}

func (s *service) Stop(ctx context.Context) Code {
	if s.env.Systemd() {
		return s.run(ctx, "systemctl", "stop", s.r.Service)
	}
	if c := s.lsb(ctx, "stop"); c != Success && c != NotRunning {
		return c
	}
	return Success
}

// Monitor maps LSB status codes (0 running; 1-3 not running, some with
// files left; 4 unknown) and systemctl is-active's (0 active, 3 not).
func (s *service) Monitor(ctx context.Context) Code {
	var c Code
	if s.env.Systemd() {
		c = s.run(ctx, "systemctl", "is-active", "--quiet", s.r.Service)
	} else {
		c = s.lsb(ctx, "status")
	}
	switch c {
	case Success, TimedOut:
		return c
	case 1, 2, 3:
		return NotRunning
	}
	return ErrGeneric
}

func (s *service) Check(ctx context.Context) ([]string, error) {
	if s.env.Systemd() {
		if s.run(ctx, "systemctl", "cat", s.r.Service) != Success {
			return nil, fieldErr("service", "no systemd unit %s", s.r.Service)
		}
		return nil, nil
	}
	if st, err := os.Stat(s.initScript()); err != nil || st.Mode()&0o111 == 0 {
		return nil, fieldErr("service", "no init script %s", s.initScript())
	}
	return nil, nil
}

// userApp is DRCM's user application (CM_APPLICATIONS): programs run by
// the user in the user's login environment (runuser -l, which sources the
// profile, seed 000's note), one after another; the ensure script, when
// there is one, is the monitor.
type userApp struct{ base }

func (u *userApp) as(ctx context.Context, program string) Code {
	argv := []string{"runuser", "-l", u.r.User}
	if u.r.Group != "" {
		argv = append(argv, "-g", u.r.Group)
	}
	return u.run(ctx, append(argv, "-c", program)...)
}

func (u *userApp) each(ctx context.Context, programs []string) Code {
	for _, p := range programs {
		if c := u.as(ctx, p); c != Success {
			u.logf("user application %s: %q answered %v", u.r.Name, p, c)
			return c
		}
	}
	return Success
}

func (u *userApp) Start(ctx context.Context) Code { return u.each(ctx, u.r.Start) }

func (u *userApp) Stop(ctx context.Context) Code {
	if c := u.each(ctx, u.r.Stop); c != Success {
		return ErrGeneric
	}
	return Success
}

func (u *userApp) Monitor(ctx context.Context) Code {
	if u.r.Ensure == "" {
		return Success
	}
	if u.as(ctx, u.r.Ensure) != Success {
		return NotRunning
	}
	return Success
}

func (u *userApp) Check(context.Context) ([]string, error) {
	if _, err := user.Lookup(u.r.User); err != nil {
		return nil, fieldErr("user", "user %s does not exist", u.r.User)
	}
	if u.r.Group != "" {
		if _, err := user.LookupGroup(u.r.Group); err != nil {
			return nil, fieldErr("user", "group %s does not exist", u.r.Group)
		}
	}
	return nil, nil
}

// mount is an NFS or CIFS client mount (DRCM's CM_FILESYSTEMS), checked
// for staleness and remounted when stale.
type mount struct{ base }

// mounted reports whether the mount point carries a mount, from
// /proc/self/mountinfo (reading it never touches the server).
func (m *mount) mounted() bool {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return false
	}
	for _, l := range strings.Split(string(data), "\n") {
		f := strings.Fields(l)
		if len(f) > 4 && unescapeMount(f[4]) == m.r.MountPoint {
			return true
		}
	}
	return false
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func (m *mount) Start(ctx context.Context) Code {
	if m.mounted() {
		return Success
	}
	if err := os.MkdirAll(m.r.MountPoint, 0o755); err != nil {
		m.logf("mount %s: %v", m.r.Name, err)
		return ErrPerm
	}
	argv := []string{"mount", "-t", m.r.FSType}
	if m.r.Options != "" {
		argv = append(argv, "-o", m.r.Options)
	}
	if c := m.run(ctx, append(argv, m.r.Source, m.r.MountPoint)...); c != Success {
		return ErrGeneric
	}
	return Success
}

// Stop unmounts; a stale or busy mount is detached lazily and forced, so
// that a dead server cannot hold the application's stop.
func (m *mount) Stop(ctx context.Context) Code {
	if !m.mounted() {
		return Success
	}
	// A umount past its limit is killed, but the unmount it asked for
	// goes on in the kernel and may finish: whether the mount point still
	// carries the mount decides, not umount's exit (the VM test saw a
	// stale NFS mount's umount killed at its limit, after which umount -f
	// -l found nothing mounted and failed).
	if m.run(ctx, "umount", m.r.MountPoint) == Success || !m.mounted() {
		return Success
	}
	if m.run(ctx, "umount", "-f", "-l", m.r.MountPoint) == Success || !m.mounted() {
		return Success
	}
	return ErrGeneric
}

// Monitor stats the mount point in a process of its own with a time
// limit: on a stale NFS mount the stat hangs or fails with ESTALE, and a
// hung process is killed instead of Lems hanging.
func (m *mount) Monitor(ctx context.Context) Code {
	if !m.mounted() {
		return NotRunning
	}
	// statfs, not stat: the client answers stat from its attribute
	// cache for up to acdirmax (60 s); statfs asks the server.
	c, _, _ := run(ctx, command{argv: []string{"stat", "-f", "-c", "%i", m.r.MountPoint}, limit: m.r.Timeout})
	if c != Success {
		m.logf("mount %s: %s is stale (stat answered %v)", m.r.Name, m.r.MountPoint, c)
		return ErrGeneric
	}
	return Success
}

func (m *mount) Check(context.Context) ([]string, error) {
	helper := "mount." + strings.TrimSuffix(m.r.FSType, "4")
	if m.r.FSType == "smb3" {
		helper = "mount.cifs"
	}
	for _, d := range []string{"/sbin", "/usr/sbin"} {
		if _, err := os.Stat(filepath.Join(d, helper)); err == nil {
			return nil, nil
		}
	}
	return []string{fmt.Sprintf("no %s on this node (install nfs-common or cifs-utils)", helper)}, nil
}

// limitMs is a time limit in milliseconds, as Pacemaker passes them.
func limitMs(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }
