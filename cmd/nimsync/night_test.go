package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nimsync/nimsync/report"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// soakShards runs a tiny two-shard soak in-process (chaos off) into
// dir/shard-0 and dir/shard-1.
func soakShards(t *testing.T, dir string, seed string) {
	t.Helper()
	for i := range 2 {
		code, stdout, stderr := nimsync(t, "soak", "--chaos=off", "--runs", "4", "--seed", seed, "--scale", "0.01",
			"--sample", "20ms", "--shard", fmt.Sprintf("%d/2", i), "--out", shardDir(dir, i))
		require.Equal(t, exitOK, code, stdout+stderr)
	}
}

// copyNight copies the shard reports of night from into a new night to,
// changing each report with edit (if not nil).
func copyNight(t *testing.T, from, to string, edit func(*report.Report)) {
	t.Helper()
	for i := range 2 {
		r, err := report.Read(shardDir(from, i))
		require.NoError(t, err)
		if edit != nil {
			edit(r)
		}
		require.NoError(t, report.Write(shardDir(to, i), r))
	}
}

// steadySamples gives every scenario 12 samples at ops ops/s.
func steadySamples(ops float64) func(*report.Report) {
	return func(r *report.Report) {
		for i := range r.Scenarios {
			r.Scenarios[i].Samples = nil
			for k := range 12 {
				r.Scenarios[i].Samples = append(r.Scenarios[i].Samples, report.Sample{T: float64(k), OpsPerSec: ops + float64(k)})
			}
		}
	}
}

// TestNightFinish finishes nights on a results directory: the first has no
// baseline, the second compares with it and deletes a night past
// --keep-days, a slower night regresses, and a night missing a shard or
// with a failed shard fails.
func TestNightFinish(t *testing.T) {
	results := t.TempDir()
	src := filepath.Join(t.TempDir(), "src")
	soakShards(t, src, "5")
	finish := func(night string, more ...string) (int, string) {
		code, stdout, stderr := nimsync(t, append([]string{"night", "finish", "--results", results, "--night", night, "--shards", "2"}, more...)...)
		return code, stdout + stderr
	}

	copyNight(t, src, filepath.Join(results, "2026-01-01"), nil)
	code, out := finish("2026-01-01")
	require.Equal(t, exitOK, code, out)
	assert.Contains(t, out, "comparison skipped")
	r, err := report.Read(filepath.Join(results, "2026-01-01"))
	require.NoError(t, err)
	require.Equal(t, []string{"0/2", "1/2"}, r.Shards)
	require.Len(t, r.Runs, 4)

	// An old night (past --keep-days) and a directory that is no night.
	old := filepath.Join(results, "2025-11-20")
	require.NoError(t, report.Write(old, r))
	require.NoError(t, os.Mkdir(filepath.Join(results, "lost+found"), 0o755))
	copyNight(t, src, filepath.Join(results, "2026-01-02"), nil)
	code, out = finish("2026-01-02", "--keep-days", "30")
	require.Equal(t, exitOK, code, out)
	assert.Contains(t, out, "Compared with the night 2026-01-01")
	assert.FileExists(t, filepath.Join(results, "2026-01-02", compareFile))
	assert.NoDirExists(t, old, "older than 30 days before 2026-01-02")
	assert.DirExists(t, filepath.Join(results, "2026-01-01"))
	assert.DirExists(t, filepath.Join(results, "lost+found"))

	// A night of another scale is not a baseline: the fast night compares
	// with 2026-01-02, the slow one with the fast one, and regresses.
	copyNight(t, src, filepath.Join(results, "2026-01-03"), steadySamples(1000))
	code, out = finish("2026-01-03")
	require.Equal(t, exitOK, code, out)
	copyNight(t, src, filepath.Join(results, "2026-01-04"), func(r *report.Report) { r.Scale *= 2 })
	code, out = finish("2026-01-04")
	require.Equal(t, exitOK, code, out)
	copyNight(t, src, filepath.Join(results, "2026-01-05"), steadySamples(400))
	code, out = finish("2026-01-05")
	require.Equal(t, exitFound, code, out)
	assert.Contains(t, out, "2026-01-04 is not comparable (scale")
	assert.Contains(t, out, "Compared with the night 2026-01-03")
	assert.Contains(t, out, "significant regression")

	// The latest night by default; a missing shard fails it.
	missing := filepath.Join(results, "2026-01-06")
	copyNight(t, src, missing, nil)
	require.NoError(t, os.RemoveAll(shardDir(missing, 1)))
	code, stdout, stderr := nimsync(t, "night", "finish", "--results", results, "--shards", "2")
	require.Equal(t, exitFound, code, stdout+stderr)
	assert.Contains(t, stderr, "no report from shard-1")
	assert.FileExists(t, filepath.Join(missing, report.JSONFile), "the shards there are merged")

	// A shard that found a violation fails the night.
	failed := filepath.Join(results, "2026-01-07")
	copyNight(t, src, failed, func(r *report.Report) {
		r.Passed = false
		r.Failures = append(r.Failures, report.Failure{Scenario: r.Runs[0].Scenario, Seed: 1, Kind: "violation", Error: "planted"})
	})
	code, out = finish("2026-01-07")
	require.Equal(t, exitFound, code, out)
	assert.Contains(t, out, "violation")
}

