package remote

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeSSH stands in for the OpenSSH client: it fails (255) for hosts
// named "down*" and otherwise runs the command locally, which is what
// sshd would do on the peer.
func fakeSSH(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "ssh")
	script := `#!/bin/sh
while [ "$1" != "--" ]; do shift; done; shift
host=$1; shift
echo "$host" >> "$(dirname "$0")/hosts"
case "$host" in down*) echo "ssh: connect to host $host port 22: No route to host" >&2; exit 255;; esac
exec sh -c "$1"
`
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestTriesEveryAddressAndSaysWhich(t *testing.T) {
	ssh := fakeSSH(t)
	var chosen []Addr
	p := &Peer{Node: "down-name", SSH: ssh, Addrs: []Addr{{"down-1", "public"}, {"192.100.100.2", "drbd"}},
		OnSelect: func(a Addr) { chosen = append(chosen, a) }}
	out, err := p.Output(context.Background(), "echo", "it's", "$HOME")
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != "it's $HOME\n" {
		t.Fatalf("quoting: %q", out)
	}
	if len(chosen) != 1 || chosen[0].String() != `192.100.100.2 ("drbd" network)` {
		t.Fatalf("chosen %v", chosen)
	}
	// The working address is used first from then on.
	os.Remove(filepath.Join(filepath.Dir(ssh), "hosts"))
	p.Output(context.Background(), "true")
	hosts, _ := os.ReadFile(filepath.Join(filepath.Dir(ssh), "hosts"))
	if strings.TrimSpace(string(hosts)) != "192.100.100.2" {
		t.Fatalf("hosts tried: %q", hosts)
	}
}

func TestUnreachable(t *testing.T) {
	p := &Peer{Node: "down-b", SSH: fakeSSH(t), Addrs: []Addr{{"down-c", "drbd"}}}
	_, err := p.Run(context.Background(), "true")
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "No route to host") {
		t.Fatalf("got %v", err)
	}
}

func TestCommandFailureIsNotUnreachable(t *testing.T) {
	p := &Peer{Node: "b", SSH: fakeSSH(t)}
	res, err := p.Run(context.Background(), "sh", "-c", "echo oops >&2; exit 3")
	if err != nil || res.Code != 3 || strings.TrimSpace(string(res.Stderr)) != "oops" {
		t.Fatalf("%+v %v", res, err)
	}
	if _, err := p.Output(context.Background(), "false"); err == nil || !strings.Contains(err.Error(), "exit status 1") {
		t.Fatal(err)
	}
}

func TestWriteFile(t *testing.T) {
	p := &Peer{Node: "b", SSH: fakeSSH(t)}
	dst := filepath.Join(t.TempDir(), "etc cluster", "clconf.xml")
	if err := p.WriteFile(context.Background(), dst, []byte("<clconf/>\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(dst)
	st, _ := os.Stat(dst)
	if string(b) != "<clconf/>\n" || st.Mode().Perm() != 0o600 {
		t.Fatalf("%q %v", b, st.Mode())
	}
}
