//go:build chaos

package properties_test

// The self-test's episodes of the liveness property (selftest_test.go).

import (
	"fmt"
	"math/rand"

	"github.com/leanovate/gopter"

	"github.com/nimsync/nimsync/internal/chantest"
)

// livenessEpisode checks n scenarios generated from seed, on each flavor in
// turn, after shape (if any) pinned the dimensions a planted bug needs.
func livenessEpisode(n int, shape func(*liveCase)) episode {
	return episode{"TestChanLiveness", func(seed uint64) (bool, string) {
		p := gopter.DefaultGenParameters()
		p.Rng = rand.New(rand.NewSource(int64(seed >> 1)))
		for i := range n {
			v, ok := genLiveCase(i%len(chantest.Flavors), 4)(p).Retrieve()
			if !ok {
				continue
			}
			lc := v.(liveCase)
			if shape != nil {
				shape(&lc)
			}
			if err := checkLiveCase(lc); err != nil {
				return true, fmt.Sprintf("%v: %v", lc.norm(), err)
			}
		}
		return false, ""
	}}
}

// tryTrafficEpisode checks Try traffic on flavor f: senders and receivers
// (as many as f allows), a seed-chosen capacity of 2 to 8 and 2000 values.
func tryTrafficEpisode(f chantest.Flavor, senders, receivers int) episode {
	return episode{"TestChanLiveness", func(seed uint64) (bool, string) {
		r := rand.New(rand.NewSource(int64(seed >> 1)))
		tc := tryCase{Flavor: int(f), Capacity: 2 + r.Intn(7), Senders: senders, Receivers: receivers, Values: 2000}.norm()
		if err := checkTryTraffic(tc); err != nil {
			return true, fmt.Sprintf("%v: %v", tc, err)
		}
		return false, ""
	}}
}

// Shapes of liveness scenarios, for the planted bugs that need one.
var (
	// Close while the waiters still spin.
	closeWhileSpinning = func(lc *liveCase) { lc.Event, lc.Parked = evClose, false }
	// Receivers parked, cancelled in the same step as a batch arrives.
	cancelAsValuesArrive = func(lc *liveCase) { lc.Event, lc.Parked, lc.Senders = evCancelBatch, true, false }
	// Several parked waiters, then a batch for more than one of them.
	batchForSeveral = func(lc *liveCase) { lc.Event, lc.Parked, lc.Waiters, lc.Size = evBatch, true, 4, 2 }
	// Parked waiters, some of them cancelled.
	cancelParked = func(lc *liveCase) { lc.Event, lc.Parked = evCancel, true }
)
