package bench_test

import (
	"context"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nimsync/nimsync/bench"
)

var caseGroups = []string{"channels", "latency", "tasks", "cancellation", "memory", "scaling", "stress"}

// A benchstat-style name: a base name, then key=value parts.
var (
	baseName = regexp.MustCompile(`^[A-Z][A-Za-z0-9]*$`)
	keyValue = regexp.MustCompile(`^[a-z][a-z0-9]*=[A-Za-z0-9._-]+$`)
	implName = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)
)

func TestCasesTable(t *testing.T) {
	cases := bench.Cases()
	require.NotEmpty(t, cases)
	names := map[string]bool{}
	seen := map[string]bool{}
	quick := 0
	for _, c := range cases {
		assert.False(t, names[c.Name], "duplicate case %s", c.Name)
		names[c.Name] = true
		seen[c.Group] = true
		assert.Contains(t, caseGroups, c.Group, c.Name)
		parts := strings.Split(c.Name, "/")
		assert.Regexp(t, baseName, parts[0], c.Name)
		for _, p := range parts[1:] {
			assert.Regexp(t, keyValue, p, c.Name)
			assert.False(t, strings.HasPrefix(p, "impl="), "%s names its implementation", c.Name)
		}
		assert.NotEmpty(t, c.Metric, c.Name)
		assert.NotContains(t, c.Metric, " ", c.Name)
		require.NotEmpty(t, c.Impls, c.Name)
		assert.Equal(t, "nimsync", c.Impls[0].Name, c.Name)
		impls := map[string]bool{}
		for _, im := range c.Impls {
			assert.Regexp(t, implName, im.Name, c.Name)
			assert.False(t, impls[im.Name], "%s: duplicate implementation %s", c.Name, im.Name)
			impls[im.Name] = true
			assert.NotNil(t, im.Run, c.Name)
		}
		if c.Claim != nil {
			assert.NotEmpty(t, c.Claim.Text, c.Name)
			assert.Positive(t, c.Claim.Value, c.Name)
		}
		assert.Equal(t, c.Group == "scaling", c.Procs > 0, c.Name)
		if c.Quick {
			quick++
		}
	}
	for _, g := range caseGroups {
		assert.True(t, seen[g], "no case in group %s", g)
	}
	assert.Positive(t, quick)
	assert.Less(t, quick, len(cases))
}

// TestCasesRun runs every case once, briefly: each benchmark works and
// reports its metric. With -short, only the quick ones.
func TestCasesRun(t *testing.T) {
	var cases []bench.Case
	for _, c := range bench.Cases() {
		if c.Quick || !testing.Short() {
			cases = append(cases, c)
		}
	}
	start := time.Now()
	r, err := bench.Run(context.Background(), cases, bench.Options{Rounds: 1, BenchTime: time.Millisecond, WarmUp: -1, LineRTT: func() float64 { return 100 }})
	require.NoError(t, err)
	t.Logf("%d cases in %v", len(cases), time.Since(start).Round(time.Millisecond))
	require.Len(t, r.Rows, len(cases))
	for i, row := range r.Rows {
		c := cases[i]
		require.Equal(t, c.Name, row.Name)
		require.Len(t, row.Impls, len(c.Impls), row.Name)
		for _, im := range row.Impls {
			require.Len(t, im.Samples, 1, row.Name)
			v := im.Samples[0]
			assert.False(t, math.IsNaN(v) || math.IsInf(v, 0), "%s/impl=%s: %v", row.Name, im.Name, v)
			if row.Group != "memory" { // a heap may shrink a little
				assert.Positive(t, v, "%s/impl=%s", row.Name, im.Name)
			}
		}
		if len(c.Impls) > 1 && row.Group != "memory" {
			assert.Len(t, row.Ratios, 1, row.Name)
		}
		assert.Equal(t, c.Claim != nil, row.ClaimMet != nil, row.Name)
	}
}
