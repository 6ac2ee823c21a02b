package scenarios_test

import (
	"context"
	"testing"
	"time"

	"github.com/nimsync/nimsync/scenarios"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBudget: a run's budget comes from its scenario's expected operations
// at the run's scale, with a floor for small runs; a scenario that declares
// no size has none.
func TestBudget(t *testing.T) {
	assert.Zero(t, scenarios.Scenario{Name: "test"}.Budget(1))
	sc := scenarios.Scenario{Name: "test", Ops: 4_000_000}
	b := sc.Budget(0.1)
	assert.Equal(t, int64(400_000), b.Expected)
	assert.Equal(t, int64(3_200_000), b.Ops)
	assert.Equal(t, 5*time.Minute+200*time.Second, b.Time)
	assert.Equal(t, sc.Budget(1), sc.Budget(0), "scale 0 means 1")
	assert.Equal(t, int64(100_000), sc.Budget(0.001).Expected, "a floor for tiny runs")
}

// TestScenariosStayWithinTheirBudget: every scenario declares its size, and
// a run counts at most a quarter of its budget of operations, so that the
// soak never cuts a sound run as a runaway.
func TestScenariosStayWithinTheirBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	for _, s := range scenarios.All {
		require.Positive(t, s.Ops, "%s declares no size", s.Name)
		t.Run(s.Name, func(t *testing.T) {
			for _, seed := range []uint64{7, 42} {
				m := scenarios.NewMeter()
				require.NoError(t, s.Run(context.Background(), scenarios.Config{Seed: seed, Scale: 0.1, Meter: m}))
				b := s.Budget(0.1)
				t.Logf("seed %d: %d operations, %d expected, budget %d", seed, m.Ops(), b.Expected, b.Ops)
				assert.LessOrEqual(t, m.Ops(), b.Ops/4, "seed %d", seed)
			}
		})
	}
}
