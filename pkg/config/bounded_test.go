package config

import (
	"strings"
	"testing"
)

// TestBoundedNames pins the length limits that the patterns no longer
// carry themselves: a host name of 253 bytes, an interface name of 15
// (IFNAMSIZ less its NUL) and an application name of 64.
func TestBoundedNames(t *testing.T) {
	for _, c := range []struct {
		what string
		b    bounded
		s    string
		want bool
	}{
		{"host", reHost, "a" + strings.Repeat("b", 252), true},
		{"host", reHost, "a" + strings.Repeat("b", 253), false},
		{"host", reHost, "-a", false},
		{"interface", reIfName, strings.Repeat("e", 15), true},
		{"interface", reIfName, strings.Repeat("e", 16), false},
		{"interface", reIfName, "", false},
		{"application", reAppName, strings.Repeat("a", 64), true},
		{"application", reAppName, strings.Repeat("a", 65), false},
		{"application", reAppName, ".hidden", false},
		{"application", reAppName, "a/b", false},
	} {
		if got := c.b.MatchString(c.s); got != c.want {
			t.Errorf("%s %q (%d bytes): match %v, want %v", c.what, c.s, len(c.s), got, c.want)
		}
	}
}
