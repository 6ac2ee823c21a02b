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

// TestWriteMarkdownHistory: each operation of a step-clocked history is
// named in its goroutine's row where it is called (▸) and where it
// returns (◂), with its steps; an operation of another goroutine is not in
// that goroutine's rows, and "|" in a label is escaped.
func TestWriteMarkdownHistory(t *testing.T) {
	a := &sched.Artifact{Strategy: "random", Decisions: []int{0, 1, 1, 0, 1}, Points: []string{"sched.start", "sched.start", "a", "b", "c"}, TraceHash: "0"}
	h := []sched.HistoryOp{
		{G: 1, Call: 1, Return: 2, Label: "Send(3) → nil"},
		{G: 0, Call: 0, Return: 3, Label: "Recv() → 3|ok"},
		{G: 1, Call: 4, Return: 4, Label: "Close() → nil"},
	}
	var b strings.Builder
	require.NoError(t, a.WriteMarkdown(&b, sched.TraceOptions{History: h}))
	md := b.String()
	t.Log(md)
	assert.Contains(t, md, "▸ an operation of the history")
	rows := strings.Split(md, "\n")
	row := func(step string) string {
		for _, r := range rows {
			if strings.HasPrefix(r, "| "+step+" |") {
				return r
			}
		}
		t.Fatalf("no row for step %s in\n%s", step, md)
		return ""
	}
	assert.Contains(t, row("0"), "▸ `Recv() → 3\\|ok` (0–3)")
	assert.Contains(t, row("1–2"), "▸◂ `Send(3) → nil` (1–2)")
	assert.NotContains(t, row("1–2"), "Recv")
	assert.Contains(t, row("3"), "◂ `Recv() → 3\\|ok` (0–3)")
	assert.Contains(t, row("4"), "▸◂ `Close() → nil` (4–4)")

	b.Reset()
	require.NoError(t, a.WriteMarkdown(&b, sched.TraceOptions{}))
	assert.NotContains(t, b.String(), "▸")
}
