package reportkit_test

import (
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/nimsync/nimsync/internal/reportkit"
)

var mw = reportkit.MannWhitney{Alpha: 0.05, NoiseFloor: 0.05, MinSamples: 4, Side: "side"}

func around(v float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v * (1 + 0.01*float64(i-n/2))
	}
	return out
}

func TestMannWhitney(t *testing.T) {
	r := mw.Compare(around(100, 8), around(70, 8), reportkit.Higher)
	assert.Equal(t, reportkit.Regressed, r.Verdict)
	assert.InDelta(t, 0.7, r.Change, 0.01)
	assert.Less(t, r.P, 0.05)
	assert.Equal(t, 8, r.NBase)

	assert.Equal(t, reportkit.Improved, mw.Compare(around(100, 8), around(70, 8), reportkit.Lower).Verdict, "lower is better")
	assert.Equal(t, reportkit.Unchanged, mw.Compare(around(100, 8), around(98, 8), reportkit.Higher).Verdict, "within the noise floor")

	info := mw.Compare(around(100, 8), around(10, 8), reportkit.Neither)
	assert.Equal(t, reportkit.Info, info.Verdict, "information only is never a regression")
	assert.False(t, math.IsNaN(info.P))

	few := mw.Compare(around(100, 3), append(around(70, 8), math.NaN(), math.Inf(1)), reportkit.Higher)
	assert.Equal(t, reportkit.Insufficient, few.Verdict)
	assert.Equal(t, 8, few.NCur, "NaNs and infinities are left out")
	assert.True(t, math.IsNaN(few.P))
	assert.Equal(t, []string{"need ≥ 4 samples on each side, have 3 (base) and 8 (current)"}, few.Notes)

	strict := mw
	strict.Alpha = 0.001
	r = strict.Compare(around(100, 4), around(10, 4), reportkit.Higher)
	assert.Equal(t, reportkit.Insufficient, r.Verdict)
	assert.Contains(t, r.Notes[0], "cannot reach p < 0.001")

	zero := mw.Compare(make([]float64, 8), around(10, 8), reportkit.Higher)
	assert.Equal(t, reportkit.Insufficient, zero.Verdict)
	assert.Contains(t, zero.Notes, "base median is not positive; no ratio")

	nj := reportkit.NotJudged("peer changed")
	assert.Equal(t, reportkit.Insufficient, nj.Verdict)
	assert.Equal(t, "—", nj.PCell())
	assert.Equal(t, "insufficient samples", nj.VerdictCell())
	assert.Equal(t, "Verdict(9)", reportkit.Verdict(9).String())
}

type row struct {
	name string
	reportkit.Result
}

func TestComparison(t *testing.T) {
	var c reportkit.Comparison[struct{}, row]
	assert.False(t, c.Regressed())
	c.Rows = []row{
		{"a", mw.Compare(around(100, 8), around(70, 8), reportkit.Higher)},
		{"b", reportkit.NotJudged("why")},
	}
	assert.True(t, c.Regressed())
	assert.Equal(t, map[reportkit.Verdict]int{reportkit.Regressed: 1, reportkit.Insufficient: 1}, c.Tally())

	var b strings.Builder
	var rows []reportkit.TableRow
	for _, r := range c.Rows {
		rows = append(rows, reportkit.TableRow{Lead: [2]string{r.name, "x"}, Base: "1", Cur: "2", Change: "+1%", Label: r.name, Result: r.Result})
	}
	reportkit.CompareTable(&b, [2]string{"case", "against"}, rows)
	md := b.String()
	assert.Contains(t, md, "| case | against | base | current | change | p | n | verdict |\n|---|---|--:|--:|--:|--:|--:|---|\n")
	assert.Contains(t, md, "| a | x | 1 | 2 | +1% | 0.000 | 8+8 | **regressed** |")
	assert.Contains(t, md, "| b | x | 1 | 2 | +1% | — | 0+0 | insufficient samples |")
	assert.Contains(t, md, "\nNotes:\n\n- b: why\n")
}
