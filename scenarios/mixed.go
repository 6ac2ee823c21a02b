package scenarios

import (
	"context"
	"errors"
	"fmt"
)

// mixedRun runs 3 to 6 scenarios of the table (mixed aside), drawn from
// the seed with repetition, one after the other, each at a fifth of the
// run's scale with a seed drawn from the run's, sharing its meter and
// storm. Each pick checks its own invariants and leaks; a violation is
// returned with the pick's name and seed prefixed so that it can be rerun
// alone. ctx is checked between picks.
func mixedRun(ctx context.Context, cfg Config) error {
	r := rng(cfg.Seed)
	var pool []Scenario
	for _, s := range All {
		if s.Name != "mixed" {
			pool = append(pool, s)
		}
	}
	scale := cfg.Scale
	if scale <= 0 {
		scale = 1
	}
	if cfg.Meter == nil {
		cfg.Meter = NewMeter()
	}
	picks := 3 + r.IntN(4)
	for i := range picks {
		if err := ctx.Err(); err != nil {
			return err
		}
		s := pool[r.IntN(len(pool))]
		sub := Config{Seed: r.Uint64(), Scale: scale / 5, Meter: cfg.Meter, Storm: cfg.Storm, Fail: cfg.Fail, Sched: cfg.Sched}
		err := s.Run(ctx, sub)
		var v *Violation
		if errors.As(err, &v) {
			return &Violation{
				Scenario:  fmt.Sprintf("mixed/%s", v.Scenario),
				Invariant: v.Invariant,
				Detail:    fmt.Sprintf("pick %d of %d, seed %#x, scale %g: %s", i+1, picks, sub.Seed, sub.Scale, v.Detail),
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}
