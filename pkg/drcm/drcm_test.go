package drcm

import (
	"os"
	"strings"
	"testing"

	"github.com/linuxha-ng/linuxha/pkg/config"
)

var opts = Options{Cluster: "drcm", Key: "k7Hq2Lx9Vb4Nw8Rt3Zp6Yc1Md5Fs0Gj2Kh4Ux7", LemsPort: 8800}

func load(t *testing.T, file string) *Config {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse(file, data)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestConvertSeedExample converts seed 001's example (its typo
// corrected): cmnode1's crontabs and floating address form one
// application, cmnode2's crontab another; web, the file systems and ldm
// run on both nodes (L218: "will be ran on both nodes"), so they are
// noted and left to each node.
func TestConvertSeedExample(t *testing.T) {
	c := load(t, "../../examples/drcm/cm.cfg")
	if len(c.Nodes) != 2 || c.Nodes[0].Name() != "cmnode1" || c.Nodes[0].Fields["keep_alive_ip"].Text != "192.168.122.183" {
		t.Fatalf("nodes: %+v", c.Nodes[0])
	}
	res, err := Convert(c, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Groups) != 2 || res.Groups[0].Name != "cmnode1_group" || res.Groups[1].Node != "cmnode2.example.com" {
		t.Fatalf("groups: %+v", res.Groups)
	}
	a, _, err := config.ParseApp("a.xml", res.Groups[0].Appconf)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range a.Resources {
		got = append(got, r.Kind+" "+r.Name+" "+r.Template)
	}
	if strings.Join(got, "; ") != "crontab user /etc/drcm/crontabs/user_crons; crontab system /etc/drcm/crontabs/system_crons; crontab apps1 /etc/drcm/crontabs/apps_package1" {
		t.Errorf("cmnode1's members: %v", got)
	}
	if len(a.Networks) != 1 || a.Networks[0].IPs[0].String() != "192.168.122.180" || a.PreferredNode != "cmnode1.example.com" || !a.Autostart {
		t.Errorf("cmnode1's application: %+v", a)
	}
	b, _, _ := config.ParseApp("b.xml", res.Groups[1].Appconf)
	if len(b.Resources) != 1 || b.Resources[0].Name != "apps2" || len(b.Networks) != 0 {
		t.Errorf("cmnode2's application: %+v", b)
	}
	cl, _, err := config.ParseCluster("clconf.xml", res.Clconf)
	if err != nil || cl.Port != 53897 || cl.ClPort != 53898 || len(cl.Nodes) != 2 || cl.Nodes[0].Name != "cmnode1.example.com" {
		t.Fatalf("clconf: %+v %v", cl, err)
	}
	if nw, ok := cl.Nodes[1].Network("public"); !ok || strings.Join(nw.Cards, ",") != "eth0" {
		t.Errorf("public network: %+v", nw)
	}
	notes := strings.Join(res.Notes, "\n")
	for _, want := range []string{"cm.cfg:46: CM_SERVICES web runs on every node", "cm.cfg:55: CM_FILESYSTEMS data runs on every node", "cm.cfg:51: CM_APPLICATIONS ldm"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
}

// TestConvertRefuses: the seed's own text (with "arhive") and malformed
// lines are refused, one line each, naming the file, line and section.
func TestConvertRefuses(t *testing.T) {
	_, err := Convert(load(t, "testdata/seed.cfg"), opts)
	if err == nil || err.Error() != "testdata/seed.cfg:22: CM_NODE cmnode1/node_filesystems: no CM_FILESYSTEMS entry named arhive\n"+
		"testdata/seed.cfg:33: CM_NODE cmnode2/node_filesystems: no CM_FILESYSTEMS entry named arhive" {
		t.Fatalf("seed as written: %v", err)
	}
	base, _ := os.ReadFile("../../examples/drcm/cm.cfg")
	for _, tt := range []struct{ edit, with, want string }{
		{"[CM_SERVICES]", "[CM_PRINTERS]", "cm.cfg:44: section: unknown section [CM_PRINTERS]"},
		{"web, httpd, /etc/drcm/resources/service.sh", "web, httpd", "cm.cfg:46: CM_SERVICES: 2 fields, want 3"},
		{"ldm, ldm:users, ~/util/ldm_ensure.sh, ldmadmin stop, ~/util/ldm_ensure.sh", "ldm, ldm:users, x", "cm.cfg:51: CM_APPLICATIONS: 3 fields, want 4 or 5"},
		{"apps2, /etc/drcm/crontabs/apps_package2, /etc/cron.d, /etc/drcm/resources/crontab.sh", "apps1, /x, /etc/cron.d, /etc/drcm/resources/crontab.sh", "cm.cfg:38: CM_CRONTABS apps1: nickname used already on line 37"},
		{"node_backup_crontabs = cmnode2:apps2", "node_backup_crontabs = cmnode3:apps2", `cm.cfg:16: CM_NODE cmnode1/node_backup_crontabs: "cmnode3:apps2" does not name the other node`},
		{"node_backup_crontabs = cmnode2:apps2", "node_backup_crontabs = cmnode2:apps1", "cmnode2 does not run apps1 (its node_crontabs)"},
		{"/etc/drcm/resources/service.sh", "/usr/local/bin/web.sh", "cm.cfg:46: CM_SERVICES web: custom resource script /usr/local/bin/web.sh has no counterpart"},
		{"keep_alive_ip = 192.168.122.184", "keep_alive_ip = 192.168.122.184\n...", `CM_NODE: "..." is not "key = value"`},
		{"192.168.122.180,", "192.168.122.300,", "cm.cfg:42: CM_IPADDRS cmnodef: ip: \"192.168.122.300\" is not an IPv4 address"},
		{"[CM_SERVER]", "[CM_SERVER]\n[CM_NODE]\nnodename = cmnode3", "3 nodes: linuxha's two-node mode takes two"},
		{"system, /etc/drcm/crontabs/system_crons", "system, /etc/drcm/crontabs/system.crons", `cm.cfg:35: CM_CRONTABS system: template: "/etc/drcm/crontabs/system.crons" must be an absolute path whose file name`},
	} {
		in := strings.Replace(string(base), tt.edit, tt.with, 1)
		c, err := Parse("cm.cfg", []byte(in))
		if err == nil {
			_, err = Convert(c, opts)
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s -> %s: got %v, want %q", tt.edit, tt.with, err, tt.want)
		}
	}
}
