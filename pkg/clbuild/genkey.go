package clbuild

import (
	"bytes"
	"fmt"
	"os"
	"regexp"

	"github.com/linuxha-ng/linuxha/pkg/atomicfile"
	"github.com/linuxha-ng/linuxha/pkg/config"
)

var reKeyElem = regexp.MustCompile(`<key>[^<]*</key>`)

// WriteNewKey puts a new random key into clconf.xml, keeping the rest of
// the file as written (comments, layout) and its mode; the file is
// replaced atomically.
func WriteNewKey(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	key, err := config.GenKey()
	if err != nil {
		return err
	}
	elem := []byte("<key>" + key + "</key>")
	switch n := len(reKeyElem.FindAllIndex(data, -1)); {
	case n == 1:
		data = reKeyElem.ReplaceAll(data, elem)
	case n == 0 && regexp.MustCompile(`</global>`).Match(data):
		data = regexp.MustCompile(`</global>`).ReplaceAllLiteral(data, append(append([]byte("  "), elem...), []byte("\n  </global>")...))
	default:
		return fmt.Errorf("%s: expected one <key> element in <global>, found %d", path, n)
	}
	return atomicfile.WriteFile(path, data, st.Mode().Perm())
}

// keyLine is the line of clconf.xml that holds <key> (0 if none), for
// the one line that names file, line and field.
func keyLine(path string) int {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	loc := reKeyElem.FindIndex(data)
	if loc == nil {
		return 0
	}
	return 1 + bytes.Count(data[:loc[0]], []byte("\n"))
}
