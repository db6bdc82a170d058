// Package remote runs commands and copies files on the peer node through
// the system OpenSSH client, as the Reference's tools do (L1649, L1862).
// It tries the node name first and then every topology address of the
// peer, remembers the first that answers, and says which one it uses.
package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os/exec"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/linuxha-ng/linuxha/pkg/state"
)

// ErrUnreachable means no address of the peer accepted an ssh connection;
// the error is an *UnreachableError saying what each address answered.
var ErrUnreachable = errors.New("remote: peer not reachable by ssh")

// UnreachableError lists every address tried and why it failed.
type UnreachableError struct {
	Node  string
	Tried []string // "host: reason"
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("%s is not reachable by ssh: %s", e.Node, strings.Join(e.Tried, "; "))
}

// Is makes errors.Is(err, ErrUnreachable) true.
func (e *UnreachableError) Is(target error) bool { return target == ErrUnreachable }

// Addr is one way to reach the peer.
type Addr struct {
	Host    string // node name or IP address
	Network string // topology network it belongs to; "" for the node name
}

func (a Addr) String() string {
	if a.Network == "" {
		return a.Host
	}
	return fmt.Sprintf("%s (%q network)", a.Host, a.Network)
}

// Peer is the other node.
type Peer struct {
	Node           string
	Addrs          []Addr        // tried in order; the node name is tried first if absent
	ConnectTimeout time.Duration // per address; default 5 s
	SSH            string        // client binary; default "ssh"
	Options        []string      // extra "-o" settings
	OnSelect       func(Addr)    // told which address is used, once

	mu   sync.Mutex // guards used
	used *Addr
}

// ssh exits with 255 when the connection itself failed.
const sshConnectFailed = 255

// Result is the outcome of one remote command.
type Result struct {
	Stdout, Stderr []byte
	Code           int
}

// Run runs argv on the peer with no input. An error means ssh could not
// reach the peer on any address; the command's own failure is in Code.
func (p *Peer) Run(ctx context.Context, argv ...string) (Result, error) {
	return p.RunInput(ctx, nil, argv...)
}

// RunInput is Run with stdin.
func (p *Peer) RunInput(ctx context.Context, stdin []byte, argv ...string) (Result, error) {
	cmd := quote(argv)
	var tried []string
	for _, a := range p.candidates() {
		res, err := p.try(ctx, a, stdin, cmd)
		if err != nil {
			return res, err
		}
		if res.Code == sshConnectFailed && !p.isUsed(a) {
			tried = append(tried, a.Host+": "+firstLine(res.Stderr))
			continue
		}
		if res.Code == sshConnectFailed {
			// The address that worked before failed: forget it and retry
			// the others once.
			p.mu.Lock()
			p.used = nil
			p.mu.Unlock()
			tried = append(tried, a.Host+": "+firstLine(res.Stderr))
			continue
		}
		p.choose(a)
		return res, nil
	}
	return Result{}, &UnreachableError{Node: p.Node, Tried: tried}
}

// Output runs argv and returns its stdout, failing on a non-zero exit with
// the command's stderr.
func (p *Peer) Output(ctx context.Context, argv ...string) ([]byte, error) {
	res, err := p.Run(ctx, argv...)
	if err != nil {
		return nil, err
	}
	if res.Code != 0 {
		return res.Stdout, fmt.Errorf("%s on %s: exit status %d: %s", strings.Join(argv, " "), p.Node, res.Code, strings.TrimSpace(string(res.Stderr)))
	}
	return res.Stdout, nil
}

// WriteFile replaces path on the peer atomically (temp file, rename) with
// the given mode, creating its directory.
func (p *Peer) WriteFile(ctx context.Context, file string, data []byte, mode uint32) error {
	dir := path.Dir(file)
	tmp := path.Join(dir, "."+path.Base(file)+".tmp")
	script := fmt.Sprintf("umask 077 && mkdir -p %s && cat > %s && chmod %o %s && sync %s && mv -f %s %s",
		q(dir), q(tmp), mode, q(tmp), q(tmp), q(tmp), q(file))
	res, err := p.RunInput(ctx, data, "sh", "-c", script)
	if err != nil {
		return err
	}
	if res.Code != 0 {
		return fmt.Errorf("copy %s to %s: %s", file, p.Node, strings.TrimSpace(string(res.Stderr)))
	}
	return nil
}

// Used returns the address in use, if one answered yet.
func (p *Peer) Used() (Addr, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.used == nil {
		return Addr{}, false
	}
	return *p.used, true
}

func (p *Peer) isUsed(a Addr) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.used != nil && *p.used == a
}

