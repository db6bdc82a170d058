// Package golden compares what tests produce with files under testdata/
// (go test -update rewrites them). Only tests import it: its -update flag
// must not reach the commands.
package golden

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/linuxha-ng/linuxha/pkg/jsonout"
)

var update = flag.Bool("update", false, "rewrite the golden JSON files under testdata/")

// JSON compares v, written as jsonout.Write writes it, with
// testdata/name. These files are the schemas' examples.
func JSON(t testing.TB, name string, v any) {
	t.Helper()
	var b bytes.Buffer
	if err := jsonout.Write(&b, v); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if !bytes.Equal(b.Bytes(), want) {
		t.Errorf("%s differs:\n got %s\nwant %s", path, b.Bytes(), want)
	}
}
