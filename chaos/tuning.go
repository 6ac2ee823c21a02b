package chaos

import (
	"math"
	"math/bits"
	"math/rand/v2"

	"github.com/nimsync/nimsync/core"
)

// newTuning draws core's tuning for seed, as CockroachDB's metamorphic
// constants are drawn: each knob of core.Knobs keeps its default with
// probability 1/2; otherwise it takes its minimum, its maximum (a quarter
// of the time each) or a value between them, log-uniform across wide
// ranges and a power of two where the knob needs one. So a seed drives
// paths the defaults rarely take (no busy round or yield: park at once;
// batches of one; workers that exit as soon as they park; GoRange chunks
// of one), and every knob appears in the plan, defaults too, so that the
// plan logs and replays the whole tuning. The draws come from a stream of
// their own: adding a knob changes no other part of a seed's plan.
func newTuning(seed uint64) map[string]int {
	rng := rand.New(rand.NewPCG(seed, 0x74756e696e67)) // "tuning"
	m := map[string]int{}
	for _, k := range core.Knobs() {
		v := k.Default
		if rng.IntN(2) == 1 {
			switch rng.IntN(4) {
			case 0:
				v = k.Min
			case 1:
				v = k.Max
			default:
				v = between(rng, k)
			}
		}
		m[k.Name] = v
	}
	return m
}

// between draws a value of k's range: a power of two if k needs one, else
// uniform across a narrow range and log-uniform across a wide one.
func between(rng *rand.Rand, k core.Knob) int {
	switch {
	case k.PowerOfTwo:
		lo, hi := bits.Len(uint(k.Min))-1, bits.Len(uint(k.Max))-1
		return 1 << (lo + rng.IntN(hi-lo+1))
	case k.Max-k.Min <= 16:
		return k.Min + rng.IntN(k.Max-k.Min+1)
	default:
		span := float64(k.Max - k.Min + 1)
		return min(k.Min+int(math.Exp(rng.Float64()*math.Log(span)))-1, k.Max)
	}
}
