package scenarios_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nimsync/nimsync/core"
	"github.com/nimsync/nimsync/scenarios"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// run runs s once and requires it to pass, leaving the runtime's leak
// counters at zero (the scenario's own check polls for them).
func run(t *testing.T, s scenarios.Scenario, cfg scenarios.Config) {
	t.Helper()
	start := time.Now()
	err := s.Run(context.Background(), cfg)
	require.NoError(t, err, "seed %d, scale %g", cfg.Seed, cfg.Scale)
	st := core.ReadStats()
	assert.Zero(t, st.ParkedWaiters)
	assert.Zero(t, st.QueuedTasks)
	t.Logf("seed %d, scale %g: %v, %d ops", cfg.Seed, cfg.Scale, time.Since(start), cfg.Meter.Ops())
}

func TestScenariosPass(t *testing.T) {
	for _, s := range scenarios.All {
		t.Run(s.Name, func(t *testing.T) {
			for _, seed := range []uint64{1, 2, 0xdecafbad} {
				m := scenarios.NewMeter()
				run(t, s, scenarios.Config{Seed: seed, Scale: 0.01, Meter: m})
				assert.Positive(t, m.Ops(), "a scenario counts its operations")
			}
		})
	}
}

// TestScenariosLarger runs each scenario once at a tenth of its size.
func TestScenariosLarger(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	for _, s := range scenarios.All {
		t.Run(s.Name, func(t *testing.T) {
			m := scenarios.NewMeter()
			run(t, s, scenarios.Config{Seed: 42, Scale: 0.1, Meter: m})
			if s.Name != "group-100k" && s.Name != "nested-groups" && s.Name != "cancel-storm" {
				assert.Positive(t, m.TakeLatencies().TotalCount(), "a channel scenario samples latencies")
			}
		})
	}
}

func TestScenariosNilMeter(t *testing.T) {
	s, ok := scenarios.Lookup("spsc-stream")
	require.True(t, ok)
	require.NoError(t, s.Run(context.Background(), scenarios.Config{Seed: 3, Scale: 0.001}))
}

func TestScenariosHonourContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, s := range scenarios.All {
		err := s.Run(ctx, scenarios.Config{Seed: 1, Scale: 0.01})
		assert.ErrorIs(t, err, context.Canceled, s.Name)
	}
}

// stormer is a Config.Storm for tests: while a function is registered,
// three goroutines call it four times each, the first time at once and then
// after a short pause. Registering again, or nil, stops them and waits for
// them, as chaos.Run.Stop does.
type stormer struct {
	mu         sync.Mutex // guards stop and registered
	stop       chan struct{}
	registered int
	wg         sync.WaitGroup
	calls      atomic.Int64
}

func (s *stormer) storm(f func(seed uint64)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stop != nil {
		close(s.stop)
		s.wg.Wait()
		s.stop = nil
	}
	if f == nil {
		return
	}
	s.registered++
	stop := make(chan struct{})
	s.stop = stop
	for g := range 3 {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			for i := range 4 {
				if i > 0 {
					select {
					case <-stop:
						return
					case <-time.After(time.Duration(50*(g+1)*i) * time.Microsecond):
					}
				}
				f(uint64(g*4+i) * 0x9e3779b97f4a7c15)
				s.calls.Add(1)
			}
		}()
	}
}

// stormy lists the scenarios that offer a storm function.
var stormy = map[string]bool{"pipeline": true, "group-100k": true, "nested-groups": true, "cancel-storm": true}

func TestScenariosUnderStorm(t *testing.T) {
	scale := 0.05
	if testing.Short() {
		scale = 0.01
	}
	for _, s := range scenarios.All {
		t.Run(s.Name, func(t *testing.T) {
			for _, seed := range []uint64{1, 2} {
				st := &stormer{}
				run(t, s, scenarios.Config{Seed: seed, Scale: scale, Meter: scenarios.NewMeter(), Storm: st.storm})
				st.mu.Lock()
				assert.Nil(t, st.stop, "the scenario unregistered its storm before it returned")
				if stormy[s.Name] {
					assert.Positive(t, st.registered, "the scenario registers a storm function")
					assert.Positive(t, st.calls.Load())
				}
				t.Logf("%d registrations, %d storm calls", st.registered, st.calls.Load())
				st.mu.Unlock()
			}
		})
	}
}
