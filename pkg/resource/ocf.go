package resource

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/beevik/etree"
)

// ocf runs an OCF resource agent as Pacemaker does: the action as the
// only argument, parameters as OCF_RESKEY_<name>, and the variables the
// OCF Resource Agent API defines.
type ocf struct{ base }

func (o *ocf) path() string {
	return filepath.Join(o.env.OCFRoot, "resource.d", o.r.Provider, o.r.Agent)
}

// environ is the agent's environment. Pacemaker gives agents a clean
// one; PATH is what an init system would give.
func (o *ocf) environ(op string) []string {
	env := []string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"LC_ALL=C",
		"OCF_ROOT=" + o.env.OCFRoot,
		"OCF_RA_VERSION_MAJOR=1",
		"OCF_RA_VERSION_MINOR=1",
		"OCF_RESOURCE_INSTANCE=" + o.r.Name,
		"OCF_RESOURCE_TYPE=" + o.r.Agent,
		"OCF_RESOURCE_PROVIDER=" + o.r.Provider,
		"OCF_CHECK_LEVEL=0",
		"OCF_RESKEY_CRM_meta_timeout=" + limitMs(o.r.Timeout),
	}
	if op == "monitor" {
		env = append(env, "OCF_RESKEY_CRM_meta_interval="+limitMs(o.r.Interval))
	}
	for _, p := range o.r.Params {
		env = append(env, "OCF_RESKEY_"+p.Name+"="+p.Value)
	}
	return env
}

// rscTmp is the agents' state directory (ocf-directories' HA_RSCTMP),
// which resource-agents' tmpfiles.d entry makes at boot under systemd;
// a node booted otherwise lacks it, and Dummy and others then fail.
const rscTmp = "/run/resource-agents"

func (o *ocf) op(ctx context.Context, op string) (Code, string) {
	if _, err := os.Stat(rscTmp); os.IsNotExist(err) {
		if err := os.Mkdir(rscTmp, 0o755|os.ModeSticky); err != nil {
			o.logf("%s: %v", rscTmp, err)
		}
	}
	c, out, err := run(ctx, command{argv: []string{o.path(), op}, env: o.environ(op), dir: "/", limit: o.r.Timeout, log: o.env.Log})
	if err != nil {
		o.logf("%s %s: %v", o.r.ID(), op, err)
	}
	return c, out
}

func (o *ocf) Start(ctx context.Context) Code {
	c, _ := o.op(ctx, "start")
	return c
}

// Stop counts "not running" as stopped (the OCF standard: stop on a
// stopped resource succeeds).
func (o *ocf) Stop(ctx context.Context) Code {
	c, _ := o.op(ctx, "stop")
	if c == NotRunning {
		return Success
	}
	return c
}

func (o *ocf) Monitor(ctx context.Context) Code {
	c, _ := o.op(ctx, "monitor")
	return c
}

// Param is one parameter of an agent's meta-data.
type Param struct {
	Name     string
	Required bool
	Default  string
}

// MetaData reads the agent's parameters from its meta-data action.
func (o *ocf) MetaData(ctx context.Context) ([]Param, error) {
	c, out, err := run(ctx, command{argv: []string{o.path(), "meta-data"}, env: o.environ("meta-data"), dir: "/", limit: o.r.Timeout})
	if err != nil || c != Success {
		return nil, fmt.Errorf("%s meta-data answered %v %v", o.r.ID(), c, err)
	}
	return ParseMetaData([]byte(out))
}

// ParseMetaData reads <resource-agent><parameters><parameter name=…
// required="1"><content default=…/> from an agent's meta-data.
func ParseMetaData(data []byte) ([]Param, error) {
	d := etree.NewDocument()
	if err := d.ReadFromBytes(data); err != nil {
		return nil, fmt.Errorf("meta-data: %w", err)
	}
	root := d.SelectElement("resource-agent")
	if root == nil {
		return nil, fmt.Errorf("meta-data: no <resource-agent>")
	}
	var ps []Param
	for _, pe := range root.FindElements("parameters/parameter") {
		p := Param{Name: pe.SelectAttrValue("name", ""), Required: pe.SelectAttrValue("required", "0") == "1"}
		if ce := pe.SelectElement("content"); ce != nil {
			p.Default = ce.SelectAttrValue("default", "")
		}
		ps = append(ps, p)
	}
	return ps, nil
}

// Check finds the agent, checks the parameters against its meta-data
// (every required one given; others known) and runs validate-all.
func (o *ocf) Check(ctx context.Context) ([]string, error) {
	if st, err := os.Stat(o.path()); err != nil || st.Mode()&0o111 == 0 {
		return nil, fieldErr("agent", "no agent %s (%s)", o.r.ID(), o.path())
	}
	meta, err := o.MetaData(ctx)
	if err != nil {
		return nil, fieldErr("agent", "%v", err)
	}
	known := map[string]bool{}
	var warns []string
	for _, p := range meta {
		known[p.Name] = true
		if !p.Required {
			continue
		}
		if _, ok := o.param(p.Name); !ok {
			return nil, fieldErr("param", "parameter %s is required by %s", p.Name, o.r.ID())
		}
	}
	for _, p := range o.r.Params {
		if !known[p.Name] {
			warns = append(warns, fmt.Sprintf("parameter %s is not in %s's meta-data", p.Name, o.r.ID()))
		}
	}
	// validate-all's answer is a warning: an agent whose files live on
	// the application's volumes (apache's configfile) fails it wherever
	// those are not mounted, as they are nowhere at --check time.
	c, out := o.op(ctx, "validate-all")
	switch c {
	case Success:
	case ErrUnimpl:
		warns = append(warns, fmt.Sprintf("%s has no validate-all", o.r.ID()))
	default:
		warns = append(warns, fmt.Sprintf("%s validate-all answered %v (files on the application's volumes are not there until it starts): %s",
			o.r.ID(), c, strings.TrimSpace(lastLine(out))))
	}
	return warns, nil
}

func (o *ocf) param(name string) (string, bool) {
	for _, p := range o.r.Params {
		if p.Name == name {
			return p.Value, true
		}
	}
	return "", false
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
