// Package backup writes the archives under /clbackup: the cluster's
// /etc/cluster before a rebuild replaces it (FAQ 4.4) and an application's
// files before clremoveapp deletes them.
package backup

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/linuxha-ng/linuxha/pkg/atomicfile"
	"github.com/linuxha-ng/linuxha/pkg/layout"
)

// Backup archives /etc/cluster into /clbackup/cluster-<time>.tgz before a
// rebuild replaces it (FAQ 4.4). It returns "" when there is nothing to
// archive.
func Backup(l layout.Layout, now time.Time) (string, error) {
	src := l.ClusterDir()
	if _, err := os.Stat(src); errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err := os.MkdirAll(l.BackupDir(), 0o700); err != nil {
		return "", err
	}
	name := filepath.Join(l.BackupDir(), "cluster-"+now.Format("20060102-150405")+".tgz")
	_, err := WriteArchive(name, filepath.Dir(src), src)
	return name, err
}

// WriteArchive writes the files below roots (missing ones are skipped)
// into the gzipped tar dest, named relative to base, atomically, and
// returns its size.
func WriteArchive(dest, base string, roots ...string) (int, error) {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, root := range roots {
		if _, err := os.Stat(root); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			h, err := tar.FileInfoHeader(info, "")
			if err != nil {
				return err
			}
			h.Name, _ = filepath.Rel(base, p)
			if err := tw.WriteHeader(h); err != nil {
				return err
			}
			if !info.Mode().IsRegular() {
				return nil
			}
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = io.Copy(tw, f)
			return err
		})
		if err != nil {
			return 0, err
		}
	}
	if err := tw.Close(); err != nil {
		return 0, err
	}
	if err := gz.Close(); err != nil {
		return 0, err
	}
	return buf.Len(), atomicfile.WriteFile(dest, buf.Bytes(), 0o600)
}