// TestNightRun runs a night of two shards as an Indexed Job's pods would:
// shard 1, then shard 0, which finishes the night; a second Job the same
// day gets the next directory; a retried pod of shard 0 finishes without
// soaking again; a shard 0 whose partner never ends stops waiting.
func TestNightRun(t *testing.T) {
	results := t.TempDir()
	const minutes = 29_432_160 // 2025-12-17T00:00Z, a CronJob's scheduled time
	pod := func(index int, job string, more ...string) (int, string) {
		t.Setenv("JOB_COMPLETION_INDEX", fmt.Sprint(index))
		args := append([]string{"night", "run", "--results", results, "--shards", "2", "--job", job,
			"--job-name", fmt.Sprintf("nimsync-night-%d", minutes), "--poll", "10ms"}, more...)
		args = append(args, "--", "--chaos=off", "--runs", "4", "--scale", "0.01", "--sample", "20ms")
		code, stdout, stderr := nimsync(t, args...)
		return code, stdout + stderr
	}
	code, out := pod(1, "uid-a")
	require.Equal(t, exitOK, code, out)
	night := filepath.Join(results, "2025-12-17")
	require.FileExists(t, filepath.Join(night, doneFile(1)))
	require.NoFileExists(t, filepath.Join(night, report.JSONFile), "shard 1 does not finish")
	code, out = pod(0, "uid-a")
	require.Equal(t, exitOK, code, out)
	r, err := report.Read(night)
	require.NoError(t, err)
	assert.Equal(t, uint64(20251217), r.Seed, "the seed is the scheduled date")
	assert.Equal(t, []string{"0/2", "1/2"}, r.Shards)
	assert.Contains(t, out, "night passed")

	code, out = pod(0, "uid-a")
	require.Equal(t, exitOK, code, out)
	assert.Contains(t, out, "already ran")

	// Another Job the same day: the next directory. Its shard 1 never
	// ends: shard 0 stops waiting and the night fails.
	code, out = pod(0, "uid-b", "--wait", "50ms")
	require.Equal(t, exitFound, code, out)
	assert.Contains(t, out, "no marker from shards [1]")
	assert.Contains(t, out, "no report from shard-1")
	assert.FileExists(t, filepath.Join(results, "2025-12-17-2", report.JSONFile))
}

func TestNightBadUsage(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("NIMSYNC_JOB_UID", "")
	t.Setenv("NIMSYNC_JOB_NAME", "")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"night"}, "run or finish"},
		{[]string{"night", "walk"}, `unknown night subcommand "walk"`},
		{[]string{"night", "finish"}, "bad --results"},
		{[]string{"night", "finish", "--results", dir}, "no night"},
		{[]string{"night", "finish", "--results", dir, "--night", "yesterday"}, `bad --night "yesterday"`},
		{[]string{"night", "finish", "--results", dir, "--keep-days", "-1"}, "bad --keep-days -1"},
		{[]string{"night", "run", "--results", dir}, "bad --job"},
		{[]string{"night", "run", "--results", dir, "--job", "x", "--", "--seed", "3"}, "--seed after --: night run sets it"},
		{[]string{"night", "run", "--results", dir, "--job", "x", "--shards", "2"}, "needs JOB_COMPLETION_INDEX"},
		{[]string{"night", "run", "--results", dir, "--job", "x", "--shard", "0/1", "--", "--chaos=maybe"}, `bad --chaos "maybe"`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, _, stderr := nimsync(t, tc.args...)
			assert.Equal(t, exitUsage, code, stderr)
			assert.Contains(t, stderr, tc.want)
		})
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Empty(t, entries, "bad usage leaves nothing behind")
}

