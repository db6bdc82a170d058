package config

import (
	"path/filepath"
	"testing"
)

func seed(f *testing.F, globs ...string) {
	for _, g := range globs {
		files, _ := filepath.Glob(g)
		for _, p := range files {
			f.Add(mustRead(f, p))
		}
	}
	f.Add([]byte("<"))
	f.Add([]byte(""))
}

// Each parser must return a value or an error for any input, never panic
// or hang (run with: go test -fuzz FuzzCluster -fuzztime 60s ./pkg/config).
func FuzzCluster(f *testing.F) {
	seed(f, "../../examples/clconf.xml")
	f.Add(variant("<echotype>tcp</echotype>", "<timings><keepalive>0.1</keepalive></timings>", ""))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, _, err := ParseCluster("f", b)
		if err == nil && (c == nil || len(c.Nodes) != 2) {
			t.Fatal("valid config without two nodes")
		}
	})
}

func FuzzApp(f *testing.F) {
	seed(f, "../../examples/*/appconf.xml")
	f.Fuzz(func(t *testing.T, b []byte) { _, _, _ = ParseApp("f", b) })
}

func FuzzLocks(f *testing.F) {
	seed(f, "../../examples/cllocks.xml")
	f.Fuzz(func(t *testing.T, b []byte) { _, _ = ParseLocks("f", b) })
}

func FuzzStartup(f *testing.F) {
	seed(f, "../../examples/clstartup.xml")
	f.Fuzz(func(t *testing.T, b []byte) { _, _ = ParseStartup("f", b) })
}

func FuzzProcmon(f *testing.F) {
	seed(f, "../../examples/*/httpd.xml", "../../examples/*/smbd.xml")
	f.Fuzz(func(t *testing.T, b []byte) { _, _ = ParseProcmon("f", b) })
}

func FuzzLems(f *testing.F) {
	seed(f, "../../examples/*/lems.local.xml")
	f.Fuzz(func(t *testing.T, b []byte) { _, _ = ParseLems("f", b) })
}
