package volctl

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"
)

// A file system mounted inside another's mount point must wait for it
// (the fsmap may list it first); independent ones mount together.
func TestMountWaves(t *testing.T) {
	for _, c := range []struct {
		mps  []string
		want [][]int
	}{
		{[]string{"/a"}, [][]int{{0}}},
		{[]string{"/a", "/b", "/c"}, [][]int{{0, 1, 2}}},
		{[]string{"/data/logs", "/data", "/web"}, [][]int{{1, 2}, {0}}},
		{[]string{"/x/y/z", "/x/y", "/x", "/x2"}, [][]int{{2, 3}, {1}, {0}}},
		// a common prefix is not nesting; a trailing slash is
		{[]string{"/srv/app2", "/srv/app", "/srv/app/"}, [][]int{{0, 1, 2}}},
		{[]string{"/srv/app/sub", "/srv/app/"}, [][]int{{1}, {0}}},
	} {
		if got := mountWaves(c.mps); !reflect.DeepEqual(got, c.want) {
			t.Errorf("mountWaves(%q) = %v, want %v", c.mps, got, c.want)
		}
	}
}

// each runs everything, never more than Parallel at once, and returns
// the lowest index's error after all have finished.
func TestEach(t *testing.T) {
	var mu sync.Mutex // guards in, most, ran
	in, most, ran := 0, 0, 0
	err := each(3*Parallel, func(i int) error {
		mu.Lock()
		in++
		most = max(most, in)
		mu.Unlock()
		time.Sleep(5 * time.Millisecond)
		mu.Lock()
		in--
		ran++
		mu.Unlock()
		if i == 7 || i == 3 {
			return fmt.Errorf("volume %d", i)
		}
		return nil
	})
	if err == nil || err.Error() != "volume 3" {
		t.Errorf("each returned %v, want volume 3's error", err)
	}
	if ran != 3*Parallel || most > Parallel || most < 2 {
		t.Errorf("ran %d of %d, at most %d at once (limit %d)", ran, 3*Parallel, most, Parallel)
	}
	if err := each(0, func(int) error { return errors.New("never") }); err != nil {
		t.Errorf("each(0) = %v", err)
	}
}
