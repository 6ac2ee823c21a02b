package report_test

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nimsync/nimsync/report"
)

func TestWriteReadRoundTrip(t *testing.T) {
	r := synth(42, "0/1", true)
	r.Tool = "" // Write defaults it.
	// Write creates the directory.
	dir := filepath.Join(t.TempDir(), "nested", "night")

	require.NoError(t, report.Write(dir, r))
	assert.Equal(t, 0, r.Schema, "Write must not modify its argument")
	assert.Empty(t, r.Tool, "Write must not modify its argument")

	want := *r
	want.Schema, want.Tool = report.SchemaVersion, "nimsync"
	for _, path := range []string{dir, filepath.Join(dir, report.JSONFile)} {
		got, err := report.Read(path)
		require.NoError(t, err, path)
		assert.Equal(t, &want, got, path)
	}
}

func TestWriteFiles(t *testing.T) {
	dir := t.TempDir()
	r := synth(42, "0/1", true)
	require.NoError(t, report.Write(dir, r))

	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.ElementsMatch(t, []string{report.JSONFile, report.MarkdownFile, report.HTMLFile}, names, "no temp files left")

	js, err := os.ReadFile(filepath.Join(dir, report.JSONFile))
	require.NoError(t, err)
	assert.Contains(t, string(js), fmt.Sprintf("\n  \"schema\": %d,", report.SchemaVersion), "indented, schema set")

	md, err := os.ReadFile(filepath.Join(dir, report.MarkdownFile))
	require.NoError(t, err)
	mds := string(md)
	firstLines := strings.Join(strings.SplitN(mds, "\n", 4)[:3], "\n")
	assert.Contains(t, firstLines, "FAIL", "verdict up top")
	assert.Contains(t, firstLines, "1 violation")
	for _, want := range []string{
		"| Seed | 42 |", "| Shards | 0/1 |", "swarm (failpoint build)", "Test CPU @ 3GHz, 8 cores, GOMAXPROCS 8, go1.26.0 linux/amd64",
		"| chan/spsc |", "| chan/mpmc |", `| group\|scope |`,
		"P99.9", "7.2 µs", "27 µs", "4 ms", "1M/s",
		"## Leak check: OK", "+12 B/s", "1 KiB/s",
		"## Failures (1)", "`failures/chan_mpmc-", "`go run ./cmd/nimsync replay -scenario chan/mpmc -seed ",
		"`linearizability violation…`",
	} {
		assert.Contains(t, mds, want)
	}

	page, err := os.ReadFile(filepath.Join(dir, report.HTMLFile))
	require.NoError(t, err)
	html := string(page)
	assert.True(t, strings.HasPrefix(html, "<!DOCTYPE html>"))
	// throughput, one latency plot per scenario, goroutines, heap
	assert.Equal(t, 1+3+2, strings.Count(html, "<svg "), "inline SVG plots")
	assert.NotContains(t, html, "<?xml", "SVG prolog stripped")
	for _, want := range []string{"Throughput per scenario", "Latency: chan/mpmc", "Goroutines", "Heap", "P99.9", "group|scope", "verdict fail", "linearizability violation\nhistory: ..."} {
		assert.Contains(t, html, want)
	}
	assert.NotContains(t, html, "<script", "self-contained, static")
	assert.NotContains(t, html, "src=\"http", "self-contained")
}

func TestWritePassingAndEmpty(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, report.Write(dir, synth(7, "0/1", false)))
	md, err := os.ReadFile(filepath.Join(dir, report.MarkdownFile))
	require.NoError(t, err)
	assert.Contains(t, string(md), "**Verdict: PASS.**")
	assert.Contains(t, string(md), "## Failures (0)\n\nNone.")

	// A report with nothing in it still renders, without plots.
	empty := t.TempDir()
	require.NoError(t, report.Write(empty, &report.Report{Seed: 1}))
	page, err := os.ReadFile(filepath.Join(empty, report.HTMLFile))
	require.NoError(t, err)
	assert.NotContains(t, string(page), "<svg")
	assert.Contains(t, string(page), "No throughput samples.")
	got, err := report.Read(empty)
	require.NoError(t, err)
	assert.Equal(t, uint64(1), got.Seed)

	require.Error(t, report.Write(t.TempDir(), nil))
}

// A rename that fails (report.html is a directory) leaves neither temp
// files nor the report files already renamed.
func TestWriteFailureLeavesNoPartialReport(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, report.HTMLFile)
	require.NoError(t, os.Mkdir(blocker, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(blocker, "keep"), []byte("x"), 0o644))

	err := report.Write(dir, synth(42, "0/1", true))
	require.Error(t, err)

	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "only the blocking directory remains")
	assert.Equal(t, report.HTMLFile, entries[0].Name())
	assert.True(t, entries[0].IsDir())
	_, err = report.Read(dir)
	require.ErrorIs(t, err, os.ErrNotExist)
}

func TestWriteConcurrently(t *testing.T) {
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() { errs[i] = report.Write(t.TempDir(), synth(uint64(i), "0/1", i%2 == 0)) })
	}
	wg.Wait()
	for _, err := range errs {
		assert.NoError(t, err)
	}
}

func TestWriteRejectsNonFinite(t *testing.T) {
	r := synth(42, "0/1", false)
	r.Scenarios[1].Samples[3].OpsPerSec = math.NaN()
	dir := t.TempDir()
	err := report.Write(dir, r)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `scenario "chan/mpmc" sample 3 ops_per_s is NaN`)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, entries)
}

func TestWritePlots(t *testing.T) {
	dir := t.TempDir()
	paths, err := report.WritePlots(dir, synth(42, "0/1", false))
	require.NoError(t, err)
	var names []string
	for _, p := range paths {
		names = append(names, filepath.Base(p))
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(string(b), "\x89PNG\r\n"), p)
	}
	assert.Equal(t, []string{
		"throughput.png", "latency-chan_spsc.png", "latency-chan_mpmc.png", "latency-group_scope.png",
		"goroutines.png", "heap.png",
	}, names)
}
