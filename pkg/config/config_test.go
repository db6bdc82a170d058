package config

import (
	"errors"
	"net/netip"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

func mustRead(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The sample of L1481-1517 parses with every documented value.
func TestClusterSample(t *testing.T) {
	c, warns, err := ParseCluster("clconf.xml", mustRead(t, "../../examples/clconf.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(warns) != 0 {
		t.Fatalf("warnings: %v", warns)
	}
	if c.Name != "cluster1" || c.Port != 9900 || c.ClPort != 9849 || c.ClnetdPort != 9850 ||
		c.PortPoolMin != 9901 || c.PortPoolMax != 9999 || c.Ports() != 99 || c.MaxBlockDevs != 50 ||
		c.DRBDNetwork != "drbd" || c.EchoType != "ICMP" || c.DataProtocol != "C" ||
		c.Keepalive != 3*time.Second || c.Warn != 7*time.Second || c.Dead != 12*time.Second ||
		c.ClusterForm != 300*time.Second {
		t.Fatalf("unexpected values: %+v", c)
	}
	b, ok := c.Peer("servera")
	if !ok || b.Name != "serverb" || strings.Join(b.Cards(), ",") != "eth0,eth1,eth2" {
		t.Fatalf("peer: %+v", b)
	}
}

const base = `<?xml version="1.0"?>
<clconf>
<global>
  <name>c1</name><version>0.3</version><data>replicated</data>
  <datadetail>drbd</datadetail><key>k</key><port>9900</port>
  <portpool>9901,9950</portpool><maxblockdevs>50</maxblockdevs>
  <drbd_network>drbd</drbd_network>%EXTRA%
</global>
%TIMINGS%
<node><name>a</name>
  <network name="public" cards="eth0,eth1"/>
  <network name="drbd" cards="eth2"/>
</node>
<node><name>b</name>
  %BNETS%
</node>
</clconf>`

func variant(extra, timings, bnets string) []byte {
	if bnets == "" {
		bnets = `<network name="public" cards="enp1s0,eth1"/><network name="drbd" cards="eth2"/>`
	}
	s := strings.NewReplacer("%EXTRA%", extra, "%TIMINGS%", timings, "%BNETS%", bnets).Replace(base)
	return []byte(s)
}

func TestClusterRules(t *testing.T) {
	tests := []struct {
		name              string
		extra, timings    string
		bnets             string
		wantErr, wantWarn string
	}{
		{name: "defaults", wantErr: ""},
		{name: "protocol A", extra: "<dataprotocol>a</dataprotocol>"},
		{name: "bad protocol", extra: "<dataprotocol>D</dataprotocol>", wantErr: "clconf.xml:7: global/dataprotocol: \"D\" must be A, B or C"},
		{name: "echotype udp", extra: "<echotype>udp</echotype>"},
		{name: "bad echotype", extra: "<echotype>ARP</echotype>", wantErr: "global/echotype"},
		{name: "fractional timings", timings: "<timings><keepalive>0.1</keepalive><warn>0.3</warn><dead>0.5</dead></timings>"},
		{name: "dead before warn", timings: "<timings><keepalive>1</keepalive><warn>5</warn><dead>4</dead></timings>", wantErr: "timings/dead"},
		{name: "bad number", timings: "<timings><keepalive>fast</keepalive></timings>", wantErr: "timings/keepalive: \"fast\""},
		{name: "crossover", bnets: `<network name="public" cards="eth0"/><network name="drbd" cards="eth2" attribute="crossover"/>`},
		{name: "bad attribute", bnets: `<network name="public" cards="eth0"/><network name="drbd" cards="eth2" attribute="fast"/>`, wantErr: "attribute \"fast\""},
		{name: "card in two networks", bnets: `<network name="public" cards="eth0,eth1"/><network name="drbd" cards="eth1"/>`,
			wantErr: "node b/network drbd: card eth1 is already used by network public"},
		{name: "different networks", bnets: `<network name="public" cards="eth0"/><network name="backup" cards="eth2"/>`,
			wantErr: "both nodes must define the same logical networks"},
		{name: "drbd network missing", bnets: `<network name="public" cards="eth0"/>`, wantErr: "global/drbd_network: network \"drbd\" is not defined for node b"},
		{name: "bad card", bnets: `<network name="public" cards="eth0/1"/><network name="drbd" cards="eth2"/>`, wantErr: "\"eth0/1\" is not a valid interface name"},
		{name: "long card", bnets: `<network name="public" cards="abcdefghijklmnop"/><network name="drbd" cards="eth2"/>`, wantErr: "not a valid interface name"},
		{name: "any interface name", bnets: `<network name="public" cards="bond0,wlp2s0"/><network name="drbd" cards="br-x.10"/>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, warns, err := ParseCluster("clconf.xml", variant(tt.extra, tt.timings, tt.bnets))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got %v, want %q", err, tt.wantErr)
			}
			_ = warns
		})
	}
}

func TestClusterGlobalRules(t *testing.T) {
	good := string(variant("", "", ""))
	tests := []struct{ from, to, want string }{
		{"<portpool>9901,9950</portpool>", "<portpool>9901,9905</portpool>", "global/portpool: \"9901,9905\" holds 5 ports; at least 10 are required"},
		{"<portpool>9901,9950</portpool>", "<portpool>9901</portpool>", "must be \"min,max\""},
		{"<version>0.3</version>", "<version>0.2</version>", "global/version"},
		{"<datadetail>drbd</datadetail>", "<datadetail>enbd</datadetail>", "no longer valid"},
		{"<data>replicated</data>", "<data>shared</data>", "shared storage is not supported"},
		{"<key>k</key>", "<key>my.key</key>", "global/key: must be alphanumeric with no spaces or periods"},
		{"<key>k</key>", "", "global/key: required value missing"},
		{"<port>9900</port>", "<port>9910</port>", "port 9910 lies inside the portpool"},
		{"<port>9900</port>", "<port>99000</port>", "is not a TCP port"},
		{"<name>c1</name>", "<name>my cluster</name>", "global/name"},
		{"<node><name>b</name>", "<nodex><name>b</name>", "exactly two <node> sections"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			in := strings.Replace(good, tt.from, tt.to, 1)
			if tt.from == "<node><name>b</name>" {
				in = strings.Replace(in, "</node>\n</clconf>", "</nodex>\n</clconf>", 1)
			}
			_, _, err := ParseCluster("clconf.xml", []byte(in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "clconf.xml:") {
				t.Fatalf("error does not name the file: %v", err)
			}
		})
	}
}

// C7 (L1660): maxblockdevs below 10 is only a warning.
func TestClusterWarnings(t *testing.T) {
	in := strings.Replace(string(variant("", "", "")), "<maxblockdevs>50</maxblockdevs>", "<maxblockdevs>5</maxblockdevs>", 1)
	in = strings.Replace(in, "9901,9950", "9901,9920", 1)
	c, warns, err := ParseCluster("clconf.xml", []byte(in))
	if err != nil || c == nil {
		t.Fatal(err)
	}
	if len(warns) != 2 || !strings.Contains(warns.Error(), "only 5 block devices") || !strings.Contains(warns.Error(), "at least 50 are recommended") {
		t.Fatalf("warnings: %v", warns)
	}
}

func TestSyntaxErrorHasLine(t *testing.T) {
	_, _, err := ParseCluster("clconf.xml", []byte("<clconf>\n<global>\n<name>x</nam>\n</global></clconf>"))
	var p *Problem
	if !errors.As(err, &p) || p.Line != 3 {
		t.Fatalf("got %v", err)
	}
}

func TestAppSamples(t *testing.T) {
	a, warns, err := ParseApp("appconf.xml", mustRead(t, "../../examples/apache/appconf.xml"))
	if err != nil || len(warns) > 0 {
		t.Fatal(err, warns)
	}
	if a.Name != "apache" || a.SyncRate != 2000 || !a.Autostart || a.MaxStartTime != 20*time.Second ||
		a.MaxStopTime != 10*time.Second || a.VGs[0].Name != "app01vg" || a.Networks[0].IPs[0] != netip.MustParseAddr("172.16.177.200") ||
		a.Networks[0].CheckPercent != 100 || a.StartScript[0] != "/apache/admin/scripts/startapp" {
		t.Fatalf("apache: %+v", a)
	}
	s, _, err := ParseApp("appconf.xml", mustRead(t, "../../examples/samba/appconf.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if s.PreferredNode != LeastCPULoad || s.Autostart || s.Networks[0].CheckPercent != 50 || s.Networks[0].PingTimeout != 2*time.Second {
		t.Fatalf("samba: %+v", s)
	}
	c, _, err := ParseCluster("clconf.xml", mustRead(t, "../../examples/clconf.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.CheckAgainst(c); err != nil {
		t.Fatal(err)
	}
	// DRCM's backup list (issue 22): the other node only, with two.
	for backups, want := range map[string]string{
		"serverb":         "",
		"servera":         `global/backup_nodes: "servera" is the preferred node, not a backup`,
		"serverc":         `global/backup_nodes: "serverc" is not a node of cluster cluster1`,
		"serverb,serverb": `global/backup_nodes: "serverb" listed twice`,
	} {
		b := *a
		b.Backups = strings.Split(backups, ",")
		if err := b.CheckAgainst(c); want == "" && err != nil || want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
			t.Errorf("backup_nodes %s: got %v, want %q", backups, err, want)
		}
	}
	a.Networks[0].Net = "main" // the Reference's own sample names a network its topology lacks (L1939)
	if err := a.CheckAgainst(c); err == nil || !strings.Contains(err.Error(), "network main: network is not defined") {
		t.Fatalf("got %v", err)
	}
}

func app(global, networks, application string) []byte {
	return []byte(`<appconf><global><version>0.2</version><name>x</name>` + global + `</global>
<networks>` + networks + `</networks>
<application>` + application + `</application></appconf>`)
}

const scripts = `<startscript>/s/start -v</startscript><stopscript>/s/stop</stopscript>`

func TestAppRules(t *testing.T) {
	tests := []struct {
		name, global, networks, application string
		want, warn                          string
	}{
		{name: "minimal", application: scripts},
		{name: "takeover force", global: "<takeover>FORCE</takeover>", application: scripts},
		{name: "takeover invalid defaults to normal (L1963)", global: "<takeover>always</takeover>", application: scripts, warn: "using normal"},
		{name: "autostart yes", global: "<autostart>yes</autostart>", application: scripts},
		{name: "autostart bad", global: "<autostart>maybe</autostart>", application: scripts, want: "global/autostart"},
		{name: "syncrate bad", global: "<syncrate>fast</syncrate>", application: scripts, want: "global/syncrate"},
		{name: "preferred least app", global: "<preferred_node>least_app_load</preferred_node>", application: scripts},
		{name: "dependencies", global: "<dependencies>samba, nfs</dependencies>", application: scripts},
		{name: "backup nodes", global: "<backup_nodes>serverb</backup_nodes>", application: scripts},
		{name: "backup nodes bad", global: "<backup_nodes>server b!</backup_nodes>", application: scripts, want: "global/backup_nodes"},
		{name: "ip range", networks: `<network net="public" ip="10.0.0.10-12, 10.0.0.20"/>`, application: scripts},
		{name: "ip range backwards", networks: `<network net="public" ip="10.0.0.10-5"/>`, application: scripts, want: "network public/ip: range"},
		{name: "ip bad", networks: `<network net="public" ip="10.0.0"/>`, application: scripts, want: "not an IPv4 address"},
		{name: "ip missing", networks: `<network net="public"/>`, application: scripts, want: "at least one address"},
		{name: "netmask bad", networks: `<network net="p" ip="10.0.0.1" netmask="255.0.255.0"/>`, application: scripts, want: "not a contiguous netmask"},
		{name: "checkpercent bad", networks: `<network net="p" ip="10.0.0.1" checkpercent="150"/>`, application: scripts, want: "checkpercent"},
		{name: "pingtype bad", networks: `<network net="p" ip="10.0.0.1" pingtype="arp"/>`, application: scripts, want: "pingtype"},
		{name: "script relative", application: `<startscript>start</startscript><stopscript>/s/stop</stopscript>`, want: "application/startscript: \"start\" must be an absolute path"},
		{name: "stop missing", application: `<startscript>/s/start</startscript>`, want: "application/stopscript: required value missing"},
		{name: "maxstarttime", application: scripts + "<maxstarttime>0.5</maxstarttime>"},
		{name: "maxstarttime bad", application: scripts + "<maxstarttime>-1</maxstarttime>", want: "application/maxstarttime"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, warns, err := ParseApp("appconf.xml", app(tt.global, tt.networks, tt.application))
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("got %v want %q", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.warn != "" && (len(warns) == 0 || !strings.Contains(warns.Error(), tt.warn)) {
				t.Fatalf("warnings %v, want %q", warns, tt.warn)
			}
			if a.StartScript[1] != "-v" {
				t.Fatalf("arguments lost: %v", a.StartScript)
			}
		})
	}
}

func TestParseIPList(t *testing.T) {
	got, err := ParseIPList("172.16.177.200, 201, 10.1.1.5-7")
	if err != nil {
		t.Fatal(err)
	}
	var s []string
	for _, a := range got {
		s = append(s, a.String())
	}
	if strings.Join(s, " ") != "172.16.177.200 172.16.177.201 10.1.1.5 10.1.1.6 10.1.1.7" {
		t.Fatalf("got %v", s)
	}
	if _, err := ParseIPList("10.0.0.1,10.0.0.1"); err == nil {
		t.Fatal("duplicate accepted")
	}
}

func TestLocks(t *testing.T) {
	l, err := ParseLocks("cllocks.xml", mustRead(t, "../../examples/cllocks.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if l["NET"].MaxT != 40*time.Second || l["NBD_CLIENT"].MaxT != 45*time.Second {
		t.Fatalf("%+v", l)
	}
	l, err = ParseLocks("cllocks.xml", []byte(`<cllocks><lock name="NET" maxt="5"/><lock name="APP" desc="x" maxt="1.5"/></cllocks>`))
	if err != nil || l["NET"].MaxT != 5*time.Second || l["NET"].Desc != "Network Config" || l["APP"].MaxT != 1500*time.Millisecond || l["NBD_SERVER"].MaxT != 45*time.Second {
		t.Fatalf("%v %+v", err, l)
	}
	if _, err := ParseLocks("cllocks.xml", []byte(`<cllocks>
<lock name="NET" maxt="x"/></cllocks>`)); err == nil || !strings.Contains(err.Error(), "cllocks.xml:2: lock NET/maxt") {
		t.Fatalf("got %v", err)
	}
	d, err := LoadLocks(t.TempDir() + "/none.xml")
	if err != nil || len(d) != 3 {
		t.Fatalf("built-in list: %v %v", d, err)
	}
}

func TestStartup(t *testing.T) {
	s, err := ParseStartup("clstartup.xml", mustRead(t, "../../examples/clstartup.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if !s.AllowSingleNode || s.BackgroundStartup || !s.JoinExistingCluster || !s.AutostartApps || s.Timeout != 120*time.Second {
		t.Fatalf("%+v", s)
	}
	if _, err := ParseStartup("clstartup.xml", []byte("<clstartup_config><autostart_apps>perhaps</autostart_apps></clstartup_config>")); err == nil {
		t.Fatal("bad value accepted")
	}
}

func TestProcmon(t *testing.T) {
	p, err := ParseProcmon("httpd.xml", mustRead(t, "../../examples/apache/httpd.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Restarts != 3 || p.ResetWindow != time.Hour || p.Processes[0].MaxCount != 10 || !p.Processes[0].Pattern.MatchString("/usr/sbin/apache2 -k start") {
		t.Fatalf("%+v", p)
	}
	s, err := ParseProcmon("smbd.xml", mustRead(t, "../../examples/samba/smbd.xml"))
	if err != nil || s.Processes[0].MaxCount != 999 || s.LogDir != "/var/log/cluster" {
		t.Fatalf("defaults (L7335-7344): %v %+v", err, s)
	}
	for _, bad := range []string{
		`<procmon><global><restartcmd>/x</restartcmd></global><process><label>l</label><process_string>x</process_string></process></procmon>`,
		`<procmon><global><restarts>1</restarts><restartcmd>/x</restartcmd></global><process><label>l</label><process_string>(</process_string></process></procmon>`,
		`<procmon><global><restarts>1</restarts><restartcmd>/x</restartcmd></global><process><label>l</label><process_string>x</process_string><min_count>5</min_count><max_count>2</max_count></process></procmon>`,
	} {
		if _, err := ParseProcmon("p.xml", []byte(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}

func TestLems(t *testing.T) {
	for _, f := range []string{"../../examples/apache/lems.local.xml", "../../examples/samba/lems.local.xml"} {
		l, err := ParseLems("lems.local.xml", mustRead(t, f))
		if err != nil {
			t.Fatal(err)
		}
		if l.Port == 0 || len(l.Checks) < 3 {
			t.Fatalf("%+v", l)
		}
	}
	check := func(inner string) string {
		return `<lems_config><globals port="8800"/><check><name>a</name><type>internal</type><module>flag_check x</module>` + inner + `</check></lems_config>`
	}
	tests := []struct{ in, want string }{
		{check(`<interval>0.5</interval><action_list><action rc="0" action="NOP; RUNCMD /bin/true"/></action_list>`), ""},
		{check(`<interval>0.2</interval>`), "interval"},
		{`<lems_config><globals port="x"/></lems_config>`, "globals/port"},
	}
	for _, tt := range tests {
		_, err := ParseLems("lems.local.xml", []byte(tt.in))
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%s: got %v want %q", tt.in, err, tt.want)
		}
	}
	// L7183-7187: a step Lems cannot carry out is ignored and the rest
	// runs, so it is a warning, not an invalid file (issue 18).
	for _, tt := range []struct{ in, want string }{
		{check(`<interval>5</interval><action_list><action rc="1" action="RUN nothere"/></action_list>`), "unknown check \"nothere\""},
		{check(`<interval>5</interval><action_list><action rc="1" action="RUNCMD email root; rubbish; FAILOVER"/></action_list>`), "unknown action \"rubbish\""},
		{check(`<interval>5</interval><action_list><action rc="1" action="PAUSE soon"/></action_list>`), "PAUSE"},
	} {
		l, err := ParseLems("lems.local.xml", []byte(tt.in))
		if err != nil {
			t.Errorf("%s: %v, want a warning only", tt.in, err)
			continue
		}
		if len(l.Warnings) != 1 || !strings.Contains(l.Warnings[0].Error(), tt.want) || !strings.Contains(l.Warnings[0].Error(), "ignored") {
			t.Errorf("%s: err %v warnings %v, want one warning %q", tt.in, err, l.Warnings, tt.want)
		}
	}
}

// Checks made after parsing - CheckAgainst's, clbuildapp's - name the
// line of the element too, as the parser's own errors do (issue 18).
func TestAppProblemsCarryLines(t *testing.T) {
	data := []byte(`<?xml version="1.0"?>
<appconf>
  <global>
    <version>0.3</version>
    <name>apache</name>
    <preferred_node>serverc</preferred_node>
  </global>
  <networks>
    <network net="nowhere" ip="10.0.0.1"/>
  </networks>
  <vg>
    <name>webvg</name>
    <type>directories</type>
    <lv name="data" mount="/srv/www"/>
  </vg>
  <application><startscript>/s/start</startscript><stopscript>/s/stop</stopscript></application>
</appconf>
`)
	a, _, err := ParseApp("/etc/cluster/apache/appconf.xml", data)
	if err != nil {
		t.Fatal(err)
	}
	for elem, want := range map[string]string{
		"global/version":        "/etc/cluster/apache/appconf.xml:4: global/version: 0.3 is too new",
		"global/name":           "/etc/cluster/apache/appconf.xml:5: global/name: x",
		"global/preferred_node": "/etc/cluster/apache/appconf.xml:6: global/preferred_node: x",
		"network nowhere":       "/etc/cluster/apache/appconf.xml:9: network nowhere: x",
		"vg webvg":              "/etc/cluster/apache/appconf.xml:11: vg webvg: x",
		"vg webvg/lv data":      "/etc/cluster/apache/appconf.xml:14: vg webvg/lv data: x",
	} {
		text := want[strings.LastIndex(want, ": ")+2:]
		if got := a.Problemf(elem, "%s", text).Error(); got != want {
			t.Errorf("%s: got %q, want %q", elem, got, want)
		}
	}
	c := &Cluster{Name: "cluster1", DataDetail: "drbd", Nodes: []Node{{Name: "servera"}, {Name: "serverb"}}}
	err = a.CheckAgainst(c)
	for _, want := range []string{"appconf.xml:6: global/preferred_node:", "appconf.xml:9: network nowhere:", "appconf.xml:11: vg webvg:"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckAgainst: want %q in %v", want, err)
		}
	}
}

// TestNodeNamed: clconf.xml may name a node with its domain (issue 18);
// the host finds itself whether its host name carries the domain or not.
func TestNodeNamed(t *testing.T) {
	short := &Cluster{Nodes: []Node{{Name: "servera"}, {Name: "serverb"}}}
	dotted := &Cluster{Nodes: []Node{{Name: "servera.example.com"}, {Name: "serverb.example.com"}}}
	twins := &Cluster{Nodes: []Node{{Name: "servera.example.com"}, {Name: "servera.example.org"}}}
	for _, tc := range []struct {
		c          *Cluster
		host, want string
	}{
		{short, "servera", "servera"},
		{short, "servera.example.com", "servera"},
		{short, "serverc", "serverc"},
		{dotted, "servera.example.com", "servera.example.com"},
		{dotted, "serverb", "serverb.example.com"},
		{dotted, "serverb.example.org", "serverb.example.com"},
		{dotted, "serverc.example.com", "serverc"},
		{twins, "servera", "servera"}, // two candidates: neither is chosen
		{twins, "servera.example.org", "servera.example.org"},
	} {
		if got := tc.c.nodeNamed(tc.host); got != tc.want {
			t.Errorf("nodes %v, host %q: got %q, want %q", tc.c.NodeNames(), tc.host, got, tc.want)
		}
	}
}

// global/metrics (issue 19): off by default, a bare port on loopback.
func TestMetricsAddr(t *testing.T) {
	for in, want := range map[string]string{"9901": "127.0.0.1:9901", ":9901": ":9901", "0.0.0.0:9901": "0.0.0.0:9901", "[::1]:9901": "[::1]:9901"} {
		if got, err := metricsAddr(in); err != nil || got != want {
			t.Errorf("metricsAddr(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"x", "0", "70000", "host:"} {
		if _, err := metricsAddr(bad); err == nil {
			t.Errorf("metricsAddr(%q) took it", bad)
		}
	}
}

// global/logzone (issue 19): off unless asked; yes or no only.
func TestLogZone(t *testing.T) {
	base := string(mustRead(t, "../../examples/clconf.xml"))
	if c, _, err := ParseCluster("clconf.xml", []byte(base)); err != nil || c.LogZone {
		t.Fatalf("default: %v %v", c.LogZone, err)
	}
	on := strings.Replace(base, "</global>", "<logzone>yes</logzone></global>", 1)
	if c, _, err := ParseCluster("clconf.xml", []byte(on)); err != nil || !c.LogZone {
		t.Fatalf("yes: %v %v", c.LogZone, err)
	}
	bad := strings.Replace(base, "</global>", "<logzone>utc</logzone></global>", 1)
	if _, _, err := ParseCluster("clconf.xml", []byte(bad)); err == nil || !strings.Contains(err.Error(), "global/logzone") {
		t.Fatalf("bad: %v", err)
	}
}

// <alerts> (issue 19): agents with their recipient and time limit, DRCM's
// four-hour period by default; a relative path or a bad time is one line
// naming the file, line and field.
func TestAlerts(t *testing.T) {
	base := string(mustRead(t, "../../examples/clconf.xml"))
	with := func(alerts string) string { return strings.Replace(base, "</clconf>", alerts+"\n</clconf>", 1) }
	c, _, err := ParseCluster("clconf.xml", []byte(base))
	if err != nil || c.Alerts.Period != 4*time.Hour || len(c.Alerts.Agents) != 0 {
		t.Fatalf("no <alerts>: %+v %v", c.Alerts, err)
	}
	c, _, err = ParseCluster("clconf.xml", []byte(with(`<alerts period="30m"><agent path="/usr/share/pacemaker/alerts/alert_file.sh.sample" recipient="/var/log/cluster/alerts.log" timeout="5"/><agent path="/usr/local/bin/page"/></alerts>`)))
	if err != nil {
		t.Fatal(err)
	}
	want := Alerts{Period: 30 * time.Minute, Agents: []AlertAgent{
		{Path: "/usr/share/pacemaker/alerts/alert_file.sh.sample", Recipient: "/var/log/cluster/alerts.log", Timeout: 5 * time.Second},
		{Path: "/usr/local/bin/page", Timeout: 30 * time.Second}}}
	if !reflect.DeepEqual(c.Alerts, want) {
		t.Errorf("alerts %+v, want %+v", c.Alerts, want)
	}
	c, _, err = ParseCluster("clconf.xml", []byte(with(`<alerts>
  <mail relay="mail.example.com" to="Ops &lt;ops@example.com&gt;, oncall@example.com"/>
  <mail relay="[::1]:2525" from="cluster@example.com" to="root@localhost" starttls="no" timeout="5"/>
  <webhook url="https://hooks.example.com/linuxha"/>
</alerts>`)))
	if err != nil {
		t.Fatal(err)
	}
	wantMail := []AlertMail{
		{Relay: "mail.example.com:25", To: []string{"Ops <ops@example.com>", "oncall@example.com"}, StartTLS: true, Timeout: 30 * time.Second},
		{Relay: "[::1]:2525", From: "cluster@example.com", To: []string{"root@localhost"}, Timeout: 5 * time.Second}}
	if !reflect.DeepEqual(c.Alerts.Mail, wantMail) || !reflect.DeepEqual(c.Alerts.Webhooks, []AlertWebhook{{URL: "https://hooks.example.com/linuxha", Timeout: 10 * time.Second}}) {
		t.Errorf("mail %+v webhooks %+v", c.Alerts.Mail, c.Alerts.Webhooks)
	}
	for bad, field := range map[string]string{
		`<alerts><agent path="alert.sh"/></alerts>`:                       "alerts/agent/path",
		`<alerts period="often"><agent path="/a"/></alerts>`:              "alerts/period",
		`<alerts><agent path="/a" timeout="-1"/></alerts>`:                "alerts/agent/timeout",
		`<alerts><mail to="ops@example.com"/></alerts>`:                   "alerts/mail/relay",
		`<alerts><mail relay="mail" to="ops"/></alerts>`:                  "alerts/mail/to",
		`<alerts><mail relay="mail"/></alerts>`:                           "alerts/mail/to",
		`<alerts><mail relay="mail" to="a@b" from="x y"/></alerts>`:       "alerts/mail/from",
		`<alerts><mail relay="mail" to="a@b" starttls="maybe"/></alerts>`: "alerts/mail/starttls",
		`<alerts><webhook url="hooks.example.com/x"/></alerts>`:           "alerts/webhook/url",
		`<alerts><webhook url="https://h/x" timeout="soon"/></alerts>`:    "alerts/webhook/timeout",
	} {
		_, _, err := ParseCluster("clconf.xml", []byte(with(bad)))
		if err == nil || !strings.Contains(err.Error(), "clconf.xml:") || !strings.Contains(err.Error(), field) {
			t.Errorf("%s: %v", bad, err)
		}
	}
}
