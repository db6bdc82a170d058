package daemonapi

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Golden replies of APP_STATUS (L7623-7626): the five fields, then
// failoverinfo's "Yes"/"No", nodeinfo's '+'-list, lvinfo's volumes, in
// that order, each present only when asked for.
func TestAppStatusGolden(t *testing.T) {
	since := time.Unix(1764650000, 0)
	vols := []Volume{{MountPoint: "/apache/data", Valid: "both", Type: "drbd", State: "Syncing", Percent: 42.5, ETA: 90 * time.Second},
		{MountPoint: "/apache/logs", Valid: "local", Type: "drbd", State: "Unsync"}}
	cases := []struct {
		name  string
		o     StatusOptions
		st    AppStatus
		reply string
	}{
		{"plain", StatusOptions{}, AppStatus{State: AppStarted, Node: "servera", Monitor: true, Since: since},
			"STARTED,servera,1,1764650000,0"},
		{"down has no start time", StatusOptions{}, AppStatus{State: AppDown},
			"DOWN,,0,0,0"},
		{"failoverinfo", StatusOptions{Failover: true}, AppStatus{State: AppStarted, Node: "serverb", Since: since, Failover: true},
			"STARTED,serverb,0,1764650000,0,Yes"},
		{"nodeinfo after failoverinfo", StatusOptions{Failover: true, Nodes: true},
			AppStatus{State: AppDown, ValidNodes: []string{"servera", "serverb"}},
			"DOWN,,0,0,0,No,servera+serverb"},
		{"nodeinfo alone is field 5", StatusOptions{Nodes: true},
			AppStatus{State: AppStarting, Node: "servera.example.com", ValidNodes: []string{"servera.example.com"}},
			"STARTING,servera.example.com,0,0,0,servera.example.com"},
		{"lvinfo", StatusOptions{Failover: true, Volumes: true},
			AppStatus{State: AppStarted, Node: "servera", Since: since, Inconsistent: 1, Volumes: vols},
			"STARTED,servera,0,1764650000,1,No,lvinfo=/apache/data:both:drbd:Syncing:42.5:90;/apache/logs:local:drbd:Unsync:0.0:0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.st.Encode(c.o); got != c.reply {
				t.Fatalf("Encode:\n got %s\nwant %s", got, c.reply)
			}
			got, err := ParseAppStatus(c.reply, c.o)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.st) {
				t.Fatalf("Parse:\n got %+v\nwant %+v", got, c.st)
			}
		})
	}
}

func TestAppStatusRefusals(t *testing.T) {
	for _, reply := range []string{NotRegistered, MissingArg} {
		_, err := ParseAppStatus(reply, StatusOptions{})
		if !IsReply(err, reply) {
			t.Errorf("%s: got %v, want a Refused", reply, err)
		}
	}
	// A reply read with other options than it was asked with is an
	// error, never a shifted field (field 5 is failover or nodes).
	for _, c := range []struct {
		reply string
		o     StatusOptions
	}{
		{"DOWN,,0,0,0,Yes", StatusOptions{}},
		{"DOWN,,0,0,0", StatusOptions{Nodes: true}},
		{"STARTED,a,x,0,0", StatusOptions{}},
		{"STARTED,a,0,0,0,lvinfo=/x:both", StatusOptions{Volumes: true}},
	} {
		if _, err := ParseAppStatus(c.reply, c.o); err == nil || IsReply(err, c.reply) {
			t.Errorf("%q with %+v: got %v, want a format error", c.reply, c.o, err)
		}
	}
}

