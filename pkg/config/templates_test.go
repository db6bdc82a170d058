package config

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestTemplates: each template is a valid file (the key placeholder
// apart) and names every element and attribute its man page documents.
func TestTemplates(t *testing.T) {
	key := "k7Hq2Lx9Vb4Nw8Rt3Zp6Yc1Md5Fs0Gj2Kh4Ux7"
	c, _, err := ParseCluster("clconf.xml", []byte(strings.Replace(string(ClusterTemplate), "REPLACE-with-clbuild-genkey", key, 1)))
	if err != nil {
		t.Fatalf("clconf template: %v", err)
	}
	if c.Keepalive.Seconds() != 3 || len(c.Nodes) != 2 {
		t.Fatalf("clconf template: %+v", c)
	}
	a, _, err := ParseApp("appconf.xml", AppTemplate)
	if err != nil {
		t.Fatalf("appconf template: %v", err)
	}
	if len(a.Resources) != 5 {
		t.Fatalf("appconf template has %d resources", len(a.Resources))
	}
	// Every **field** of the man pages' definition lists.
	bold := regexp.MustCompile(`(?m)^\*\*([a-z_]+)\*\*([ ,]|$)`)
	for _, tt := range []struct {
		man  string
		tmpl []byte
	}{{"clconf.xml.5.md", ClusterTemplate}, {"appconf.xml.5.md", AppTemplate}} {
		src, err := os.ReadFile("../../man/src/" + tt.man)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range bold.FindAllStringSubmatch(string(src), -1) {
			f := m[1]
			if !strings.Contains(string(tt.tmpl), "<"+f) && !strings.Contains(string(tt.tmpl), " "+f+"=") {
				t.Errorf("%s documents %s; its template lacks it", tt.man, f)
			}
		}
	}
}
