// Package storage holds what the cluster needs to know about replicated
// storage on a node. For now: the capability probe that the build tools
// run on both nodes, so that a missing piece is named before anything is
// changed ("DRBD kernel module not available on serverb").
package storage

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Capability is one piece a replication driver needs.
type Capability struct {
	Name  string // what it is, as the build log names it
	Found bool
	Note  string // version, path, or why it is missing
}

// Env is where the probe looks; nil fields mean the real system.
type Env struct {
	Root     string                       // "" = /
	LookPath func(string) (string, error) // default exec.LookPath
	Release  string                       // kernel release; default from /proc
	Modprobe func(module string) error    // loads a module; nil = do not load
}

func (e Env) path(p string) string {
	if e.Root == "" {
		return p
	}
	return filepath.Join(e.Root, p)
}

func (e Env) look(name string) (string, bool) {
	lp := e.LookPath
	if lp == nil {
		lp = exec.LookPath
	}
	p, err := lp(name)
	return p, err == nil
}

// Probe reports the capabilities the driver named by Global.datadetail
// needs: "drbd" needs the DRBD kernel module (loaded, or loadable: then it
// is loaded, C8), drbdadm and drbdsetup (C18) and the LVM2 commands (C9);
// "filesync" needs rsync and ssh.
func Probe(detail string, env Env) []Capability {
	switch detail {
	case "drbd":
		return []Capability{drbdModule(env), tool(env, "DRBD administration tools", "drbdadm", "drbdsetup"), tool(env, "LVM v2 command set", "lvm", "vgs", "lvs", "lvcreate")}
	case "filesync":
		return []Capability{tool(env, "file replication tools", "rsync", "ssh")}
	}
	return []Capability{{Name: "replication driver " + detail, Note: "unknown"}}
}

func tool(env Env, name string, cmds ...string) Capability {
	var missing, found []string
	for _, c := range cmds {
		if p, ok := env.look(c); ok {
			found = append(found, p)
		} else {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return Capability{Name: name, Note: strings.Join(missing, ", ") + " not found"}
	}
	return Capability{Name: name, Found: true, Note: strings.Join(found, " ")}
}

func drbdModule(env Env) Capability {
	c := Capability{Name: "DRBD kernel module"}
	if b, err := os.ReadFile(env.path("/proc/drbd")); err == nil {
		c.Found = true
		c.Note = "loaded: " + firstLine(b)
		return c
	}
	rel := env.Release
	if rel == "" {
		b, _ := os.ReadFile(env.path("/proc/sys/kernel/osrelease"))
		rel = strings.TrimSpace(string(b))
	}
	if !moduleKnown(env.path(filepath.Join("/lib/modules", rel, "modules.dep")), "drbd") &&
		!moduleKnown(env.path(filepath.Join("/lib/modules", rel, "modules.builtin")), "drbd") {
		c.Note = "not available for kernel " + rel
		return c
	}
	if env.Modprobe == nil {
		c.Found = true
		c.Note = "loadable"
		return c
	}
	if err := env.Modprobe("drbd"); err != nil {
		c.Note = "cannot be loaded: " + err.Error()
		return c
	}
	c.Found = true
	c.Note = "loaded"
	return c
}

// moduleKnown looks for ".../<name>.ko[.xz|.zst|.gz]:" in modules.dep.
func moduleKnown(dep, name string) bool {
	f, err := os.Open(dep)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		path, _, _ := strings.Cut(sc.Text(), ":")
		base := filepath.Base(path)
		if i := strings.Index(base, ".ko"); i > 0 && base[:i] == name {
			return true
		}
	}
	return false
}

// Modprobe loads a kernel module with the system's modprobe.
func Modprobe(module string) error {
	out, err := exec.Command("modprobe", module).CombinedOutput()
	if err != nil {
		return &exec.Error{Name: "modprobe " + module + ": " + strings.TrimSpace(string(out)), Err: err}
	}
	return nil
}

func firstLine(b []byte) string {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	return strings.TrimSpace(string(line))
}
