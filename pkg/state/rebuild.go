package state

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// The rebuild lock keeps clbuildapp --build and fsmon apart. The build
// holds it exclusively while it changes a built application's volumes
// (§18); fsmon holds it shared for each check and skips the check when it
// cannot, so that its repairs (starting the peer's copies of whatever the
// fsmap lists) never race the build's own create-md and starts of a volume
// being added, nor restart one being removed. It is an flock: a process
// that dies cannot leave it held.

// HoldRebuild takes the rebuild lock at path exclusively, waiting up to a
// minute for a check in progress (or another build) to finish.
func HoldRebuild(path string) (release func(), err error) {
	f, err := openLock(path)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(time.Minute)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) || time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("rebuild lock %s is held (another clbuildapp --build?): %w", path, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// HoldCheck takes the rebuild lock at path shared, for one monitor check;
// ok is false while a build holds it.
func HoldCheck(path string) (release func(), ok bool) {
	f, err := openLock(path)
	if err != nil {
		return func() {}, true // no lock to be had: no build can hold it either
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); err != nil {
		f.Close()
		return func() {}, !errors.Is(err, syscall.EWOULDBLOCK)
	}
	return func() { f.Close() }, true
}

func openLock(path string) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("rebuild lock: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("rebuild lock: %w", err)
	}
	return f, nil
}
