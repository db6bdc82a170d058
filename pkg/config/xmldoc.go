// Package config parses and validates every XML file an administrator
// writes: clconf.xml, appconf.xml, cllocks.xml, clstartup.xml, procmon
// monitor files and lems.local.xml. Parsers start from defaults, so absent
// optional elements keep them, and every problem names the file, the line
// and the element: "clconf.xml:14: global/portpool: ...".
package config

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"
)

// MaxFileSize bounds what a parser reads; configuration files are small.
const MaxFileSize = 1 << 20

// Problem is one error or warning in a configuration file.
type Problem struct {
	File    string
	Line    int // 0 when unknown
	Element string
	Text    string
}

func (p *Problem) Error() string {
	if p.Line > 0 {
		return fmt.Sprintf("%s:%d: %s: %s", p.File, p.Line, p.Element, p.Text)
	}
	return fmt.Sprintf("%s: %s: %s", p.File, p.Element, p.Text)
}

// Problems is every error found in one file; Error() puts one per line.
type Problems []*Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// err returns nil for no problems, so callers can return it directly.
func (ps Problems) err() error {
	if len(ps) == 0 {
		return nil
	}
	return ps
}

// doc is a parsed XML document that remembers where each element starts.
type doc struct {
	file     string
	root     *etree.Element
	lines    map[*etree.Element]int
	errs     Problems
	warnings Problems
}

// readFile reads a configuration file, refusing oversized ones.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(data) > MaxFileSize {
		return nil, &Problem{File: path, Element: "file", Text: fmt.Sprintf("larger than %d bytes", MaxFileSize)}
	}
	return data, nil
}

func parseDoc(file string, data []byte, rootName string) (*doc, error) {
	if len(data) > MaxFileSize {
		return nil, &Problem{File: file, Element: "file", Text: fmt.Sprintf("larger than %d bytes", MaxFileSize)}
	}
	starts, err := startLines(data)
	if err != nil {
		var se *xml.SyntaxError
		if errors.As(err, &se) {
			return nil, &Problem{File: file, Line: se.Line, Element: "xml", Text: se.Msg}
		}
		return nil, &Problem{File: file, Element: "xml", Text: err.Error()}
	}
	d := etree.NewDocument()
	if err := d.ReadFromBytes(data); err != nil {
		return nil, &Problem{File: file, Element: "xml", Text: err.Error()}
	}
	root := d.Root()
	if root == nil {
		return nil, &Problem{File: file, Element: "xml", Text: "no root element"}
	}
	dc := &doc{file: file, root: root, lines: map[*etree.Element]int{}}
	i := 0
	var walk func(e *etree.Element)
	walk = func(e *etree.Element) {
		if i < len(starts) {
			dc.lines[e] = starts[i]
		}
		i++
		for _, c := range e.ChildElements() {
			walk(c)
		}
	}
	walk(root)
	if root.Tag != rootName {
		return nil, &Problem{File: file, Line: dc.lines[root], Element: root.Tag, Text: fmt.Sprintf("root element must be <%s>", rootName)}
	}
	return dc, nil
}

// startLines lists the line of every start tag in document order; etree
// keeps no positions, so a plain decoder pass supplies them.
func startLines(data []byte) ([]int, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	var lines []int
	for {
		line, _ := dec.InputPos()
		tok, err := dec.Token()
		if err == io.EOF {
			return lines, nil
		}
		if err != nil {
			return nil, err
		}
		if _, ok := tok.(xml.StartElement); ok {
			lines = append(lines, line)
		}
	}
}

func (d *doc) line(e *etree.Element) int {
	if e == nil {
		return d.lines[d.root]
	}
	return d.lines[e]
}

func (d *doc) errorf(e *etree.Element, elem, format string, args ...any) {
	d.errs = append(d.errs, &Problem{File: d.file, Line: d.line(e), Element: elem, Text: fmt.Sprintf(format, args...)})
}

func (d *doc) warnf(e *etree.Element, elem, format string, args ...any) {
	d.warnings = append(d.warnings, &Problem{File: d.file, Line: d.line(e), Element: elem, Text: fmt.Sprintf(format, args...)})
}

// child returns the trimmed text of parent's child element name, matching
// the name without regard to case (the Reference capitalises some names in
// its tables, L1523-1557).
func child(parent *etree.Element, name string) (string, *etree.Element) {
	if parent == nil {
		return "", nil
	}
	for _, c := range parent.ChildElements() {
		if strings.EqualFold(c.Tag, name) {
			return strings.TrimSpace(c.Text()), c
		}
	}
	return "", nil
}

func children(parent *etree.Element, name string) []*etree.Element {
	var out []*etree.Element
	if parent == nil {
		return out
	}
	for _, c := range parent.ChildElements() {
		if strings.EqualFold(c.Tag, name) {
			out = append(out, c)
		}
	}
	return out
}

func attr(e *etree.Element, name string) (string, bool) {
	for _, a := range e.Attr {
		if strings.EqualFold(a.Key, name) {
			return strings.TrimSpace(a.Value), true
		}
	}
	return "", false
}

// seconds parses a time in seconds that may have a fraction ("0.5", L1544).
func seconds(s string) (time.Duration, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != f || f < 0 || f > 1e7 {
		return 0, fmt.Errorf("%q is not a number of seconds", s)
	}
	return time.Duration(f * float64(time.Second)), nil
}

// yesNo accepts true/false/yes/no in any case (L1965, L5796).
func yesNo(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "true", "yes":
		return true, nil
	case "false", "no":
		return false, nil
	}
	return false, fmt.Errorf("%q must be yes, no, true or false", s)
}

// splitList splits a comma-separated list, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

type etreeElement = etree.Element

func isNotExist(err error) bool { return errors.Is(err, os.ErrNotExist) }
