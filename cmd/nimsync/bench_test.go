package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nimsync/nimsync/bench"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tinyCases replaces bench.Cases for the duration of a test: a peered case
// with a claim, a peerless one and a case --quick leaves out, each a few
// nanoseconds per op, so a run takes milliseconds.
func tinyCases(t *testing.T) {
	t.Helper()
	spin := func(b *testing.B) {
		x := 0
		for i := range b.N {
			x += i
		}
		_ = x
	}
	size := func(b *testing.B) {
		for range b.N {
		}
		b.ReportMetric(384, "B/thing")
	}
	oldRTT := benchLineRTT
	benchLineRTT = func() float64 { return 100 } // every round near
	t.Cleanup(func() { benchLineRTT = oldRTT })
	old := benchCases
	benchCases = func() []bench.Case {
		return []bench.Case{
			{Group: "channels", Name: "Tiny/op=add", Metric: "ns/op", Quick: true,
				Impls: []bench.Contender{{Name: "nimsync", Run: spin}, {Name: "gochan", Run: spin}, {Name: "other", Run: spin}},
				Claim: &bench.Claim{Text: "tiny: <1 ms", Value: 1e6}},
			{Group: "memory", Name: "Tiny/size", Metric: "B/thing", Quick: true,
				Impls: []bench.Contender{{Name: "nimsync", Run: size}}},
			{Group: "channels", Name: "Tiny/slow", Metric: "ns/op",
				Impls: []bench.Contender{{Name: "nimsync", Run: spin}, {Name: "gochan", Run: spin}}},
		}
	}
	t.Cleanup(func() { benchCases = old })
}

// writeBaseline writes a report like tinyCases' whose Tiny/op=add ratios
// are all near ratio, 8 rounds, and returns its directory.
func writeBaseline(t *testing.T, ratio float64) string {
	t.Helper()
	r := &bench.Report{Schema: bench.SchemaVersion, Date: time.Now().UTC(), Rounds: 8, Quick: true}
	row := bench.Row{Group: "channels", Name: "Tiny/op=add", Metric: "ns/op", Place: bench.PlaceNear,
		Impls: []bench.Result{{Name: "nimsync"}, {Name: "gochan"}, {Name: "other"}}}
	for i := range 8 {
		x := ratio * (1 + 0.01*float64(i-4))
		row.Ratios = append(row.Ratios, x)
		for k, v := range []float64{1 / x, 1, 1} {
			row.Impls[k].Samples = append(row.Impls[k].Samples, v)
		}
	}
	for k := range row.Impls {
		row.Impls[k].Median = row.Impls[k].Samples[4]
	}
	row.Ratio = ratio
	r.Rows = []bench.Row{row}
	dir := filepath.Join(t.TempDir(), "baseline")
	require.NoError(t, bench.WriteReport(dir, r, nil))
	return dir
}

func TestBenchBadUsage(t *testing.T) {
	tinyCases(t)
	dir := t.TempDir()
	notDir := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(notDir, []byte("x"), 0o644))
	badSchema := filepath.Join(dir, "v9.json")
	require.NoError(t, os.WriteFile(badSchema, []byte(`{"schema": 9}`), 0o644))
	noMarkers := filepath.Join(dir, "README.md")
	require.NoError(t, os.WriteFile(noMarkers, []byte("# x\n\nno markers here\n"), 0o644))
	report := writeBaseline(t, 1)
	fresh := filepath.Join(dir, "fresh")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"bench", "--rounds", "-1"}, "must not be negative"},
		{[]string{"bench", "--benchtime", "soon"}, `bad --benchtime "soon": want a duration`},
		{[]string{"bench", "--alpha", "2"}, "--alpha must be in (0, 1)"},
		{[]string{"bench", "--bogus"}, "unknown flag --bogus"},
		{[]string{"bench", "extra"}, `bench takes no arguments (got "extra")`},
		{[]string{"bench", "--baseline", filepath.Join(dir, "missing"), "--out", fresh}, "--baseline: bench: reading the report"},
		{[]string{"bench", "--baseline", badSchema, "--out", fresh}, "has schema 9, this reader knows 2"},
		{[]string{"bench", "--out", filepath.Join(notDir, "sub")}, "--out"},
		{[]string{"bench", "readme"}, "takes one report"},
		{[]string{"bench", "readme", filepath.Join(dir, "missing")}, "reading the report"},
		{[]string{"bench", "readme", report, "--readme", filepath.Join(dir, "NOPE.md")}, "--readme"},
		{[]string{"bench", "readme", report, "--readme", noMarkers}, "README markers missing or misplaced"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, _, stderr := nimsync(t, tc.args...)
			assert.Equal(t, exitUsage, code, stderr)
			assert.Contains(t, stderr, tc.want)
		})
	}
	_, err := os.Stat(fresh)
	assert.ErrorIs(t, err, os.ErrNotExist, "bad usage writes nothing")
	b, err := os.ReadFile(noMarkers)
	require.NoError(t, err)
	assert.Equal(t, "# x\n\nno markers here\n", string(b), "README untouched")

	code, _, stderr := nimsync(t, "bench", "--help")
	assert.Equal(t, exitOK, code)
	assert.Contains(t, stderr, "usage: nimsync bench")
}

