package config

import (
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math"
	"strings"
)

// MinKeyBits is the estimated randomness a cluster key must have
// (SECURITY.md): the frames' keys are derived from it, so a guessable key
// lets one sniffed heartbeat be attacked offline.
const MinKeyBits = 128

// exampleKeys are keys that documentation has printed.
var exampleKeys = map[string]bool{"mykey": true, "REPLACE-with-clbuild-genkey": true}

// KeyBits estimates how many bits of randomness key has: its length
// times the bits of the character classes it draws from, or nothing when
// it is a known example or so repetitive that its characters' empirical
// entropy is far below what its classes would give.
func KeyBits(key string) float64 {
	if exampleKeys[key] || key == "" {
		return 0
	}
	var lower, upper, digit, other bool
	count := map[rune]int{}
	n := 0
	for _, r := range key {
		switch {
		case r >= 'a' && r <= 'z':
			lower = true
		case r >= 'A' && r <= 'Z':
			upper = true
		case r >= '0' && r <= '9':
			digit = true
		default:
			other = true
		}
		count[r]++
		n++
	}
	pool := 0
	for _, c := range []struct {
		has  bool
		size int
	}{{lower, 26}, {upper, 26}, {digit, 10}, {other, 2}} { // the key allows '-' and '_' only
		if c.has {
			pool += c.size
		}
	}
	perChar := math.Log2(float64(pool))
	var shannon float64
	for _, c := range count {
		p := float64(c) / float64(n)
		shannon -= p * math.Log2(p)
	}
	// A random string of n characters from the pool has an empirical
	// entropy near min(log2(pool), log2(n)); well below that, it is
	// made of repeats ("aaaa…", "abcabc…").
	if expect := math.Min(perChar, math.Log2(float64(n))); shannon < 0.6*expect {
		return 0
	}
	return float64(n) * perChar
}

// CheckKey refuses a key with less than MinKeyBits of randomness, with
// the one line that says how to make a good one.
func CheckKey(key string) error {
	if b := KeyBits(key); b < MinKeyBits {
		return fmt.Errorf("global/key: too weak (about %.0f bits of randomness, at least %d needed); run 'clbuild --genkey' to write a random one", b, MinKeyBits)
	}
	return nil
}

// GenKey returns a new random key: 32 bytes (256 bits) in URL-safe
// base64, which global/key's character set allows.
func GenKey() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return strings.TrimRight(base64.RawURLEncoding.EncodeToString(b[:]), "="), nil
}

// DRBDSecret is the shared secret of one DRBD resource: derived from the
// cluster key (HKDF, the cluster name as salt), so both nodes agree on it
// without another file to copy, and it changes with the key.
func (c *Cluster) DRBDSecret(resource string) string {
	k, err := hkdf.Key(sha256.New, []byte(c.Key), []byte(c.Name), "linuxha drbd v1 "+resource, 24)
	if err != nil {
		return ""
	}
	return hex.EncodeToString(k)
}
