// Package testbed drives scripts/testbed from Go tests: two cluster nodes
// (servera, serverb) in their own namespaces, a router, and operations to
// cut cards, partition and crash nodes. Tests that use it need root and
// LINUXHA_TESTBED=ns (make test sets both); otherwise they skip.
package testbed

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Bed is one running testbed.
type Bed struct {
	Name   string
	Domain string // the nodes' domain ("" when their host names have none)
	script string
	bin    string
	env    []string // more settings of scripts/testbed (TB_TRUST=no)
	// Nodes are the testbed's hosts (UpNodes; nil for the two-node
	// testbed, whose nodes are servera and serverb).
	Nodes []string
}

// Require skips the test unless the namespace testbed may be used.
func Require(t testing.TB) {
	t.Helper()
	if !strings.Contains(os.Getenv("LINUXHA_TESTBED"), "ns") {
		t.Skip("namespace testbed test: set LINUXHA_TESTBED=ns (make test does) and run as root")
	}
	if os.Geteuid() != 0 {
		t.Skip("namespace testbed test: requires root")
	}
}

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

// RepoRoot finds the module root from the test's working directory.
func RepoRoot() (string, error) {
	dir, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("go.mod not found")
		}
		dir = parent
	}
}

// binaries builds every command once per test process into a directory
// the nodes can see (not /tmp, which is private to each node).
func binaries(root string) (string, error) {
	buildOnce.Do(func() {
		binDir = filepath.Join(root, ".testbin", fmt.Sprintf("%d", os.Getpid()))
		// make build's own way (static, no cgo, its tags): the daemons
		// the tests and benchmarks measure are the ones shipped.
		cmd := MakeBuild(root, binDir)
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	return binDir, buildErr
}

// MakeBuild is the command that builds every command into dir as `make
// build` does, so that both testbeds run the binaries make install ships
// and one place says how they are built.
func MakeBuild(root, dir string) *exec.Cmd {
	cmd := exec.Command("make", "-s", "build", "BIN="+dir)
	cmd.Dir = root
	return cmd
}

// Up starts a testbed that is torn down when the test ends, pass or fail.
func Up(t testing.TB) *Bed {
	t.Helper()
	return up(t)
}

// UpWithoutTrust starts a testbed whose nodes have no root ssh trust yet;
// their sshd takes root's password, linuxha-testbed.
func UpWithoutTrust(t testing.TB) *Bed {
	t.Helper()
	return up(t, "TB_TRUST=no")
}

// prepare finds the repository, builds the binaries once, and names a
// new testbed prefix+random, for Up and for scripts/demo's test.
func prepare(t testing.TB, prefix string) (root, bin, name string) {
	t.Helper()
	Require(t)
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	if bin, err = binaries(root); err != nil {
		t.Fatal(err)
	}
	var id [3]byte
	rand.Read(id[:])
	return root, bin, prefix + hex.EncodeToString(id[:])
}

// UpWithDomain starts a testbed whose nodes' host names carry domain:
// servera.example.com, named so in clconf.xml (NodeName); the testbed's
// own operations still take servera and serverb.
func UpWithDomain(t testing.TB, domain string) *Bed {
	t.Helper()
	b := up(t, "TB_DOMAIN="+domain)
	b.Domain = domain
	return b
}

// UpWithSmallFS starts a testbed whose nodes keep /etc/cluster and
// /var/log/cluster on small file systems of their own (size, as
// truncate(1) takes it: "8M"), kept across crashes, for tests that fill
// them up.
func UpWithSmallFS(t testing.TB, size string) *Bed {
	t.Helper()
	return up(t, "TB_SMALLFS="+size)
}

// UpNodes starts a testbed of n cluster nodes (2 to 7: servera,
// serverb, serverc, ...), with a host named witness on the public network
// when witness is set: the etcd membership mode's clusters.
func UpNodes(t testing.TB, n int, witness bool) *Bed {
	t.Helper()
	env := []string{fmt.Sprintf("TB_NODES=%d", n)}
	if witness {
		env = append(env, "TB_WITNESS=yes")
	}
	b := up(t, env...)
	for i := range n {
		b.Nodes = append(b.Nodes, "server"+string(rune('a'+i)))
	}
	if witness {
		b.Nodes = append(b.Nodes, "witness")
	}
	return b
}

// Shared is a directory the test and every node see under the same path
// (the binaries' directory, bind-mounted into the nodes): for sockets
// the test listens on, such as a NOTIFY_SOCKET.
func (b *Bed) Shared() string { return b.bin }

// NodeName is node's name in the cluster: servera, or
// servera.example.com on a testbed with a domain.
func (b *Bed) NodeName(node string) string {
	if b.Domain == "" {
		return node
	}
	return node + "." + b.Domain
}

func up(t testing.TB, env ...string) *Bed {
	t.Helper()
	root, bin, name := prepare(t, "lt")
	b := &Bed{Name: name, script: filepath.Join(root, "scripts", "testbed"), bin: bin, env: env}
	t.Cleanup(func() {
		if out, err := b.op("down"); err != nil {
			t.Logf("testbed down: %v\n%s", err, out)
		}
	})
	if out, err := b.op("up"); err != nil {
		t.Fatalf("testbed up: %v\n%s", err, out)
	}
	return b
}

func (b *Bed) cmd(stdin string, args ...string) *exec.Cmd {
	c := exec.Command(b.script, args...)
	c.Env = append(append(os.Environ(), "TB_NAME="+b.Name, "TB_BIN="+b.bin), b.env...)
	if stdin != "" {
		c.Stdin = strings.NewReader(stdin)
	}
	return c
}

func (b *Bed) op(args ...string) ([]byte, error) { return b.cmd("", args...).CombinedOutput() }

// Op runs a testbed operation (cut, restore, partition, heal, crash,
// start) and fails the test if it fails.
func (b *Bed) Op(t testing.TB, args ...string) {
	t.Helper()
	if out, err := b.op(args...); err != nil {
		t.Fatalf("testbed %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// Alive reports whether node is running (it has not crashed or reset).
func (b *Bed) Alive(node string) bool {
	_, err := b.op("exec", node, "true")
	return err == nil
}

// Result of a command on a node.
type Result struct {
	Stdout, Stderr string
	Code           int
}

// Output is stdout and stderr together.
func (r Result) Output() string { return r.Stdout + r.Stderr }

// Exec runs argv on node with stdin.
func (b *Bed) Exec(t testing.TB, node, stdin string, argv ...string) Result {
	t.Helper()
	return Run(t, b.cmd(stdin, append([]string{"exec", node}, argv...)...))
}

// Run runs a testbed command and collects its result; only a failure to
// run it at all fails the test.
func Run(t testing.TB, c *exec.Cmd) Result {
	t.Helper()
	var out, errb bytes.Buffer
	c.Stdout, c.Stderr = &out, &errb
	err := c.Run()
	r := Result{Stdout: out.String(), Stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.Code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s: %v", strings.Join(c.Args, " "), err)
	}
	return r
}

// Execer runs a command on a node of a testbed: the namespace one here,
// the VM one in internal/vmbed.
type Execer interface {
	Exec(t testing.TB, node, stdin string, argv ...string) Result
}

// Sh runs a shell script on node and fails the test if it fails.
func Sh(t testing.TB, e Execer, node, script string) string {
	t.Helper()
	r := e.Exec(t, node, "", "sh", "-c", script)
	if r.Code != 0 {
		t.Fatalf("on %s: %s: exit %d\n%s", node, script, r.Code, r.Output())
	}
	return r.Stdout
}

// WriteFile replaces a file on node (written aside, then renamed, so its
// owner is root) with the given mode.
func WriteFile(t testing.TB, e Execer, node, path, content string, mode os.FileMode) {
	t.Helper()
	r := e.Exec(t, node, content, "sh", "-c", fmt.Sprintf("mkdir -p \"$(dirname %q)\" && cat > %q.new && chmod %o %q.new && mv -f %q.new %q", path, path, mode, path, path, path))
	if r.Code != 0 {
		t.Fatalf("write %s on %s: %s", path, node, r.Output())
	}
}

// Sh runs a shell script on node and fails the test if it fails.
func (b *Bed) Sh(t testing.TB, node, script string) string { t.Helper(); return Sh(t, b, node, script) }

// WriteFile writes a file on node with the given mode.
func (b *Bed) WriteFile(t testing.TB, node, path, content string, mode os.FileMode) {
	t.Helper()
	WriteFile(t, b, node, path, content, mode)
}

// Router runs argv on the router host (172.16.177.254) and returns the
// command, not started, so that a capture can run alongside the test.
func (b *Bed) Router(argv ...string) *exec.Cmd {
	return b.cmd("", append([]string{"router"}, argv...)...)
}

// Capture starts tcpdump on the router's public side for count frames
// matching filter (or 10 s), and gives it time to open its socket; wait
// returns what it printed.
func (b *Bed) Capture(t testing.TB, count int, filter string) (wait func() string) {
	t.Helper()
	c := b.Router("timeout", "10", "tcpdump", "-n", "-l", "-i", "eth0", "-c", fmt.Sprint(count), filter)
	var out bytes.Buffer
	c.Stdout = &out
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	return func() string {
		c.Wait()
		return out.String()
	}
}

// Background starts argv on node and returns the running command; its
// output is collected in the returned buffer.
func (b *Bed) Background(t testing.TB, node string, argv ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	c := b.cmd("", append([]string{"exec", node}, argv...)...)
	var out bytes.Buffer
	c.Stdout, c.Stderr = &out, &out
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	return c, &out
}
