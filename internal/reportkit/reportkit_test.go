package reportkit_test

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/plot"

	"github.com/nimsync/nimsync/internal/reportkit"
)

func TestMarkdown(t *testing.T) {
	assert.Equal(t, `a\|b c`, reportkit.MDCell("a|b\r\nc"))
	assert.Equal(t, "—", reportkit.MDInline(""))
	assert.Equal(t, `a\_b \*c\* \`+"`", reportkit.MDInline("a_b *c* `"))
	assert.Equal(t, "`x`", reportkit.MDCode("x"))
	assert.Equal(t, "``a`b``", reportkit.MDCode("a`b"))
	assert.Equal(t, "``` ``x ```", reportkit.MDCode("``x"))
	assert.Equal(t, "—", reportkit.MDCode(""))
	assert.Equal(t, "first…", reportkit.FirstLine("  first\nsecond", 100))
	assert.Equal(t, "abc…", reportkit.FirstLine("abcdef", 3))
	assert.Equal(t, "abc", reportkit.FirstLine("abc", 3))
	assert.Equal(t, "Chan_topo_1p1c", reportkit.FileStem("Chan/topo=1p1c"))
	assert.Equal(t, "_", reportkit.FileStem("../"))
}

func TestTicks(t *testing.T) {
	r := reportkit.Relabel{Ticker: plot.ConstantTicks([]plot.Tick{{Value: 2000, Label: "2000"}, {Value: 3000}}), Format: reportkit.Nanos}
	assert.Equal(t, []plot.Tick{{Value: 2000, Label: "2 µs"}, {Value: 3000}}, r.Ticks(0, 1))

	labels := func(ts []plot.Tick) []string {
		var out []string
		for _, t := range ts {
			if t.Label != "" {
				out = append(out, t.Label)
			}
		}
		return out
	}
	lt := reportkit.LogTicks{Format: reportkit.Count}
	assert.Equal(t, []string{"1k", "10k", "100k"}, labels(lt.Ticks(1000, 100_000)))
	assert.Equal(t, []string{"1k", "2k", "5k", "10k"}, labels(lt.Ticks(1000, 10_000)))
	assert.Panics(t, func() { lt.Ticks(0, 1) })
}

func TestMachine(t *testing.T) {
	m := reportkit.DescribeMachine()
	assert.Positive(t, m.Cores)
	assert.Positive(t, m.GOMAXPROCS)
	assert.NotEmpty(t, m.GoVersion)
	assert.Equal(t, "—", reportkit.Machine{}.Line())
	assert.Equal(t, "AMD EPYC, 2 cores, GOMAXPROCS 2, go1.26.8 linux/amd64",
		reportkit.Machine{CPU: "AMD EPYC", Cores: 2, GOMAXPROCS: 2, GoVersion: "go1.26.8", OS: "linux", Arch: "amd64"}.Line())
	assert.Equal(t, "linux", reportkit.Machine{OS: "linux"}.Line())
	if m.GOMAXPROCS > 1 {
		rtt := reportkit.LineRTT(100, time.Now().Add(5*time.Second))
		assert.True(t, rtt == -1 || rtt > 0, "rtt %v", rtt)
	}
	assert.Equal(t, -1.0, reportkit.LineRTT(1000, time.Now().Add(-time.Second)), "a deadline gone by gives up")
}

// BenchmarkMachineLineRoundTrip measures how long one cache line takes to
// go from one core to another and back (LineRTT, which the performance
// report runs at its start): on a VM the host may place the vCPUs close
// (≈90 ns) or far apart (≈360 ns), and a lock-free channel whose ends run
// on two cores pays it.
func BenchmarkMachineLineRoundTrip(b *testing.B) {
	rtt := reportkit.LineRTT(b.N, time.Now().Add(time.Minute))
	if rtt < 0 {
		b.Skip("the two goroutines did not run side by side (GOMAXPROCS 1?)")
	}
	b.ReportMetric(rtt, "line-rtt-ns")
}

var errTestSchema = errors.New("test schema")

func TestSchemaRead(t *testing.T) {
	s := reportkit.Schema{File: "report.json", Version: 2, Err: errTestSchema, Prefix: "test", What: "a test report.json"}
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
		return p
	}
	var v struct {
		Schema int `json:"schema"`
		N      int `json:"n"`
	}
	write("report.json", `{"schema": 2, "n": 7, "extra": true}`)
	require.NoError(t, s.Read(dir, &v), "a directory reads its report.json")
	assert.Equal(t, 7, v.N)
	for _, tc := range []struct {
		path, want string
		schema     bool
	}{
		{filepath.Join(dir, "missing.json"), "test: reading the report", false},
		{write("bad.json", "{"), "malformed JSON", false},
		{write("none.json", `{"n": 1}`), `no "schema" field; is it a test report.json?`, true},
		{write("v1.json", `{"schema": 1, "n": "x"}`), "has schema 1, this reader knows 2", true},
		{write("shape.json", `{"schema": 2, "n": "x"}`), "malformed report", false},
	} {
		err := s.Read(tc.path, &v)
		require.Error(t, err, tc.path)
		assert.Contains(t, err.Error(), tc.want)
		assert.Equal(t, tc.schema, errors.Is(err, errTestSchema), tc.path)
	}
}

func TestFinite(t *testing.T) {
	var f reportkit.Finite
	f.Check(1, "a")
	require.NoError(t, f.Err())
	f.Check(math.NaN(), "row %d", 3)
	f.Check(math.Inf(1), "later")
	require.EqualError(t, f.Err(), "row 3 is NaN; JSON cannot hold it")
}
