package bench_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nimsync/nimsync/bench"
	"github.com/nimsync/nimsync/internal/reportkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// jitter returns n values around center, spread deterministically by up to
// ±frac of it.
func jitter(center, frac float64, n int) []float64 {
	vs := make([]float64, n)
	for i := range vs {
		// A fixed walk over [-1, 1]: 0, 0.6, -0.6, 0.2, -0.2, 1, -1, ...
		k := []float64{0, 0.6, -0.6, 0.2, -0.2, 1, -1, 0.4, -0.4, 0.8}[i%10]
		vs[i] = center * (1 + frac*k)
	}
	return vs
}

// row builds a row: ours and peers are medians; samples and ratios are
// jittered around them, one per round.
func row(group, name, metric string, higher bool, rounds int, ours float64, peers map[string]float64, order ...string) bench.Row {
	r := bench.Row{Group: group, Name: name, Metric: metric, Higher: higher}
	r.Impls = append(r.Impls, bench.Result{Name: "nimsync", Median: ours, Samples: jitter(ours, 0.02, rounds)})
	for _, p := range order {
		r.Impls = append(r.Impls, bench.Result{Name: p, Median: peers[p], Samples: jitter(peers[p], 0.02, rounds)})
	}
	if len(order) > 0 {
		ratio := ours / peers[order[0]]
		if !higher {
			ratio = peers[order[0]] / ours
		}
		r.Ratios = jitter(ratio, 0.05, rounds)
		r.Ratio = ratio
	}
	return r
}

func claimed(r bench.Row, text string, value float64) bench.Row {
	r.Claim = &bench.Claim{Text: text, Value: value}
	met := r.Impls[0].Median >= value
	if !r.Higher {
		met = r.Impls[0].Median < value
	}
	r.ClaimMet = &met
	return r
}

// synthReport is a report with one row of each verdict, a peerless row
// and a scaling curve.
func synthReport(rounds int) *bench.Report {
	r := &bench.Report{
		Schema: bench.SchemaVersion,
		Date:   time.Date(2026, 11, 25, 14, 3, 0, 0, time.UTC),
		Machine: bench.Machine{Machine: reportkit.Machine{CPU: "AMD EPYC 7B13", Cores: 2, GOMAXPROCS: 2, GoVersion: "go1.26.8",
			OS: "linux", Arch: "amd64"}, LineRTTNs: 101.5},
		Rounds: rounds,
	}
	gochan := func(v float64) map[string]float64 { return map[string]float64{"gochan": v} }
	r.Rows = []bench.Row{
		claimed(row("channels", "Chan/topo=1p1c/cap=1024", "items/s", true, rounds, 62.4e6, gochan(30.1e6), "gochan"),
			"SPSC Channels: 50M+ operations per second", 50e6),
		claimed(row("channels", "Chan/topo=2p2c/cap=1024", "items/s", true, rounds, 12.3e6, gochan(20.5e6), "gochan"),
			"MPMC Channels: 10M+ operations per second", 10e6),
		claimed(row("channels", "Chan/topo=2p1c/cap=1024", "items/s", true, rounds, 15e6, gochan(10e6), "gochan"),
			"MPSC/SPMC Channels: 20M+ operations per second", 20e6),
		row("latency", "PingPong/flavor=spsc", "ns/op", false, rounds, 240, gochan(241), "gochan"),
		row("tasks", "Spawn/tasks=100000", "ns/task", false, rounds, 59.6,
			map[string]float64{"gowg": 191, "errgroup": 193, "conc": 233}, "gowg", "errgroup", "conc"),
		row("tasks", "Group/tasks=16", "ns/op", false, rounds, 4100,
			map[string]float64{"gowg": 2690}, "gowg"),
		row("memory", "ChanSize/cap=0", "B/channel", false, rounds, 384, nil),
		row("memory", "Chan10K/cap=64", "bytes", false, rounds, 9.4e6, nil),
	}
	for _, procs := range []int{1, 2, 4} {
		x := row("scaling", "Chan/topo=2p2c/cap=64", "items/s", true, rounds, 8e6*float64(procs), gochan(10e6), "gochan")
		x.Procs = procs
		r.Rows = append(r.Rows, x)
		// The same with the GOMAXPROCS in the name, as the cases have it.
		x = row("scaling", fmt.Sprintf("Spawn/tasks=100000/procs=%d", procs), "ns/task", false, rounds, 100/float64(procs), map[string]float64{"gowg": 190}, "gowg")
		x.Procs = procs
		r.Rows = append(r.Rows, x)
	}
	return r
}

func TestWriteReportRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	r := synthReport(8)
	r.Schema = 0 // WriteReport sets it
	raw := []byte("goos: linux\nBenchmarkChan/topo=1p1c/cap=1024/impl=nimsync-2 \t1\t6.24e+07 items/s\n")
	require.NoError(t, bench.WriteReport(dir, r, raw))
	assert.Equal(t, 0, r.Schema, "r itself is not modified")

	got, err := bench.ReadReport(dir)
	require.NoError(t, err)
	want := *r
	want.Schema = bench.SchemaVersion
	assert.Equal(t, &want, got)
	viaFile, err := bench.ReadReport(filepath.Join(dir, bench.JSONFile))
	require.NoError(t, err)
	assert.Equal(t, got, viaFile)

	b, err := os.ReadFile(filepath.Join(dir, bench.RawFile))
	require.NoError(t, err)
	assert.Equal(t, raw, b)

	md, err := os.ReadFile(filepath.Join(dir, bench.MarkdownFile))
	require.NoError(t, err)
	// Every embedded plot exists and is a PNG; every group has its bars.
	links := regexp.MustCompile(`!\[[^\]]*\]\(([^)]+)\)`).FindAllStringSubmatch(string(md), -1)
	var pngs []string
	for _, l := range links {
		pngs = append(pngs, l[1])
		img, err := os.ReadFile(filepath.Join(dir, l[1]))
		require.NoError(t, err, l[1])
		assert.True(t, bytes.HasPrefix(img, []byte("\x89PNG\r\n\x1a\n")), l[1])
	}
	assert.ElementsMatch(t, []string{"group-channels.png", "group-latency.png", "group-tasks.png",
		"group-scaling.png", "scaling-Chan_topo_2p2c_cap_64.png", "scaling-Spawn_tasks_100000.png"}, pngs)

	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.ElementsMatch(t, append(pngs, bench.JSONFile, bench.MarkdownFile, bench.RawFile), names, "no other file, no temp file")

	var probe map[string]any
	js, err := os.ReadFile(filepath.Join(dir, bench.JSONFile))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(js, &probe))
	assert.EqualValues(t, bench.SchemaVersion, probe["schema"])
	assert.Contains(t, string(js), "\n  \"date\"", "indented")
}

func TestReportMarkdown(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, bench.WriteReport(dir, synthReport(8), nil))
	b, err := os.ReadFile(filepath.Join(dir, bench.MarkdownFile))
	require.NoError(t, err)
	md := string(b)
	for _, want := range []string{
		"# nimsync benchmarks, 2026-11-25: AMD EPYC 7B13",
		"AMD EPYC 7B13, 2 cores, GOMAXPROCS 2, go1.26.8 linux/amd64, cache-line round trip 102 ns",
		"8 rounds, full run (`nimsync bench`)",
		"[raw.txt](raw.txt)",
		"## channels", "## latency", "## tasks", "## memory", "## scaling",
		"| case | nimsync | primary peer | ratio | other peers | seed report claim | verdict |",
		// Claim met and faster than the peer.
		"| `Chan/topo=1p1c/cap=1024` (items/s) | 62.4M/s | gochan 30.1M/s | 2.08× (95% CI 1.97–2.14) |",
		"| SPSC Channels: 50M+ operations per second (≥ 50M/s) | met |",
		// Claim met but slower than the peer: short.
		"| MPMC Channels: 10M+ operations per second (≥ 10M/s) | met (but slower than gochan) |",
		// Claim not met though faster.
		"| MPSC/SPMC Channels: 20M+ operations per second (≥ 20M/s) | **short** (claim) |",
		// No claim: on par, faster, slower.
		"| `PingPong/flavor=spsc` (ns/op) | 240 ns | gochan 241 ns | 1.01× (95% CI 0.95–1.03) |",
		"| — | on par |",
		"| `Spawn/tasks=100000` (ns/task) | 59.6 ns | gowg 191 ns | 3.22× (95% CI 3.04–3.30) |",
		"errgroup 193 ns (3.24×), conc 233 ns (3.91×)",
		"| — | faster |",
		"| `Group/tasks=16` (ns/op) | 4.1 µs | gowg 2.69 µs | 0.66× (95% CI 0.62–0.68) |",
		"| — | slower |",
		// Peerless: a figure, in human units, no verdict.
		"| `ChanSize/cap=0` (B/channel) | 384 B | — | — | — | — | — |",
		"| `Chan10K/cap=64` (bytes) | 8.96 MiB |",
		"`Chan/topo=2p2c/cap=64, GOMAXPROCS=4` (items/s) | 32M/s | gochan 10M/s | 3.22× (95% CI 3.04–3.30) | — | — | faster |",
		"**Verdicts:** 2 met, 1 short, 6 faster, 1 on par, 2 slower; 2 figures without a claim or a peer.",
		"| `Spawn/tasks=100000/procs=4` (ns/task) | 25 ns | gowg 190 ns |",
		"![nimsync vs peers: channels](group-channels.png)",
	} {
		assert.Contains(t, md, want)
	}
}