func TestRequests(t *testing.T) {
	cases := map[string]string{
		StatusOptions{}.Request("apache"):                                      "APP_STATUS app=apache",
		StatusOptions{Failover: true, Volumes: true}.Request("apache"):         "APP_STATUS app=apache failoverinfo=yes lvinfo=yes",
		Req(StartingApp, "app", "apache", "node", "servera", "forward", "yes"): "STARTING_APP app=apache forward=yes node=servera",
		Req(Echo, "check", "y"):                                                "ECHO check=y",
		Req(AppList):                                                           "APP_LIST",
		Req(GetNodeState, "node", ""):                                          "GET_NODE_STATE",
	}
	for got, want := range cases {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}

func TestLists(t *testing.T) {
	for _, c := range []struct {
		items []string
		reply string
	}{{nil, "OK"}, {[]string{"apache"}, "OK apache"}, {[]string{"apache", "samba"}, "OK apache,samba"}} {
		if got := EncodeOKList(c.items); got != c.reply {
			t.Errorf("EncodeOKList(%v) = %q, want %q", c.items, got, c.reply)
		}
		if got, err := ParseOKList(AutostartList, c.reply); err != nil || !reflect.DeepEqual(got, c.items) {
			t.Errorf("ParseOKList(%q) = %v, %v", c.reply, got, err)
		}
	}
	if _, err := ParseOKList(GetValidNodes, NotRegistered); !IsReply(err, NotRegistered) {
		t.Errorf("ParseOKList(NOT_REGISTERED): %v", err)
	}
	if got, err := ParseAppList("apache,samba"); err != nil || !reflect.DeepEqual(got, []string{"apache", "samba"}) {
		t.Errorf("ParseAppList: %v %v", got, err)
	}
	if got, err := ParseAppList(""); err != nil || got != nil {
		t.Errorf("ParseAppList(empty): %v %v", got, err)
	}
	if _, err := ParseAppList("Unknown request FOO"); err == nil {
		t.Error("ParseAppList took an error text for names")
	}
}

// TestLoad: LOADAVERAGE answers /proc/loadavg's first four fields and
// LEAST_CPU_LOAD compares the first (L7652, L5795).
func TestLoad(t *testing.T) {
	reply, err := EncodeLoad("0.52 0.30 0.25 2/187 4242\n")
	if err != nil || reply != "0.52 0.30 0.25 2/187" {
		t.Fatalf("EncodeLoad = %q, %v", reply, err)
	}
	if v, err := ParseLoad(reply); err != nil || v != 0.52 {
		t.Errorf("ParseLoad(%q) = %v, %v", reply, v, err)
	}
	if _, err := EncodeLoad("0.52"); err == nil {
		t.Error("EncodeLoad took a short line")
	}
	for _, bad := range []string{"", "ERROR", "Unknown request LOADAVERAGE"} {
		if _, err := ParseLoad(bad); err == nil {
			t.Errorf("ParseLoad(%q) took it", bad)
		}
	}
}

// TestOnlyThisPackageSpeaksIt fails when a request of the daemon is
// written as a string literal outside this package: every caller builds
// it here, so there is one encoder and one parser (issue 18).
func TestOnlyThisPackageSpeaksIt(t *testing.T) {
	verbs := []string{AppStatusReq, AppList, GetNodeState, ChangeDState, Checksum, RegApp, DeregApp, PNode, DependsOn,
		AutostartList, GetValidNodes, SetValidNodes, IsValid, LoadAverage, Reconfigure, StopApp, StartApp,
		StartingApp, StartedApp, StoppingApp, StoppedApp, NetFailed, AppUpdate}
	root := "../.."
	for _, dir := range []string{"pkg", "lems", "cmd"} {
		filepath.WalkDir(filepath.Join(root, dir), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") ||
				strings.Contains(p, "pkg/daemonapi/") {
				return err
			}
			f, err := parser.ParseFile(token.NewFileSet(), p, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(f, func(n ast.Node) bool {
				lit, ok := n.(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					return true
				}
				s, _ := strconv.Unquote(lit.Value)
				if strings.HasPrefix(s, Failover+" ") {
					t.Errorf("%s: request %q built outside package daemonapi", p, s)
				}
				for _, v := range verbs {
					if s == v || strings.HasPrefix(s, v+" ") {
						t.Errorf("%s: request %q built outside package daemonapi", p, s)
					}
				}
				return true
			})
			return nil
		})
	}
}
