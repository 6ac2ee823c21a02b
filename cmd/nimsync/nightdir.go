package main

// The nights on a results volume: their names, which one is tonight's, and
// the markers shards leave for the finisher (see night.go).

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/nimsync/nimsync/internal/atomicfile"
	"github.com/nimsync/nimsync/report"
)

// nightName matches a night's directory: YYYY-MM-DD, or YYYY-MM-DD-N for
// the N-th night of a date, as scripts/nightly names them.
var nightName = regexp.MustCompile(`^(\d{4}-\d{2}-\d{2})(?:-([0-9]+))?$`)

// nightKey orders nights: by date, then by the suffix (none is 1).
type nightKey struct {
	date time.Time
	n    int
}

// parseNight returns the key of a night's directory name; ok is false for
// a name that is not a night's.
func parseNight(name string) (k nightKey, ok bool) {
	m := nightName.FindStringSubmatch(name)
	if m == nil {
		return k, false
	}
	d, err := time.Parse(time.DateOnly, m[1])
	if err != nil {
		return k, false
	}
	n := 1
	if m[2] != "" {
		if n, err = strconv.Atoi(m[2]); err != nil || n < 2 {
			return k, false
		}
	}
	return nightKey{d, n}, true
}

func (a nightKey) less(b nightKey) bool {
	if !a.date.Equal(b.date) {
		return a.date.Before(b.date)
	}
	return a.n < b.n
}

// Files a night's directory holds besides the shards' and the merged
// reports.
const (
	// jobFile names the Job that owns the night (claimNight).
	jobFile = "JOB"
	// compareFile is the comparison with the baseline night.
	compareFile = "compare.md"
)

// doneFile is the marker shard i leaves when its soak has ended, holding
// the soak's exit code.
func doneFile(i int) string { return fmt.Sprintf("shard-%d.done", i) }

// shardDir is shard i's --out directory in a night.
func shardDir(night string, i int) string { return filepath.Join(night, fmt.Sprintf("shard-%d", i)) }

// writeDone writes shard i's marker with its exit code, atomically: the
// finisher never reads half a marker.
func writeDone(night string, i, code int) error {
	return atomicfile.WriteAll(night, []atomicfile.File{{Name: doneFile(i), Data: []byte(strconv.Itoa(code) + "\n")}})
}

// readDone returns shard i's exit code from its marker; ok is false when
// there is no marker (the shard has not ended, or never started).
func readDone(night string, i int) (code int, ok bool, err error) {
	b, err := os.ReadFile(filepath.Join(night, doneFile(i)))
	if errors.Is(err, os.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	code, err = strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, false, fmt.Errorf("malformed marker %s: %q", filepath.Join(night, doneFile(i)), b)
	}
	return code, true, nil
}

// nightDate is the date a Job's night belongs to. A CronJob names each Job
// it creates NAME-M, M being the scheduled time in minutes since the Unix
// epoch, so every pod of the Job finds the same date from its Job's name
// however late it starts; for any other name (a Job created by hand) it is
// now's UTC date.
func nightDate(job string, now time.Time) time.Time {
	if i := strings.LastIndexByte(job, '-'); i >= 0 {
		m, err := strconv.ParseInt(job[i+1:], 10, 64)
		// Minutes from mid-2000 up to a day ahead: not a Job's random suffix
		// that happens to be all digits.
		if err == nil && m > 16_000_000 && m <= now.Unix()/60+24*60 {
			now = time.Unix(m*60, 0)
		}
	}
	t := now.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// claimNight returns the directory in results of the night of date that
// job owns, creating and claiming it if no pod of job has yet. The night
// is DATE (YYYY-MM-DD), or DATE-2, DATE-3, ... when an earlier Job owns
// DATE (a second run that day) or it holds a night no Job owns. A claim is the file JOB, holding the
// job's identity, made with a hard link so that of the pods claiming at
// once exactly one creates it, on NFS too; the others read it.
func claimNight(results string, date time.Time, job string) (string, error) {
	if job == "" || strings.ContainsAny(job, "\n") {
		return "", fmt.Errorf("night: bad job identity %q", job)
	}
	for n := 1; ; n++ {
		name := date.Format(time.DateOnly)
		if n > 1 {
			name += "-" + strconv.Itoa(n)
		}
		dir := filepath.Join(results, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", err
		}
		if foreignNight(dir) {
			continue
		}
		owner, err := claimFile(filepath.Join(dir, jobFile), job)
		if err != nil {
			return "", err
		}
		if owner == job {
			return dir, nil
		}
	}
}

// foreignNight reports whether dir is a night no Job owns that already
// holds a report (scripts/nightly's, on the same volume): not to be
// claimed. A Job's pods write no report before they claim.
func foreignNight(dir string) bool {
	_, jerr := os.Stat(filepath.Join(dir, jobFile))
	_, rerr := os.Stat(filepath.Join(dir, report.JSONFile))
	return errors.Is(jerr, os.ErrNotExist) && rerr == nil
}

// claimFile creates path holding content unless it exists, and returns
// what path holds.
func claimFile(path, content string) (string, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".claim-")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	_, werr := tmp.WriteString(content + "\n")
	if cerr := tmp.Close(); werr != nil || cerr != nil {
		return "", errors.Join(werr, cerr)
	}
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, os.ErrExist) {
		return "", err
	}
	b, err := os.ReadFile(path)
	return strings.TrimSuffix(string(b), "\n"), err
}
