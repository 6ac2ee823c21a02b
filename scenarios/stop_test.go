package scenarios_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nimsync/nimsync/scenarios"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// maxOpsAfterEnd is how many operations a run may still count after its
// context ended (Scenario.Run's contract): what its goroutines had done
// but not yet flushed to the meter (up to 1K each), what the channels held
// (drained, for exactly-once), and the rest of each sender's current
// batch. A round of a stream scenario at full size is 128K-256K
// operations, so a run that polls ctx only between rounds overruns it by
// far (measured before the fix: 41K-104K for the stream scenarios, 55K-207K
// for pipeline, 1.6M for channels-200; after: at most 9K for the stream
// scenarios, 12K for channels-10k).
const maxOpsAfterEnd = 64 << 10

// opsAfterEnd is maxOpsAfterEnd for the scenarios whose in-flight values
// are more:
//   - channels-200 keeps 200-250 channels of up to 4096 values each, with
//     250-750 senders and receivers flushing their counts (measured after
//     the fix: 92K-134K; before it, 1.55M-1.67M);
//   - pipeline's 3 to 5 stages sit behind channels of up to 4096 values,
//     and each value counts once a hop (after: 52K-61K, 64K being too
//     close; before: 55K-207K, a round being about 300K).
var opsAfterEnd = map[string]int64{"channels-200": 256 << 10, "pipeline": 128 << 10}

// TestScenariosStopSoonAfterContextEnds: every scenario at full size,
// cancelled in the middle of a run (once it counted a tenth of its
// expected operations), returns ctx's error, or nil when it had finished,
// after at most maxOpsAfterEnd more operations. A scenario that checks ctx
// only between long rounds keeps a soak going long past its end under a
// slow fault plan (CI's soak overran by a minute on one round of
// spmc-fanout).
func TestScenariosStopSoonAfterContextEnds(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	for _, s := range scenarios.All {
		t.Run(s.Name, func(t *testing.T) {
			for _, seed := range []uint64{1, 2, 3, 4, 5} {
				m := scenarios.NewMeter()
				ctx, cancel := context.WithCancel(context.Background())
				at := s.Budget(1).Expected / 10
				var atCancel int64
				done := make(chan error, 1)
				go func() { done <- s.Run(ctx, scenarios.Config{Seed: seed, Scale: 1, Meter: m}) }()
				var err error
			wait:
				for {
					select {
					case err = <-done:
						break wait
					case <-time.After(100 * time.Microsecond):
						if atCancel == 0 {
							if m.Ops() >= at {
								cancel()
								// Counted after cancel returned: what a
								// descheduled test goroutine let the run do
								// before its cancel is not the run's.
								atCancel = m.Ops()
							}
						}
					}
				}
				cancel()
				require.NotZero(t, atCancel, "seed %d: the run ended before it counted %d operations", seed, at)
				after := m.Ops() - atCancel
				t.Logf("seed %d: cancelled at %d operations, %d after", seed, atCancel, after)
				if err != nil {
					require.True(t, errors.Is(err, context.Canceled), "seed %d: %v", seed, err)
				}
				bound, ok := opsAfterEnd[s.Name]
				if !ok {
					bound = maxOpsAfterEnd
				}
				assert.LessOrEqual(t, after, bound,
					fmt.Sprintf("seed %d: %d operations after the context ended (the run stops only between rounds?)", seed, after))
			}
		})
	}
}
