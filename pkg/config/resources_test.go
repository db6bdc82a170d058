package config

import (
	"strings"
	"testing"
	"time"
)

func resApp(members string) []byte {
	return []byte("<appconf><global><version>0.2</version><name>x</name></global>\n" +
		"<application>" + scripts + "</application>\n<resources>\n" + members + "\n</resources></appconf>")
}

// TestResources reads each member kind (seed 000's CSV fields as
// attributes) and keeps the section's order as the start order.
func TestResources(t *testing.T) {
	a, _, err := ParseApp("appconf.xml", resApp(`
<crontab name="jobs" template="/etc/cluster/x/jobs_cron"/>
<service name="web" service="apache2" interval="5"/>
<user name="ldm" user="ldm:users" start="ldmadmin clean; ldmadmin start" stop="ldmadmin stop" ensure="~/util/ldm_ensure.sh"/>
<mount name="data" source="192.168.122.1:/data" target="/data" fstype="nfs" options="soft"/>
<ocf name="www" agent="ocf:heartbeat:apache" timeout="40" restarts="1">
  <param name="configfile" value="/etc/apache2/apache2.conf"/>
  <param name="statusurl" value="http://localhost/"/>
</ocf>`))
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, r := range a.Resources {
		kinds = append(kinds, r.Kind+":"+r.Name)
	}
	if got := strings.Join(kinds, " "); got != "crontab:jobs service:web user:ldm mount:data ocf:www" {
		t.Fatalf("order %s", got)
	}
	cr, _ := a.Resource("jobs")
	if cr.Target != "/etc/cron.d" || cr.Interval != DefaultCrontabInterval {
		t.Fatalf("crontab defaults: %+v", cr)
	}
	u, _ := a.Resource("ldm")
	if u.User != "ldm" || u.Group != "users" || len(u.Start) != 2 || u.Start[1] != "ldmadmin start" || u.Interval != DefaultResourceInterval {
		t.Fatalf("user: %+v", u)
	}
	o, _ := a.Resource("www")
	if o.Provider != "heartbeat" || o.Agent != "apache" || len(o.Params) != 2 || o.Timeout != 40*time.Second || o.Restarts != 1 || o.Line != 9 {
		t.Fatalf("ocf: %+v", o)
	}
	if s, _ := a.Resource("web"); s.Interval != 5*time.Second || s.ID() != "service apache2" {
		t.Fatalf("service: %+v", s)
	}
}

// TestResourceRules: bad members are refused with the file, the line and
// the field.
func TestResourceRules(t *testing.T) {
	for _, tt := range []struct{ member, want string }{
		{`<ocf name="a" agent="heartbeat:apache"/>`, `appconf.xml:4: resources/ocf a/agent: "heartbeat:apache" must be ocf:<provider>:<agent>`},
		{`<ocf name="a" agent="ocf:../x:apache"/>`, `resources/ocf a/agent`},
		{`<ocf name="a" agent="ocf:heartbeat:Dummy"><param name="a-b" value="1"/></ocf>`, `resources/ocf a/param: name "a-b"`},
		{`<crontab name="c" template="/etc/x/jobs.cron"/>`, `resources/crontab c/template`},
		{`<crontab name="c"/>`, `resources/crontab c/template: required value missing`},
		{`<service name="s" service="a b"/>`, `resources/service s/service`},
		{`<user name="u" user="Bad User" start="a" stop="b"/>`, `resources/user u/user`},
		{`<user name="u" user="ldm" start="a" stop="b" interval="10"/>`, `give one`},
		{`<user name="u" user="ldm" stop="b"/>`, `resources/user u/start: required value missing`},
		{`<mount name="m" source="h:/d" target="d" fstype="nfs"/>`, `resources/mount m/target`},
		{`<mount name="m" source="h:/d" target="/d" fstype="ext4"/>`, `not a client file system`},
		{`<printer name="p"/>`, `unknown resource kind "printer"`},
		{`<service name="s" service="a"/><service name="s" service="b"/>`, `listed twice`},
		{`<service service="a"/>`, `resources/service: attribute name is required`},
		{`<service name="s" service="a" timeout="0"/>`, `resources/service s/timeout`},
		{`<service name="s" service="a" restarts="x"/>`, `resources/service s/restarts`},
		{`<service name="s" service="a" interval="0.1"/>`, `resources/service s/interval: 100ms must be 0 or between 0.5 and 3600 seconds`},
	} {
		_, _, err := ParseApp("appconf.xml", resApp(tt.member))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want %q", tt.member, err, tt.want)
		}
	}
}

// The OCF example of the apache application parses, with its agent's
// parameters in order.
func TestOCFExample(t *testing.T) {
	a, _, err := ParseApp("appconf.ocf.xml", mustRead(t, "../../examples/apache/appconf.ocf.xml"))
	if err != nil {
		t.Fatal(err)
	}
	r, ok := a.Resource("www")
	if !ok || r.ID() != "ocf:heartbeat:apache" || r.Params[0].Name != "configfile" || r.Interval != 5*time.Second {
		t.Fatalf("%+v", a.Resources)
	}
}