func TestReportMarkdownFewRounds(t *testing.T) {
	dir := t.TempDir()
	r := synthReport(3)
	r.Quick = true
	require.NoError(t, bench.WriteReport(dir, r, nil))
	b, err := os.ReadFile(filepath.Join(dir, bench.MarkdownFile))
	require.NoError(t, err)
	md := string(b)
	// Under 6 rounds the interval is the range of the rounds.
	assert.Contains(t, md, "| 2.07× (range 2.01–2.14) |")
	assert.Contains(t, md, "3 rounds, quick run (`nimsync bench --quick`)")
	assert.Contains(t, md, "| — | on par |")
}

func TestWriteReportRenameFails(t *testing.T) {
	dir := t.TempDir()
	// A non-empty directory where report.md goes: its rename fails after
	// the plots and raw.txt were renamed into place.
	require.NoError(t, os.MkdirAll(filepath.Join(dir, bench.MarkdownFile, "x"), 0o755))
	err := bench.WriteReport(dir, synthReport(8), []byte("raw"))
	require.Error(t, err)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "only the blocking directory is left: %v", entries)
	assert.Equal(t, bench.MarkdownFile, entries[0].Name())
}

func TestWriteReportRefusesNaN(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	r := synthReport(8)
	r.Rows[1].Impls[1].Samples[2] = nanValue()
	err := bench.WriteReport(dir, r, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Chan/topo=2p2c/cap=1024 (items/s) gochan samples[2] is NaN")
	_, statErr := os.Stat(dir)
	assert.True(t, errors.Is(statErr, os.ErrNotExist), "nothing written")
	assert.Error(t, bench.WriteReport(dir, nil, nil))
}

func nanValue() float64 { var z float64; return z / z }

func TestWriteReportUnwritable(t *testing.T) {
	notDir := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(notDir, []byte("x"), 0o644))
	assert.Error(t, bench.WriteReport(filepath.Join(notDir, "sub"), synthReport(4), nil))
}

func TestReadReportErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
		return p
	}
	for _, tc := range []struct {
		path, want string
		schema     bool
	}{
		{filepath.Join(dir, "missing.json"), "no such file", false},
		{dir, "no such file", false}, // a directory without report.json
		{write("bad.json", "{"), "malformed JSON", false},
		{write("trailing.json", `{"schema": 2} {}`), "malformed JSON", false},
		{write("none.json", `{"rows": []}`), `no "schema" field`, true},
		{write("v1.json", `{"schema": 1}`), "has schema 1, this reader knows 2", true},
		{write("v3.json", `{"schema": 3}`), "has schema 3, this reader knows 2", true},
		{write("shape.json", `{"schema": 2, "rows": 3}`), "malformed report", false},
	} {
		_, err := bench.ReadReport(tc.path)
		require.Error(t, err, tc.path)
		assert.Contains(t, err.Error(), tc.want)
		assert.Equal(t, tc.schema, errors.Is(err, bench.ErrSchema), tc.path)
	}
}

