package clbuild

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/linuxha-ng/linuxha/pkg/config"
)

// --genkey replaces the example's placeholder with a key that passes the
// strength check, keeps the file's mode and the rest of its text.
func TestWriteNewKey(t *testing.T) {
	c := cluster(t)
	b, _ := os.ReadFile("../../examples/clconf.xml")
	if config.CheckKey(c.Key) == nil {
		t.Fatalf("the example clconf.xml ships a usable key %q", c.Key)
	}
	p := filepath.Join(t.TempDir(), "clconf.xml")
	os.WriteFile(p, b, 0o600)
	if err := WriteNewKey(p); err != nil {
		t.Fatal(err)
	}
	out, _ := os.ReadFile(p)
	st, _ := os.Stat(p)
	c2, _, err := config.ParseCluster("clconf.xml", out)
	if err != nil || config.CheckKey(c2.Key) != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("after --genkey: key %q err %v mode %v", c2.Key, err, st.Mode())
	}
	if strings.Replace(string(out), c2.Key, c.Key, 1) != string(b) {
		t.Fatal("--genkey changed more than the key")
	}
}
