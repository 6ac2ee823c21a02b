package sched_test

import (
	"strings"
	"testing"

	"github.com/nimsync/nimsync/sched"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPreempted: pct:1 never takes the processor from a goroutine that
// could go on, so its runs have no preemption; a lost update needs one (a
// switch between a read and its write), so every run that loses one has
// at least one, and each preemption switches to another goroutine.
func TestPreempted(t *testing.T) {
	for seed := range uint64(50) {
		r, _ := runCounter(seed, sched.PCT(1), sched.Options{MaxSteps: 500}, false)
		require.Empty(t, r.Preempted, "pct:1 seed %d", seed)
	}
	losses := 0
	for seed := range uint64(50) {
		r, c := runCounter(seed, sched.Random(), sched.Options{MaxSteps: 500}, false)
		for _, s := range r.Preempted {
			require.NotEqual(t, r.Decisions[s-1], r.Decisions[s], "seed %d step %d", seed, s)
		}
		if c.lost() {
			losses++
			require.NotEmpty(t, r.Preempted, "seed %d lost an update without a preemption", seed)
		}
	}
	require.Positive(t, losses)
}

// TestWriteMarkdown: the trace names the strategy, the steps, the
// preemptions and the failure, has a column per goroutine, marks each
// preemption, and ends with the failure.
func TestWriteMarkdown(t *testing.T) {
	var r *sched.Result
	for seed := range uint64(100) {
		if r, _ = runCounter(seed, sched.Random(), sched.Options{MaxSteps: 500}, true); r.Failure != nil {
			break
		}
	}
	require.NotNil(t, r.Failure, "random finds the lost update in 100 seeds")
	a := r.Artifact()
	require.NotEmpty(t, a.Preempted)
	var b strings.Builder
	require.NoError(t, a.WriteMarkdown(&b, sched.TraceOptions{Title: "lost update"}))
	md := b.String()
	t.Log(md)
	assert.True(t, strings.HasPrefix(md, "# lost update\n"))
	assert.Contains(t, md, "Strategy `random`")
	assert.Contains(t, md, "| step | g0 | g1 | g2 | g3 |")
	assert.Equal(t, len(a.Preempted), strings.Count(md, "⚡ `"), "one mark per preemption")
	assert.Contains(t, md, "**Failure:** "+r.Failure.Error())
	assert.True(t, strings.HasSuffix(md, "Then: "+r.Failure.Error()+"\n"))

	b.Reset()
	require.NoError(t, a.WriteMarkdown(&b, sched.TraceOptions{Last: 5, Failure: "the verdict"}))
	assert.Contains(t, b.String(), "The last 5 steps of")
	assert.Contains(t, b.String(), "**Failure:** the verdict")
}
