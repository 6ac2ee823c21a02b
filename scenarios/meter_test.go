package scenarios_test

import (
	"sync"
	"testing"
	"time"

	"github.com/nimsync/nimsync/scenarios"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMeterCounts(t *testing.T) {
	m := scenarios.NewMeter()
	assert.Zero(t, m.Ops())
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 1000 {
				m.Add(3)
				m.Observe(time.Microsecond)
			}
		}()
	}
	wg.Wait()
	assert.EqualValues(t, 8*1000*3, m.Ops())
	h := m.TakeLatencies()
	assert.EqualValues(t, 8*1000, h.TotalCount())
}

func TestMeterLatencies(t *testing.T) {
	m := scenarios.NewMeter()
	for _, d := range []time.Duration{time.Microsecond, 2 * time.Microsecond, time.Millisecond} {
		m.Observe(d)
	}
	m.Observe(-5 * time.Second) // clamped to 1 ns
	m.Observe(time.Hour)        // clamped to 1 min
	h := m.TakeLatencies()
	require.EqualValues(t, 5, h.TotalCount())
	assert.EqualValues(t, 1, h.Min())
	assert.InEpsilon(t, float64(time.Minute), float64(h.Max()), 0.001)
	assert.InEpsilon(t, float64(2*time.Microsecond), float64(h.ValueAtQuantile(50)), 0.001)

	fresh := m.TakeLatencies()
	assert.Zero(t, fresh.TotalCount(), "TakeLatencies starts a new histogram")
	m.Observe(time.Second)
	assert.Zero(t, fresh.TotalCount(), "the taken histogram is the caller's")
	assert.EqualValues(t, 1, m.TakeLatencies().TotalCount())
}
