// Package vmbed drives scripts/vmbed/vmbed from Go tests: two QEMU VMs
// (servera, serverb) booting Debian's kernel with real DRBD 8.4 and
// device-mapper. Tests that use it need root, qemu-system-x86 and
// LINUXHA_TESTBED containing "vm" (make test-vm sets it); otherwise they
// skip. Timings measured here are under software emulation, not
// performance figures.
package vmbed

import (
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

	"github.com/linuxha-ng/linuxha/internal/testbed"
)

// Bed is a running pair of VMs.
type Bed struct {
	name, script, bin string
	port              int
}

// Require skips unless the VM testbed may be used.
func Require(t testing.TB) {
	t.Helper()
	if !strings.Contains(os.Getenv("LINUXHA_TESTBED"), "vm") {
		t.Skip("VM testbed test: set LINUXHA_TESTBED=vm (make test-vm does) and run as root")
	}
	if os.Geteuid() != 0 {
		t.Skip("VM testbed test: requires root")
	}
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		t.Skip("VM testbed test: qemu-system-x86 is not installed")
	}
}

var (
	once   sync.Once
	binDir string
	errB   error
)

// Up boots the two VMs; they are killed when the test ends.
func Up(t testing.TB) *Bed {
	t.Helper()
	Require(t)
	root, err := testbed.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	once.Do(func() {
		binDir = filepath.Join(root, ".testbin", fmt.Sprintf("vm-%d", os.Getpid()))
		if out, err := testbed.MakeBuild(root, binDir).CombinedOutput(); err != nil {
			errB = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if errB != nil {
		t.Fatal(errB)
	}
	var id [2]byte
	rand.Read(id[:])
	b := &Bed{name: "v" + hex.EncodeToString(id[:]), script: filepath.Join(root, "scripts", "vmbed", "vmbed"), bin: binDir,
		port: 47000 + int(id[0])%200*3}
	t.Cleanup(func() { b.op("down") })
	if out, err := b.op("up"); err != nil {
		t.Fatalf("vmbed up: %v\n%s", err, out)
	}
	return b
}

func (b *Bed) cmd(stdin string, args ...string) *exec.Cmd {
	c := exec.Command(b.script, args...)
	c.Env = append(os.Environ(), "VM_NAME="+b.name, "VM_BIN="+b.bin, fmt.Sprintf("VM_PORT=%d", b.port))
	if stdin != "" {
		c.Stdin = strings.NewReader(stdin)
	}
	return c
}

func (b *Bed) op(args ...string) ([]byte, error) { return b.cmd("", args...).CombinedOutput() }

// Op runs cut, restore, crash or start.
func (b *Bed) Op(t testing.TB, args ...string) {
	t.Helper()
	if out, err := b.op(args...); err != nil {
		t.Fatalf("vmbed %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// Alive reports whether node's VM is running.
func (b *Bed) Alive(node string) bool {
	out, err := b.op("status")
	return err == nil && strings.Contains(string(out), node+" up")
}

// Exec runs argv in node's VM, for at most 10 minutes.
func (b *Bed) Exec(t testing.TB, node, stdin string, argv ...string) testbed.Result {
	t.Helper()
	return b.ExecTimeout(t, 10*time.Minute, node, stdin, argv...)
}

// ExecTimeout runs argv in node's VM for at most d: polling loops use a
// short d, so a guest that stopped answering fails the test quickly.
func (b *Bed) ExecTimeout(t testing.TB, d time.Duration, node, stdin string, argv ...string) testbed.Result {
	t.Helper()
	c := b.cmd(stdin, append([]string{"exec", node}, argv...)...)
	c.Env = append(c.Env, fmt.Sprintf("VM_EXEC_TIMEOUT=%d", int(d.Seconds())))
	return testbed.Run(t, c)
}

// Sh runs a shell script in node's VM and fails the test if it fails.
func (b *Bed) Sh(t testing.TB, node, script string) string {
	t.Helper()
	return testbed.Sh(t, b, node, script)
}

// WriteFile writes a file in node's VM.
func (b *Bed) WriteFile(t testing.TB, node, path, content string, mode os.FileMode) {
	t.Helper()
	testbed.WriteFile(t, b, node, path, content, mode)
}

// BuildCluster writes the example clconf.xml on servera, with edit
// applied when it is not nil, and runs clbuild (which copies it to
// serverb); it returns clbuild's output.
func (b *Bed) BuildCluster(t testing.TB, edit *strings.Replacer, args ...string) testbed.Result {
	t.Helper()
	root, _ := testbed.RepoRoot()
	data, err := os.ReadFile(filepath.Join(root, "examples", "clconf.xml"))
	if err != nil {
		t.Fatal(err)
	}
	conf := strings.Replace(string(data), testbed.ExampleKey, testbed.Key, 1)
	if edit != nil {
		conf = edit.Replace(conf)
	}
	b.WriteFile(t, "servera", "/etc/cluster/clconf.xml", conf, 0o600)
	r := b.Exec(t, "servera", "", append([]string{"clbuild"}, args...)...)
	if r.Code != 0 {
		t.Fatalf("clbuild: %s", r.Output())
	}
	return r
}