func (p *Peer) choose(a Addr) {
	p.mu.Lock()
	first := p.used == nil
	if first {
		p.used = &a
	}
	p.mu.Unlock()
	if first && p.OnSelect != nil {
		p.OnSelect(a)
	}
}

func (p *Peer) candidates() []Addr {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []Addr
	if p.used != nil {
		out = append(out, *p.used)
	}
	hasName := false
	for _, a := range p.Addrs {
		hasName = hasName || a.Host == p.Node
	}
	if !hasName {
		out = append(out, Addr{Host: p.Node})
	}
	for _, a := range p.Addrs {
		if p.used == nil || a != *p.used {
			out = append(out, a)
		}
	}
	return out
}

func (p *Peer) try(ctx context.Context, a Addr, stdin []byte, cmd string) (Result, error) {
	timeout := p.ConnectTimeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	bin := p.SSH
	if bin == "" {
		bin = "ssh"
	}
	args := []string{
		"-o", "BatchMode=yes",
		"-o", fmt.Sprintf("ConnectTimeout=%d", int((timeout+time.Second-1)/time.Second)),
		"-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=3",
		"-o", "LogLevel=ERROR",
	}
	for _, o := range p.Options {
		args = append(args, "-o", o)
	}
	args = append(args, "-l", "root", "--", a.Host, cmd)
	c := exec.CommandContext(ctx, bin, args...)
	var out, errb bytes.Buffer
	c.Stdout, c.Stderr = &out, &errb
	if stdin != nil {
		c.Stdin = bytes.NewReader(stdin)
	}
	err := c.Run()
	res := Result{Stdout: out.Bytes(), Stderr: errb.Bytes()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		res.Code = ee.ExitCode()
	case ctx.Err() != nil:
		return res, ctx.Err()
	default:
		return res, fmt.Errorf("run ssh: %w", err)
	}
	return res, nil
}

// quote joins argv into one shell command line for the remote shell.
func quote(argv []string) string {
	parts := make([]string, len(argv))
	for i, a := range argv {
		parts[i] = q(a)
	}
	return strings.Join(parts, " ")
}

// Quote quotes one word for the remote shell.
func Quote(s string) string { return q(s) }

func q(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,@%+") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func firstLine(b []byte) string {
	s := strings.TrimSpace(string(b))
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if s == "" {
		s = "connection failed"
	}
	return s
}

// Runner runs commands on a peer with the signature storage drivers use
// (stdout back; a failed command is an error carrying its stderr), so the
// same LVM and DRBD code works on either node.
type Runner struct{ P *Peer }

// Run implements the storage Runner interface.
func (r Runner) Run(ctx context.Context, stdin []byte, argv ...string) ([]byte, error) {
	res, err := r.P.RunInput(ctx, stdin, argv...)
	if err != nil {
		return nil, err
	}
	if res.Code != 0 {
		return res.Stdout, fmt.Errorf("%s on %s: exit status %d: %s", strings.Join(argv, " "), r.P.Node, res.Code, strings.TrimSpace(string(res.Stderr)))
	}
	return res.Stdout, nil
}

// ToNode is the ssh handle on node that tries its addresses recorded in
// the topology file (clbuild's record of every card, L1780) after its
// name, and tells logf the address it settles on as L1851-1853 do ("SSH
// communication to serverb will be:" / "192.168.0.134 ("public"
// network)"). A missing topology leaves the name alone.
func ToNode(topologyFile, node string, logf func(format string, args ...any)) *Peer {
	p := &Peer{Node: node, ConnectTimeout: 2 * time.Second}
	top, _ := state.ReadTopology(topologyFile)
	for _, ca := range top.Addrs(node) {
		p.Addrs = append(p.Addrs, Addr{Host: ca.Prefix.Addr().String(), Network: ca.Network})
	}
	p.OnSelect = func(a Addr) {
		if a.Network == "" {
			// The name answered: say which address and network that is.
			for _, ca := range top.Addrs(node) {
				if addr, err := netip.ParseAddr(resolve(a.Host)); err == nil && ca.Prefix.Addr() == addr {
					a = Addr{Host: addr.String(), Network: ca.Network}
				}
			}
		}
		logf("SSH communication to %s will be:", node)
		logf("%s", a)
	}
	return p
}

// Reach makes sure the peer answers now, so that the address is chosen
// (and logged) before the work that needs it.
func (p *Peer) Reach(ctx context.Context) error {
	_, err := p.Output(ctx, "true")
	return err
}

// resolve is host's first IPv4 address, or host itself.
func resolve(host string) string {
	if ips, err := net.LookupIP(host); err == nil {
		for _, ip := range ips {
			if ip.To4() != nil {
				return ip.String()
			}
		}
	}
	return host
}
