package clbuildapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/linuxha-ng/linuxha/pkg/clitool"
	"github.com/linuxha-ng/linuxha/pkg/config"
	"github.com/linuxha-ng/linuxha/pkg/layout"
	"github.com/linuxha-ng/linuxha/pkg/resource"
)

// memberCheck is what one node found about one resource.
type memberCheck struct {
	Name     string   `json:"name"`
	Err      string   `json:"error,omitempty"`
	Field    string   `json:"field,omitempty"` // the attribute the error is about
	Warnings []string `json:"warnings,omitempty"`
}

// checkMembers runs each resource agent's Check on this node.
func checkMembers(ctx context.Context, app *config.App) []memberCheck {
	out := make([]memberCheck, 0, len(app.Resources))
	for i := range app.Resources {
		r := &app.Resources[i]
		warns, err := resource.New(r, resource.Env{App: app.Name}).Check(ctx)
		m := memberCheck{Name: r.Name, Warnings: warns}
		if err != nil {
			m.Err = err.Error()
			var fe *resource.FieldError
			if errors.As(err, &fe) {
				m.Field = fe.Field
			}
		}
		out = append(out, m)
	}
	return out
}

// checkMembersCommand is the hidden "check-members": the peer's half of
// --check's resource checks, on the appconf.xml given on stdin.
func checkMembersCommand(ctx context.Context, file string, stdin io.Reader, stdout io.Writer) error {
	data, err := io.ReadAll(io.LimitReader(stdin, config.MaxFileSize+1))
	if err != nil {
		return err
	}
	app, _, err := config.ParseApp(file, data)
	if err != nil {
		return clitool.ConfigError(err)
	}
	return json.NewEncoder(stdout).Encode(checkMembers(ctx, app))
}

// checkResources is --check for <resources>: every agent, user, service
// and template must be there on both nodes, for the application to start
// on either; each problem names the file, the line and the member.
func (b *builder) checkResources() error {
	if len(b.app.Resources) == 0 {
		return nil
	}
	data, err := os.ReadFile(b.app.File)
	if err != nil {
		return err
	}
	res, err := b.p.RunInput(b.ctx, data, layout.Bin("clbuildapp"), "check-members", "--file", b.app.File)
	if err != nil {
		return fmt.Errorf("checking resources on %s: %w", b.peer, err)
	}
	var remote []memberCheck
	if res.Code != 0 || json.Unmarshal(res.Stdout, &remote) != nil {
		return fmt.Errorf("checking resources on %s: exit %d: %s", b.peer, res.Code, res.Stderr)
	}
	var ps config.Problems
	monitored := false
	for _, node := range []struct {
		name   string
		checks []memberCheck
	}{{b.me, checkMembers(b.ctx, b.app)}, {b.peer, remote}} {
		for _, m := range node.checks {
			r, ok := b.app.Resource(m.Name)
			if !ok {
				continue
			}
			for _, w := range m.Warnings {
				b.log.Warnf("Resource %s on %s: %s", m.Name, node.name, w)
			}
			if m.Err != "" {
				el := r.Element()
				if m.Field != "" {
					el += "/" + m.Field
				}
				ps = append(ps, &config.Problem{File: b.app.File, Line: r.Line, Element: el, Text: m.Err + " on " + node.name})
			}
		}
	}
	if len(ps) > 0 {
		return clitool.ConfigError(ps)
	}
	for _, r := range b.app.Resources {
		b.log.Infof("Validated resource %s (%s) on %s and %s.", r.Name, r.ID(), b.me, b.peer)
		monitored = monitored || r.Interval > 0
	}
	if _, err := os.Stat(b.l.LemsConf(b.name)); err != nil && monitored {
		b.log.Warnf("Resources of %s are watched by Lems, which runs only with %s.", b.name, b.l.LemsConf(b.name))
	}
	return nil
}
