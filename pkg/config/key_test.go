package config

import (
	"strings"
	"testing"
)

func TestKeyStrength(t *testing.T) {
	for _, tc := range []struct {
		key  string
		weak bool
	}{
		{"mykey", true},                       // the Reference's example (L1530)
		{"REPLACE-with-clbuild-genkey", true}, // our example's placeholder
		{"correcthorsebatterystaple", true},   // 25 lower-case letters: 117 bits at best
		{strings.Repeat("a", 64), true},       // long but one character
		{strings.Repeat("Ab3", 20), true},     // long but repeating
		{"7f3c9a1e5b2d4f6a8c0e1b3d5f7a9c2e", false},
		{"Zq8-xT2_vL9mN4pR7sW1yB6cF3hJ5kD0", false},
	} {
		if weak := CheckKey(tc.key) != nil; weak != tc.weak {
			t.Errorf("%q: weak=%v (%.0f bits), want %v", tc.key, weak, KeyBits(tc.key), tc.weak)
		}
	}
	for i := 0; i < 50; i++ {
		k, err := GenKey()
		if err != nil {
			t.Fatal(err)
		}
		if err := CheckKey(k); err != nil || !reKey.MatchString(k) {
			t.Fatalf("generated key %q: %v (charset ok %v)", k, err, reKey.MatchString(k))
		}
	}
}
