package layout

import "testing"

func TestPathsBelowRoot(t *testing.T) {
	l := Layout{Root: "/tmp/n1"}
	cases := map[string]string{
		l.Clconf():        "/tmp/n1/etc/cluster/clconf.xml",
		l.Fsmap("apache"): "/tmp/n1/etc/cluster/.resources/fsmap/apache",
		l.StaleFile("apache", "app01vg", "docs", "serverb"): "/tmp/n1/etc/cluster/.status/apache/app01vg.docs.serverb.STALE",
		l.TimeFile("apache"): "/tmp/n1/etc/cluster/.status/apache/TIME",
		l.LogDir():           "/tmp/n1/var/log/cluster",
		Layout{}.Clconf():    "/etc/cluster/clconf.xml",
	}
	for got, want := range cases {
		if got != want {
			t.Errorf("got %s want %s", got, want)
		}
	}
}
