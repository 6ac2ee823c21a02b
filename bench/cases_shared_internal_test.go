package bench

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sharedCounter counts the measurements (testing.Benchmark calls) and the
// calls of a shared benchmark.
type sharedCounter struct {
	mu           sync.Mutex
	bs           map[*testing.B]bool
	calls, value int
}

func (s *sharedCounter) run(b *testing.B, r reporter) {
	s.mu.Lock()
	if !s.bs[b] {
		s.bs[b] = true
		s.value++
	}
	s.calls++
	v := float64(s.value)
	s.mu.Unlock()
	r("a", v)
	r("b", 10*v)
}

func (s *sharedCounter) measurements() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.bs)
}

func TestSharedRunIsMeasuredOncePerRound(t *testing.T) {
	s := &sharedCounter{bs: map[*testing.B]bool{}}
	key := t.Name()
	cases := []Case{
		{Name: "A", Metric: "a", Impls: []Contender{sharedImpl("nimsync", key, "a", s.run)}},
		{Name: "B", Metric: "b", Impls: []Contender{sharedImpl("nimsync", key, "b", s.run)}},
	}
	rep, err := Run(context.Background(), cases, Options{Rounds: 3, BenchTime: time.Millisecond, WarmUp: -1, LineRTT: func() float64 { return 100 }})
	require.NoError(t, err)
	assert.Equal(t, 3, s.measurements(), "one measurement per round for both cases")
	assert.Equal(t, []float64{1, 2, 3}, rep.Rows[0].Impls[0].Samples)
	assert.Equal(t, []float64{10, 20, 30}, rep.Rows[1].Impls[0].Samples, "B reads A's measurement of the round")

	// B alone measures every round.
	_, err = Run(context.Background(), cases[1:], Options{Rounds: 2, BenchTime: time.Millisecond, WarmUp: -1, LineRTT: func() float64 { return 100 }})
	require.NoError(t, err)
	assert.Equal(t, 5, s.measurements())
}

func TestSharedRunOnce(t *testing.T) {
	s := &sharedCounter{bs: map[*testing.B]bool{}}
	cases := []Case{{Name: "A", Metric: "a", Impls: []Contender{sharedImplOnce("nimsync", t.Name(), "a", true, s.run)}}}
	rep, err := Run(context.Background(), cases, Options{Rounds: 2, BenchTime: time.Millisecond, WarmUp: -1, LineRTT: func() float64 { return 100 }})
	require.NoError(t, err)
	assert.Equal(t, 2, s.measurements())
	assert.Equal(t, 2, s.calls, "one call per testing.Benchmark")
	assert.Equal(t, []float64{1, 2}, rep.Rows[0].Impls[0].Samples)
}

func TestSharedRunFailed(t *testing.T) {
	calls := 0
	run := func(b *testing.B, r reporter) {
		calls++
		r("a", 1)
		r("b", 1)
		if calls == 1 {
			failf(b, "first run fails")
		}
	}
	a := Case{Name: "A", Metric: "a", Impls: []Contender{sharedImpl("nimsync", t.Name(), "a", run)}}
	b := Case{Name: "B", Metric: "b", Impls: []Contender{sharedImpl("nimsync", t.Name(), "b", run)}}
	_, err := Run(context.Background(), []Case{a}, Options{Rounds: 1, BenchTime: time.Millisecond, WarmUp: -1, LineRTT: func() float64 { return 100 }})
	require.ErrorContains(t, err, "A/impl=nimsync: first run fails")
	_, err = Run(context.Background(), []Case{b}, Options{Rounds: 1, BenchTime: time.Millisecond, WarmUp: -1, LineRTT: func() float64 { return 100 }})
	require.NoError(t, err)
	assert.Greater(t, calls, 1, "B measured anew rather than read a failed run")
}
