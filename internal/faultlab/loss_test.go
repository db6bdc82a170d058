package faultlab_test

import (
	"fmt"
	"testing"
	"time"
)

func TestLostTail(t *testing.T) {
	crash := time.Unix(1000, 0)
	rec := func(n int, host string, before time.Duration) string {
		return fmt.Sprintf("%d %s %d abcd1234", n, host, crash.Add(-before).UnixNano())
	}
	a1, a2, a3, a4 := rec(1, "a", 40*time.Second), rec(2, "a", 30*time.Second), rec(3, "a", 20*time.Second), rec(4, "a", time.Second)
	b3 := rec(3, "b", 10*time.Second) // b reused number 3 after an earlier divergence
	for _, c := range []struct {
		name           string
		mine, theirs   string
		lost           int
		oldest, newest time.Duration
	}{
		{"everything carried over", a1 + "\n" + a2 + "\n", a1 + "\n" + a2 + "\n" + b3 + "\n", 0, 0, 0},
		{"the unsynced tail is lost", a1 + "\n" + a2 + "\n" + a3 + "\n" + a4 + "\n", a1 + "\n" + a2 + "\n" + b3 + "\n", 2, 20 * time.Second, time.Second},
		// a2 went missing in an earlier divergence: before the last
		// common line, not this crash's loss.
		{"an earlier gap is not counted", a1 + "\n" + a2 + "\n" + a3 + "\n" + a4 + "\n", a1 + "\n" + a3 + "\n", 1, time.Second, time.Second},
		{"nothing in common", a1 + "\n", "", 1, 40 * time.Second, 40 * time.Second},
		{"no records", "", a1, 0, 0, 0},
	} {
		lost, oldest, newest := lostTail(c.mine, c.theirs, crash)
		if lost != c.lost || oldest != c.oldest || newest != c.newest {
			t.Errorf("%s: lost %d, oldest %v, newest %v; want %d, %v, %v", c.name, lost, oldest, newest, c.lost, c.oldest, c.newest)
		}
	}
}

func TestResumedWrites(t *testing.T) {
	since := time.Unix(1000, 0)
	rec := func(n int, host string, after time.Duration) string {
		return fmt.Sprintf("%d %s %d abcd1234", n, host, since.Add(after).UnixNano())
	}
	// a was frozen at since, b took over at since+2s, a resumed and kept
	// writing until it was reset at since+5s.
	mine := rec(1, "a", -time.Second) + "\n" + rec(2, "a", 3*time.Second) + "\n" + rec(3, "a", 5*time.Second) + "\n"
	theirs := rec(1, "a", -time.Second) + "\n" + rec(2, "b", 2*time.Second) + "\n" + rec(3, "b", 4*time.Second) + "\n"
	for _, c := range []struct {
		name         string
		mine, theirs string
		n            int
		window       time.Duration
		ok           bool
	}{
		{"writes after the takeover", mine, theirs, 2, 3 * time.Second, true},
		{"none after it", rec(1, "a", -time.Second), theirs, 0, 0, true},
		{"no takeover", mine, rec(1, "a", -time.Second), 0, 0, false},
		// b's records from before the freeze are not the takeover.
		{"b wrote before the freeze only", mine, rec(1, "b", -2*time.Second), 0, 0, false},
	} {
		n, window, ok := resumedWrites(c.mine, c.theirs, "a", "b", since)
		if n != c.n || window != c.window || ok != c.ok {
			t.Errorf("%s: %d %v %v; want %d %v %v", c.name, n, window, ok, c.n, c.window, c.ok)
		}
	}
}