func TestNightDate(t *testing.T) {
	now := time.Date(2026, 3, 1, 0, 10, 0, 0, time.UTC)
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	scheduled := time.Date(2026, 2, 28, 23, 50, 0, 0, time.UTC).Unix() / 60
	assert.Equal(t, day(2026, 2, 28), nightDate(fmt.Sprintf("nimsync-night-%d", scheduled), now), "the scheduled date, not the pod's")
	assert.Equal(t, day(2026, 3, 1), nightDate("nimsync-manual-12345", now), "not minutes: today")
	assert.Equal(t, day(2026, 3, 1), nightDate(fmt.Sprintf("x-%d", now.Unix()/60+2*24*60), now), "in the future: today")
	assert.Equal(t, day(2026, 3, 1), nightDate("", now))
}

func TestParseNight(t *testing.T) {
	a, ok := parseNight("2026-01-02")
	require.True(t, ok)
	b, ok := parseNight("2026-01-02-2")
	require.True(t, ok)
	c, ok := parseNight("2026-01-10")
	require.True(t, ok)
	assert.True(t, a.less(b))
	assert.True(t, b.less(c))
	assert.False(t, b.less(a))
	for _, bad := range []string{"2026-01-02-1", "2026-13-01", "2026-01-02-x", "shard-0", "lost+found"} {
		_, ok := parseNight(bad)
		assert.False(t, ok, bad)
	}
}

// TestClaimNight: pods of one Job claiming at once agree on one directory;
// another Job gets the next.
func TestClaimNight(t *testing.T) {
	results := t.TempDir()
	date := time.Date(2026, 5, 6, 0, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	got := make([]string, 8)
	for i := range got {
		wg.Go(func() {
			dir, err := claimNight(results, date, "job-a")
			assert.NoError(t, err)
			got[i] = dir
		})
	}
	wg.Wait()
	for _, d := range got {
		assert.Equal(t, filepath.Join(results, "2026-05-06"), d)
	}
	dir, err := claimNight(results, date, "job-b")
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(results, "2026-05-06-2"), dir)
	_, err = claimNight(results, date, "")
	require.Error(t, err)

	// A night scripts/nightly wrote (a report, no JOB) is not claimed.
	other := date.AddDate(0, 0, 1)
	require.NoError(t, report.Write(filepath.Join(results, "2026-05-07"), &report.Report{Shards: []string{"0/1"}}))
	dir, err = claimNight(results, other, "job-c")
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(results, "2026-05-07-2"), dir)
}

func TestIncomparable(t *testing.T) {
	base := &report.Report{Chaos: "swarm", ChaosBuild: true, Scale: 0.1, Shards: []string{"0/4", "2/4"}, ScenarioSet: []string{"a", "b"}}
	cur := *base
	cur.Shards = []string{"1/4"}
	assert.Empty(t, incomparable(base, &cur), "a merge that lost shards is still of 4")
	for name, edit := range map[string]func(*report.Report){
		"chaos":     func(r *report.Report) { r.Chaos = "off" },
		"sched":     func(r *report.Report) { r.Sched = "random" },
		"scenarios": func(r *report.Report) { r.ScenarioSet = []string{"a"} },
		"scale":     func(r *report.Report) { r.Scale = 1 },
		"shards":    func(r *report.Report) { r.Shards = []string{"0/2"} },
		"machine":   func(r *report.Report) { r.Machine.Cores = 64 },
	} {
		c := *base
		edit(&c)
		assert.NotEmpty(t, incomparable(base, &c), name)
	}
	older := *base
	older.ScenarioSet, older.Scale = nil, 0
	assert.Empty(t, incomparable(&older, base), "fields an older report lacks compare as equal")
}
