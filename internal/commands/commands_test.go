package commands

import (
	"io"
	"os"
	"slices"
	"testing"
)

// All names exactly the commands of cmd/.
func TestAllIsEveryCommand(t *testing.T) {
	ents, err := os.ReadDir("../../cmd")
	if err != nil {
		t.Fatal(err)
	}
	var dirs, names []string
	for _, e := range ents {
		dirs = append(dirs, e.Name())
	}
	for _, mk := range All {
		names = append(names, mk(io.Discard, io.Discard).Name)
	}
	slices.Sort(names)
	if !slices.Equal(dirs, names) {
		t.Fatalf("cmd/ has %v, commands.All %v", dirs, names)
	}
}
