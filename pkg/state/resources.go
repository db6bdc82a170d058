// Package state owns the files that record a node's cluster state: the
// resource flag files of ports and DRBD minors, the fsmap of each
// application, TIME and STALE flags, and build checksums (DESIGN §3). It
// is the only code that touches them, and it imports none of the
// project's packages beyond atomicfile.
package state

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// ErrExhausted is returned when a pool has no free number left.
var ErrExhausted = errors.New("state: no free resource left")

// Pool is a directory of resource flag files: "N.free" for a free number
// and "N.<app>.<vg>.<lv>" for an allocated one (L1696-1742). Renaming a
// file is the allocation; the directory listing is the whole state.
type Pool struct {
	Dir string
}

// Owner is what holds an allocated number.
type Owner struct {
	App, VG, LV string
}

func (o Owner) String() string { return o.App + "." + o.VG + "." + o.LV }

// Entry is one flag file.
type Entry struct {
	N     int
	Free  bool
	Owner Owner
}

// List reads the pool, sorted by number. Files that are not flag files
// are ignored.
func (p Pool) List() ([]Entry, error) {
	des, err := os.ReadDir(p.Dir)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", p.Dir, err)
	}
	var out []Entry
	for _, de := range des {
		e, ok := parseFlag(de.Name())
		if ok {
			out = append(out, e)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].N < out[j].N })
	return out, nil
}

func parseFlag(name string) (Entry, bool) {
	num, rest, ok := strings.Cut(name, ".")
	if !ok {
		return Entry{}, false
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 0 {
		return Entry{}, false
	}
	if rest == "free" {
		return Entry{N: n, Free: true}, true
	}
	f := strings.SplitN(rest, ".", 3)
	if len(f) != 3 || f[0] == "" || f[1] == "" || f[2] == "" {
		return Entry{}, false
	}
	return Entry{N: n, Owner: Owner{f[0], f[1], f[2]}}, true
}

func (p Pool) name(e Entry) string {
	if e.Free {
		return filepath.Join(p.Dir, strconv.Itoa(e.N)+".free")
	}
	return filepath.Join(p.Dir, strconv.Itoa(e.N)+"."+e.Owner.String())
}

// Ensure makes the pool hold exactly the numbers lo..hi: it creates a
// ".free" file for every number with no file yet, removes free files
// outside the range, and never touches an allocated file, so re-running
// clbuild keeps every allocation (L1742). It returns how many files it
// created and the allocated numbers left outside the range.
func (p Pool) Ensure(lo, hi int) (created int, stranded []Entry, err error) {
	if err := os.MkdirAll(p.Dir, 0o755); err != nil {
		return 0, nil, fmt.Errorf("create %s: %w", p.Dir, err)
	}
	have, err := p.List()
	if err != nil {
		return 0, nil, err
	}
	present := map[int]bool{}
	for _, e := range have {
		present[e.N] = true
		if e.N >= lo && e.N <= hi {
			continue
		}
		if e.Free {
			if err := os.Remove(p.name(e)); err != nil {
				return created, nil, fmt.Errorf("shrink pool: %w", err)
			}
		} else {
			stranded = append(stranded, e)
		}
	}
	for n := lo; n <= hi; n++ {
		if present[n] {
			continue
		}
		f, err := os.OpenFile(p.name(Entry{N: n, Free: true}), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err != nil {
			return created, nil, fmt.Errorf("create flag: %w", err)
		}
		f.Close()
		created++
	}
	return created, stranded, syncDir(p.Dir)
}

// Lookup returns the number already allocated to o, if any.
func (p Pool) Lookup(o Owner) (int, bool, error) {
	es, err := p.List()
	if err != nil {
		return 0, false, err
	}
	for _, e := range es {
		if !e.Free && e.Owner == o {
			return e.N, true, nil
		}
	}
	return 0, false, nil
}

// Free lists the free numbers in ascending order.
func (p Pool) Free() ([]int, error) {
	es, err := p.List()
	if err != nil {
		return nil, err
	}
	var out []int
	for _, e := range es {
		if e.Free {
			out = append(out, e.N)
		}
	}
	return out, nil
}

// Claim allocates number n to o by renaming n.free. Claiming a number o
// already holds succeeds without change, so an interrupted build can run
// again (B13, L2181).
func (p Pool) Claim(n int, o Owner) error {
	if err := validOwner(o); err != nil {
		return err
	}
	to := p.name(Entry{N: n, Owner: o})
	if _, err := os.Stat(to); err == nil {
		return nil
	}
	if err := os.Rename(p.name(Entry{N: n, Free: true}), to); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("claim %d for %s: %w", n, o, ErrExhausted)
		}
		return fmt.Errorf("claim %d for %s: %w", n, o, err)
	}
	return syncDir(p.Dir)
}

// FirstCommonFree picks the lowest number free in every pool given, so that
// a file system gets the same port and minor on both nodes (L1722).
func FirstCommonFree(frees ...[]int) (int, error) {
	if len(frees) == 0 {
		return 0, ErrExhausted
	}
	count := map[int]int{}
	for _, f := range frees {
		for _, n := range f {
			count[n]++
		}
	}
	best := -1
	for n, c := range count {
		if c == len(frees) && (best < 0 || n < best) {
			best = n
		}
	}
	if best < 0 {
		return 0, ErrExhausted
	}
	return best, nil
}

// Release returns every number held by app to the free list.
func (p Pool) Release(app string) (int, error) {
	n, _, err := p.release(func(o Owner) bool { return o.App == app })
	return n, err
}

// ReleaseOwner returns the number held by o, if any, to the free list:
// a file system removed from a built application (§18.2, L5401-5409).
func (p Pool) ReleaseOwner(o Owner) (num int, ok bool, err error) {
	n, last, err := p.release(func(e Owner) bool { return e == o })
	return last, n > 0, err
}

// release frees the entries whose owner matches; it reports how many,
// and the last number freed.
func (p Pool) release(match func(Owner) bool) (n, last int, err error) {
	es, err := p.List()
	if err != nil {
		return 0, 0, err
	}
	for _, e := range es {
		if e.Free || !match(e.Owner) {
			continue
		}
		if err := os.Rename(p.name(e), p.name(Entry{N: e.N, Free: true})); err != nil {
			return n, last, fmt.Errorf("release %d: %w", e.N, err)
		}
		n, last = n+1, e.N
	}
	return n, last, syncDir(p.Dir)
}

func validOwner(o Owner) error {
	for _, s := range []string{o.App, o.VG, o.LV} {
		if s == "" || strings.ContainsAny(s, "/\x00") || s == "." || s == ".." {
			return fmt.Errorf("invalid resource owner %q", o)
		}
	}
	if strings.Contains(o.App, ".") || strings.Contains(o.VG, ".") {
		return fmt.Errorf("invalid resource owner %q: application and volume group names cannot contain '.'", o)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
