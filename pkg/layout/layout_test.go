package layout

import (
	"os"
	"path/filepath"
	"testing"
)

func TestPathsBelowRoot(t *testing.T) {
	l := Layout{Root: "/tmp/n1"}
	cases := map[string]string{
		l.Clconf():        "/tmp/n1/etc/cluster/clconf.xml",
		l.Fsmap("apache"): "/tmp/n1/etc/cluster/.resources/fsmap/apache",
		l.StaleFile("apache", "app01vg", "docs", "serverb"): "/tmp/n1/etc/cluster/.status/apache/app01vg.docs.serverb.STALE",
		l.TimeFile("apache"): "/tmp/n1/etc/cluster/.status/apache/TIME",
		l.LogDir():           "/tmp/n1/var/log/cluster",
		Layout{}.Clconf():    "/etc/cluster/clconf.xml",
	}
	for got, want := range cases {
		if got != want {
			t.Errorf("got %s want %s", got, want)
		}
	}
}

func TestWriteFileAtomicReplace(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "sub", "f")
	if err := WriteFile(p, []byte("one"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(p, []byte("two"), 0o600); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	st, _ := os.Stat(p)
	if string(b) != "two" || st.Mode().Perm() != 0o600 {
		t.Fatalf("got %q %v", b, st.Mode())
	}
	es, _ := os.ReadDir(filepath.Dir(p))
	if len(es) != 1 {
		t.Fatalf("temporary files left: %v", es)
	}
}
