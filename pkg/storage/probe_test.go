package storage

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func fakeRoot(t *testing.T, files map[string]string) string {
	root := t.TempDir()
	for p, s := range files {
		full := filepath.Join(root, p)
		os.MkdirAll(filepath.Dir(full), 0o755)
		os.WriteFile(full, []byte(s), 0o644)
	}
	return root
}

func lookIn(have ...string) func(string) (string, error) {
	return func(n string) (string, error) {
		for _, h := range have {
			if h == n {
				return "/usr/sbin/" + n, nil
			}
		}
		return "", errors.New("not found")
	}
}

func TestProbeDRBD(t *testing.T) {
	tests := []struct {
		name   string
		files  map[string]string
		tools  []string
		load   func(string) error
		want   []bool
		detail string
	}{
		{"loaded", map[string]string{"/proc/drbd": "version: 8.4.11 (api:1/proto:86-101)\n"}, []string{"drbdadm", "drbdsetup", "lvm", "vgs", "lvs", "lvcreate"}, nil, []bool{true, true, true}, "loaded: version: 8.4.11"},
		{"loadable and loaded", map[string]string{"/lib/modules/6.1.0-9-amd64/modules.dep": "kernel/drivers/block/drbd/drbd.ko.xz: kernel/lib/lru_cache.ko.xz\n"}, nil, func(string) error { return nil }, []bool{true, false, false}, "loaded"},
		{"missing module", map[string]string{"/lib/modules/6.1.0-9-amd64/modules.dep": "kernel/fs/ext4/ext4.ko:\n"}, []string{"drbdadm"}, nil, []bool{false, false, false}, "not available for kernel 6.1.0-9-amd64"},
		{"load fails", map[string]string{"/lib/modules/6.1.0-9-amd64/modules.dep": "drbd.ko:\n"}, nil, func(string) error { return errors.New("Operation not permitted") }, []bool{false, false, false}, "cannot be loaded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			caps := Probe("drbd", Env{Root: fakeRoot(t, tt.files), LookPath: lookIn(tt.tools...), Release: "6.1.0-9-amd64", Modprobe: tt.load})
			for i, c := range caps {
				if c.Found != tt.want[i] {
					t.Errorf("%s: found=%v (%s)", c.Name, c.Found, c.Note)
				}
			}
			if !strings.Contains(caps[0].Note, tt.detail) {
				t.Errorf("note %q, want %q", caps[0].Note, tt.detail)
			}
		})
	}
}

func TestProbeFilesync(t *testing.T) {
	caps := Probe("filesync", Env{LookPath: lookIn("ssh")})
	if len(caps) != 1 || caps[0].Found || caps[0].Note != "rsync not found" {
		t.Fatalf("%+v", caps)
	}
}
