// Package atomicfile writes a set of files into a directory all or none, so
// that a reader never finds a half-written report: each file goes to a
// temporary file in the same directory first, and only when all of them are
// written and synced are they renamed into place, in order.
package atomicfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// File is one file to write: its name within the directory, and contents.
type File struct {
	Name string
	Data []byte
}

// WriteAll writes files into dir (created if missing), all or none. On
// failure it removes its temporary files, the files it already renamed, and
// dir if this call created it and it is left empty. (A file that replaced an
// older one is removed, not restored.) The files get mode 0644.
func WriteAll(dir string, files []File) (err error) {
	created := false
	if _, serr := os.Stat(dir); errors.Is(serr, os.ErrNotExist) {
		created = true
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	temps := make([]string, 0, len(files))
	var placed []string
	defer func() {
		if err == nil {
			return
		}
		for _, p := range append(temps, placed...) {
			if rmErr := os.Remove(p); rmErr != nil && !errors.Is(rmErr, os.ErrNotExist) {
				err = errors.Join(err, fmt.Errorf("clean up: %w", rmErr))
			}
		}
		if created {
			_ = os.Remove(dir) // only if empty
		}
	}()
	for _, f := range files {
		t, err := writeTemp(dir, f)
		if t != "" {
			temps = append(temps, t)
		}
		if err != nil {
			return err
		}
	}
	for i, f := range files {
		dst := filepath.Join(dir, f.Name)
		if err := os.Rename(temps[i], dst); err != nil {
			return err
		}
		placed = append(placed, dst)
	}
	return nil
}

// writeTemp writes f to a new temporary file in dir, syncs and closes it,
// and returns its path (also when it fails after creating it, so that the
// caller can remove it).
func writeTemp(dir string, f File) (string, error) {
	tf, err := os.CreateTemp(dir, "."+f.Name+".*.tmp")
	if err != nil {
		return "", err
	}
	path := tf.Name()
	_, err = tf.Write(f.Data)
	if err == nil {
		err = tf.Chmod(0o644)
	}
	if err == nil {
		err = tf.Sync()
	}
	if cerr := tf.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return path, fmt.Errorf("write %s: %w", filepath.Join(dir, f.Name), err)
	}
	return path, nil
}