func TestBenchQuick(t *testing.T) {
	tinyCases(t)
	out := filepath.Join(t.TempDir(), "out")
	code, stdout, stderr := nimsync(t, "bench", "--quick", "--out", out, "--rounds", "2", "--benchtime", "1ms")
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stderr, "bench: 2 cases, a warm-up round of 200µs then 2 rounds of 1ms per benchmark (about 1s)")
	assert.Contains(t, stderr, "bench: round 2/2  channels     Tiny/op=add impl=gochan: ")
	assert.Contains(t, stderr, "impl=nimsync: 384 B")
	assert.Contains(t, stdout, "report: "+filepath.Join(out, bench.MarkdownFile))
	assert.Contains(t, stdout, "| `Tiny/op=add/place=near` (ns/op) |")
	assert.Contains(t, stdout, "Only one placement was observed in this run: near")
	assert.NotContains(t, stdout, "Tiny/slow")

	r, err := bench.ReadReport(out)
	require.NoError(t, err)
	assert.True(t, r.Quick)
	assert.Equal(t, 2, r.Rounds)
	require.Len(t, r.Rows, 2, "--quick leaves Tiny/slow out")
	for _, f := range []string{bench.JSONFile, bench.MarkdownFile, bench.RawFile, "group-channels.png"} {
		assert.FileExists(t, filepath.Join(out, f))
	}
	raw, err := os.ReadFile(filepath.Join(out, bench.RawFile))
	require.NoError(t, err)
	assert.Contains(t, string(raw), "BenchmarkTiny/op=add/place=near/impl=gochan-")
}

func TestBenchBaseline(t *testing.T) {
	tinyCases(t)
	args := func(base string) []string {
		return []string{"bench", "--quick", "--out", filepath.Join(t.TempDir(), "out"), "--rounds", "4", "--benchtime", "1ms", "--baseline", base}
	}
	// The tiny implementations are alike: a ratio near 1 against a
	// baseline of 100× is a regression, against 0.01× an improvement.
	code, stdout, stderr := nimsync(t, args(writeBaseline(t, 100))...)
	assert.Equal(t, exitFound, code, stderr)
	assert.Contains(t, stdout, "## Comparison with the baseline: REGRESSED")
	assert.Contains(t, stderr, "a significant regression against")

	code, stdout, stderr = nimsync(t, args(writeBaseline(t, 0.01))...)
	assert.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, "## Comparison with the baseline: no regression")
	assert.Contains(t, stdout, "| improved |")
}

func TestBenchReadme(t *testing.T) {
	report := writeBaseline(t, 2)
	readme := filepath.Join(t.TempDir(), "README.md")
	before := "# nimsync\n\n## Performance\n\n" + bench.ReadmeBegin + "\nhand-typed table\n" + bench.ReadmeEnd + "\n\n## Layout\n"
	require.NoError(t, os.WriteFile(readme, []byte(before), 0o600))

	code, stdout, stderr := nimsync(t, "bench", "readme", report, "--readme", readme)
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, "performance section regenerated")
	b, err := os.ReadFile(readme)
	require.NoError(t, err)
	doc := string(b)
	assert.NotContains(t, doc, "hand-typed table")
	assert.True(t, strings.HasPrefix(doc, "# nimsync\n\n## Performance\n\n"+bench.ReadmeBegin+"\n\nMeasured "), doc)
	assert.True(t, strings.HasSuffix(doc, "\n\n"+bench.ReadmeEnd+"\n\n## Layout\n"), doc)
	assert.Contains(t, doc, "| `Tiny/op=add/place=near` (ns/op) | 0.5 ns | gochan 1 ns | 1.99× (95% CI 1.92–2.04) | — | faster |")
	fi, err := os.Stat(readme)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "mode kept")

	code, stdout, _ = nimsync(t, "bench", "readme", filepath.Join(report, bench.JSONFile), "--readme", readme)
	assert.Equal(t, exitOK, code)
	assert.Contains(t, stdout, "already up to date")
	entries, err := os.ReadDir(filepath.Dir(readme))
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file left")
}
