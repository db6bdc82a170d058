// Command genman writes the man pages. A section 8 page is one markdown
// document built from the command's urfave/cli definition (NAME, SYNOPSIS,
// DESCRIPTION, OPTIONS, and EXIT STATUS from clitool's table) and the
// sections of man/src/<cmd>.8.md (FILES, EXAMPLES, SEE ALSO and the
// command's own), rendered once by md2man, so a page has one .TH. Section
// 5 pages are man/src/*.5.md as they are. Run it with "make man".
package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/cpuguy83/go-md2man/v2/md2man"
	"github.com/urfave/cli/v2"

	"github.com/linuxha-ng/linuxha/internal/commands"
	"github.com/linuxha-ng/linuxha/pkg/clitool"
)

func main() {
	if err := run("man"); err != nil {
		fmt.Fprintln(os.Stderr, "genman:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	for _, newApp := range commands.All {
		app := clitool.Standard(newApp(io.Discard, io.Discard))
		app.Setup() // adds --help and --version, as running it does
		src := filepath.Join(dir, "src", app.Name+".8.md")
		extra, err := os.ReadFile(src)
		if err != nil {
			return fmt.Errorf("%s: %w (every command needs FILES, EXAMPLES and SEE ALSO there)", app.Name, err)
		}
		md, err := commandPage(app, string(extra))
		if err != nil {
			return fmt.Errorf("%s: %w", src, err)
		}
		if err := os.WriteFile(filepath.Join(dir, app.Name+".8"), render(md), 0o644); err != nil {
			return err
		}
	}
	srcs, _ := filepath.Glob(filepath.Join(dir, "src", "*.5.md"))
	for _, src := range srcs {
		md, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		out := filepath.Join(dir, strings.TrimSuffix(filepath.Base(src), ".md"))
		if err := os.WriteFile(out, render(escapeSource(string(md))), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func render(md string) []byte { return bytes.TrimLeft(md2man.Render([]byte(md)), "\n") }

// Sections of a source that have a fixed place at the end of a page, in
// man-pages(7) order; any other section comes after OPTIONS, in the
// source's order.
var tail = []string{"EXIT STATUS", "ENVIRONMENT", "FILES", "NOTES", "EXAMPLES", "SEE ALSO"}

// commandPage is the whole markdown page of a command.
func commandPage(app *cli.App, source string) (string, error) {
	secs, order, err := sections(escapeSource(source))
	if err != nil {
		return "", err
	}
	var b strings.Builder
	title := fmt.Sprintf("%s 8 \"\" linuxha \"System Manager's Manual\"", app.Name)
	fmt.Fprintf(&b, "%s\n%s\n\n", title, strings.Repeat("=", len(title)))
	fmt.Fprintf(&b, "# NAME\n\n%s - %s\n\n", app.Name, escape(app.Usage))
	b.WriteString("# SYNOPSIS\n\n")
	usage := app.UsageText
	if usage == "" {
		usage = app.Name + " [OPTIONS]"
	}
	// One form per line; an indented line continues the form above it.
	var forms []string
	for _, line := range strings.Split(usage, "\n") {
		if strings.HasPrefix(line, " ") && len(forms) > 0 {
			forms[len(forms)-1] += " " + strings.TrimSpace(line)
			continue
		}
		forms = append(forms, strings.TrimSpace(line))
	}
	for _, form := range forms {
		name, rest, _ := strings.Cut(form, " ")
		fmt.Fprintf(&b, "**%s** %s  \n", escape(name), escape(rest))
	}
	b.WriteString("\n# DESCRIPTION\n\n")
	if desc := secs["DESCRIPTION"]; desc != "" {
		// A source's DESCRIPTION continues the definition's.
		if app.Description != "" {
			b.WriteString(escape(app.Description) + "\n\n")
		}
		b.WriteString(desc)
	} else if app.Description != "" {
		b.WriteString(escape(app.Description) + "\n\n")
	} else {
		return "", fmt.Errorf("no DESCRIPTION: give the command a Description or the source a DESCRIPTION section")
	}
	b.WriteString("# OPTIONS\n\n")
	for _, f := range app.VisibleFlags() {
		b.WriteString(option(f))
	}
	for _, name := range order {
		if name != "DESCRIPTION" && !slices.Contains(tail, name) {
			fmt.Fprintf(&b, "# %s\n\n%s", name, secs[name])
		}
	}
	for _, name := range tail {
		body, ok := secs[name]
		if name == "EXIT STATUS" {
			b.WriteString("# EXIT STATUS\n\n")
			for _, c := range clitool.ExitCodes {
				fmt.Fprintf(&b, "**%d**\n:   %s\n\n", c.Code, escape(c.Meaning))
			}
			b.WriteString(body)
			continue
		}
		if !ok {
			continue
		}
		fmt.Fprintf(&b, "# %s\n\n%s", name, body)
	}
	return b.String(), nil
}

// option renders one flag as a definition-list entry.
func option(f cli.Flag) string {
	df, ok := f.(cli.DocGenerationFlag)
	if !ok {
		return ""
	}
	var names []string
	for _, n := range f.Names() {
		dash := "-"
		if len(n) > 1 {
			dash = "--"
		}
		names = append(names, "**"+escape(dash+n)+"**")
	}
	placeholder, usage := unquoteUsage(df.GetUsage())
	term := strings.Join(names, ", ")
	if df.TakesValue() {
		if placeholder == "" {
			placeholder = "value"
		}
		term += " *" + escape(placeholder) + "*"
	}
	if d := df.GetDefaultText(); d != "" && d != `""` && df.TakesValue() {
		usage += " (default: " + strings.Trim(d, `"`) + ")"
	}
	return fmt.Sprintf("%s\n:   %s\n\n", term, escape(strings.Join(strings.Fields(usage), " ")))
}

// unquoteUsage is urfave/cli's: the first `word` of a usage names the
// flag's value, and loses its quotes.
func unquoteUsage(usage string) (placeholder, text string) {
	before, rest, ok := strings.Cut(usage, "`")
	if !ok {
		return "", usage
	}
	name, after, ok := strings.Cut(rest, "`")
	if !ok {
		return "", usage
	}
	return name, before + name + after
}

var mdSpecial = strings.NewReplacer(`\`, `\\`, "*", `\*`, "_", `\_`, "`", "\\`", "<", `\<`, ">", `\>`, "[", `\[`, "]", `\]`)

// escape makes a Go string (a usage or description) literal markdown. A
// line that starts with spaces or "- " is kept on a line of its own.
func escape(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		l = mdSpecial.Replace(l)
		if i > 0 && (strings.HasPrefix(l, " ") || strings.HasPrefix(l, "- ")) {
			lines[i-1] += "  " // a hard line break before it
			l = strings.TrimLeft(l, " ")
		}
		lines[i] = l
	}
	return strings.Join(lines, "\n")
}

var inlineCode = regexp.MustCompile("`[^`]*`")

// escapeSource keeps the <placeholder> words of a markdown source, which
// markdown would take for HTML and drop: a "<" outside code becomes "\<".
func escapeSource(md string) string {
	lines := strings.Split(md, "\n")
	fenced := false
	for i, l := range lines {
		if strings.HasPrefix(l, "```") {
			fenced = !fenced
			continue
		}
		if fenced || strings.HasPrefix(l, "    ") || strings.HasPrefix(l, "\t") {
			continue
		}
		var b strings.Builder
		last := 0
		for _, m := range inlineCode.FindAllStringIndex(l, -1) {
			b.WriteString(strings.ReplaceAll(l[last:m[0]], "<", `\<`))
			b.WriteString(l[m[0]:m[1]])
			last = m[1]
		}
		b.WriteString(strings.ReplaceAll(l[last:], "<", `\<`))
		lines[i] = b.String()
	}
	return strings.Join(lines, "\n")
}

// sections splits a source into its "# NAME" sections.
func sections(md string) (map[string]string, []string, error) {
	secs := map[string]string{}
	var order []string
	cur := ""
	for _, line := range strings.SplitAfter(md, "\n") {
		if h, ok := strings.CutPrefix(line, "# "); ok {
			cur = strings.TrimSpace(h)
			if _, dup := secs[cur]; dup {
				return nil, nil, fmt.Errorf("section %s twice", cur)
			}
			secs[cur] = ""
			order = append(order, cur)
			continue
		}
		if cur == "" {
			if strings.TrimSpace(line) != "" {
				return nil, nil, fmt.Errorf("text before the first section: %q", line)
			}
			continue
		}
		secs[cur] += line
	}
	for k, v := range secs {
		// Blank lines only: an indented first line is a code block.
		secs[k] = strings.Trim(v, "\n") + "\n\n"
	}
	return secs, order, nil
}