func TestReadmeTable(t *testing.T) {
	s := bench.ReadmeTable(synthReport(5))
	for _, want := range []string{
		"Measured 2026-11-25 with `nimsync bench` (5 rounds, full run) on AMD EPYC 7B13, 2 cores, GOMAXPROCS 2, go1.26.8 linux/amd64, cache-line round trip 102 ns.",
		"`nimsync bench readme REPORT_DIR`",
		"| case | nimsync | peer | ratio | seed report claim | verdict |",
		"| `Chan/topo=1p1c/cap=1024` (items/s) | 62.4M/s | gochan 30.1M/s | 2.07× (range 2.01–2.14) | SPSC Channels: 50M+ operations per second (≥ 50M/s) | met |",
		"| `Chan/topo=2p2c/cap=1024` (items/s) | 12.3M/s | gochan 20.5M/s | 0.60× (range 0.58–0.62) | MPMC Channels: 10M+ operations per second (≥ 10M/s) | met (but slower than gochan) |",
		"| `Spawn/tasks=100000` (ns/task) | 59.6 ns | gowg 191 ns | 3.20× (range 3.11–3.30) | — | faster |",
		"| `PingPong/flavor=spsc` (ns/op) | 240 ns | gochan 241 ns | 1.00× (range 0.97–1.03) | — | on par |",
	} {
		assert.Contains(t, s, want)
	}
	assert.NotContains(t, s, "GOMAXPROCS=", "scaling rows stay in report.md")
	assert.NotContains(t, s, "ChanSize", "peerless rows without a claim stay in report.md")
	assert.Equal(t, 6, strings.Count(s, "\n| `"), "the headline rows")
}

func TestSpliceReadme(t *testing.T) {
	readme := []byte("# x\n\n## Performance\n\n" + bench.ReadmeBegin + "\nold table\n" + bench.ReadmeEnd + "\n\n## Layout\n")
	out, err := bench.SpliceReadme(readme, "new table\n")
	require.NoError(t, err)
	assert.Equal(t, "# x\n\n## Performance\n\n"+bench.ReadmeBegin+"\n\nnew table\n\n"+bench.ReadmeEnd+"\n\n## Layout\n", string(out))
	again, err := bench.SpliceReadme(out, "new table")
	require.NoError(t, err)
	assert.Equal(t, out, again, "idempotent")
	assert.Contains(t, string(readme), "old table", "input not modified")

	for name, doc := range map[string]string{
		"none":     "# x\n",
		"no end":   bench.ReadmeBegin + "\n",
		"no begin": bench.ReadmeEnd + "\n",
		"reversed": bench.ReadmeEnd + "\n" + bench.ReadmeBegin + "\n",
		"twice":    bench.ReadmeBegin + bench.ReadmeEnd + bench.ReadmeBegin + bench.ReadmeEnd,
	} {
		_, err := bench.SpliceReadme([]byte(doc), "t")
		assert.ErrorIs(t, err, bench.ErrReadmeMarkers, name)
	}
}

func TestReportMarkdownSizes(t *testing.T) {
	r := synthReport(5)
	gochan := func(v float64) map[string]float64 { return map[string]float64{"gochan": v} }
	r.Rows = []bench.Row{
		claimed(row("memory", "ChanMem/cap=1", "B/channel", false, 5, 392, gochan(128), "gochan"),
			"Per-Channel Overhead: <1KB memory usage", 1024),
		row("memory", "ChanMem10K/cap=64", "MiB", false, 5, 13.4, gochan(6.1), "gochan"),
		row("memory", "ScopeMem", "B/scope", false, 5, 96, map[string]float64{"context": 140}, "context"),
	}
	dir := t.TempDir()
	require.NoError(t, bench.WriteReport(dir, r, nil))
	b, err := os.ReadFile(filepath.Join(dir, bench.MarkdownFile))
	require.NoError(t, err)
	md := string(b)
	for _, want := range []string{
		"| `ChanMem/cap=1` (B/channel) | 392 B | gochan 128 B | 0.33× (range 0.32–0.34) |",
		"| Per-Channel Overhead: <1KB memory usage (< 1 KiB) | met (but larger than gochan) |",
		"| `ChanMem10K/cap=64` (MiB) | 13.4 MiB | gochan 6.1 MiB | 0.46× (range 0.44–0.47) | — | — | larger |",
		"| `ScopeMem` (B/scope) | 96 B | context 140 B | 1.46× (range 1.41–1.50) | — | — | smaller |",
		"**Verdicts:** 1 met, 1 smaller, 1 larger.",
	} {
		assert.Contains(t, md, want)
	}
}
