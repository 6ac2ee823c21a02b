package scenarios_test

import (
	"errors"
	"testing"

	"github.com/nimsync/nimsync/scenarios"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// seq turns a list of seq numbers of sender 0 into (sender, seq) pairs.
func seq(vs ...int) [][2]int {
	out := make([][2]int, len(vs))
	for i, v := range vs {
		out[i] = [2]int{0, v}
	}
	return out
}

// violation asserts that err is a *Violation of inv and returns it.
func violation(t *testing.T, err error, inv string) *scenarios.Violation {
	t.Helper()
	var v *scenarios.Violation
	require.True(t, errors.As(err, &v), "want a *Violation, got %v", err)
	assert.Equal(t, inv, v.Invariant, v.Detail)
	return v
}

func TestCheckerPassesExactlyOnceInOrder(t *testing.T) {
	require.NoError(t, scenarios.CheckStream(1, 5, seq(0, 1, 2, 3, 4)))
	require.NoError(t, scenarios.CheckStream(1, 0, nil))
	// Two senders interleaved: only per-sender order counts.
	require.NoError(t, scenarios.CheckStream(2, 3, [][2]int{{1, 0}, {0, 0}, {0, 1}, {1, 1}, {1, 2}, {0, 2}}))
	// 200 values: more than one bitset word.
	var long []int
	for i := range 200 {
		long = append(long, i)
	}
	require.NoError(t, scenarios.CheckStream(1, 200, seq(long...)))
}

func TestCheckerCatchesDuplicate(t *testing.T) {
	v := violation(t, scenarios.CheckStream(1, 3, seq(0, 1, 1, 2)), "no duplicate")
	assert.Contains(t, v.Detail, "value 1 of sender 0 a second time")
	assert.Equal(t, "test", v.Scenario)
}

func TestCheckerCatchesGap(t *testing.T) {
	v := violation(t, scenarios.CheckStream(1, 200, seq(0, 2, 3)), "no loss")
	assert.Contains(t, v.Detail, "197 of 200 values of sender 0 never received")
	assert.Contains(t, v.Detail, "first [1 4 5 6 7]", "the first few lost values are named")
}

func TestCheckerCatchesReorder(t *testing.T) {
	v := violation(t, scenarios.CheckStream(2, 3, [][2]int{{1, 0}, {0, 1}, {0, 0}, {1, 1}, {1, 2}, {0, 2}}), "per-sender order")
	assert.Contains(t, v.Detail, "got value 0 of sender 0 after value 1")
}

func TestCheckerCatchesPhantom(t *testing.T) {
	v := violation(t, scenarios.CheckStream(1, 2, seq(0, 1, 2)), "no phantom value")
	assert.Contains(t, v.Detail, "value 2 of sender 0, which nobody sent")
	violation(t, scenarios.CheckStream(1, 2, [][2]int{{0, 0}, {0, 1}, {3, 0}}), "no phantom value")
}

func TestCheckerReportsFirstFewAndCount(t *testing.T) {
	// Ten duplicates: the first invariant names the violation, the detail
	// spells out five and counts the rest. Value 1, never received, is
	// not counted: the run stopped at the first duplicate.
	got := seq(0)
	for range 10 {
		got = append(got, seq(0)...)
	}
	v := violation(t, scenarios.CheckStream(1, 2, got), "no duplicate")
	assert.Contains(t, v.Detail, "(10 violations in all)")
}
