package report

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// MergeDirs reads the shard reports in dirs, merges them ([Merge]) and
// writes the result into out ([Write]), with every failure's artifact
// copied in: a failure whose artifact was dirs[i]/artifacts/NAME (or any
// directory the shard's report names) is out/artifacts/SHARD/NAME in the
// merged report, SHARD being the shard with "/" as "-of-" ("0-of-4"), and
// its repro command names the copy. So the merged directory is whole: its
// links work, and it can be moved or archived alone.
//
// Nothing is written unless the reports merge: a read or merge error
// leaves out untouched. A failure whose artifact is missing (its shard
// could not write it) keeps its error and loses its link, with a note in
// the error. MergeDirs returns the merged report.
func MergeDirs(out string, dirs ...string) (*Report, error) {
	if len(dirs) == 0 {
		return nil, fmt.Errorf("report: MergeDirs: no report directories")
	}
	type copyJob struct{ from, to string }
	var jobs []copyJob
	var rs []*Report
	for _, d := range dirs {
		r, err := Read(d)
		if err != nil {
			return nil, err
		}
		shardDir := "shard"
		if len(r.Shards) == 1 {
			shardDir = strings.ReplaceAll(r.Shards[0], "/", "-of-")
		}
		for i := range r.Failures {
			f := &r.Failures[i]
			if f.Artifact == "" {
				continue
			}
			from := f.Artifact
			if !filepath.IsAbs(from) {
				from = filepath.Join(d, from)
			}
			if fi, err := os.Stat(from); err != nil || !fi.IsDir() {
				f.Error += fmt.Sprintf(" (its artifact %s was not found when the shards were merged)", from)
				f.Artifact = ""
				continue
			}
			rel := filepath.Join("artifacts", shardDir, filepath.Base(from))
			jobs = append(jobs, copyJob{from, filepath.Join(out, rel)})
			f.Repro = reproOf(f.Repro, filepath.Join(out, rel))
			f.Artifact = rel
		}
		rs = append(rs, r)
	}
	m, err := Merge(rs...)
	if err != nil {
		return nil, err
	}
	for _, j := range jobs {
		if err := copyTree(j.from, j.to); err != nil {
			return nil, fmt.Errorf("report: MergeDirs: copying an artifact: %w", err)
		}
	}
	if err := Write(out, m); err != nil {
		return nil, err
	}
	return m, nil
}

// reproOf rewrites a repro command ("scripts/nimsync repro DIR") to name
// dir; a command of another form is kept.
func reproOf(cmd, dir string) string {
	const prefix = "scripts/nimsync repro "
	if !strings.HasPrefix(cmd, prefix) {
		return cmd
	}
	return prefix + dir
}

// copyTree copies the directory from to to (created; an existing to is
// replaced), regular files and directories only.
func copyTree(from, to string) error {
	tmp := to + ".partial"
	if err := os.RemoveAll(tmp); err != nil {
		return err
	}
	err := filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(from, p)
		if err != nil {
			return err
		}
		dst := filepath.Join(tmp, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(dst, 0o755)
		case d.Type().IsRegular():
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return os.WriteFile(dst, data, 0o644)
		}
		return nil // a symlink or device: not part of an artifact
	})
	if err == nil {
		if err = os.RemoveAll(to); err == nil {
			err = os.Rename(tmp, to)
		}
	}
	if err != nil {
		return errors.Join(err, os.RemoveAll(tmp))
	}
	return nil
}
