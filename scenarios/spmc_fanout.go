package scenarios

import (
	"context"
	"fmt"

	"github.com/nimsync/nimsync/core"
)

// spmcFanout streams about 2M values (at scale 1) from one sender to 2 to 8
// receivers, a number drawn per round, on core's SPMC channel, in rounds of
// up to 128K values on a fresh channel of a seed-chosen capacity.
//
// Invariants: every value is received exactly once, by one of the
// receivers ("no loss", "no duplicate"), and each receiver sees increasing
// values ("per-sender order").
func spmcFanout(ctx context.Context, cfg Config) error {
	e := newEnv(ctx, "spmc-fanout", cfg)
	r := rng(cfg.Seed)
	return e.streamRounds(ctx, r, cfg.scaled(1<<21, 2000), 1<<17, func(i, n int) flow {
		receivers, capacity := 2+r.IntN(7), drawCap(r)
		return flow{
			label: fmt.Sprintf("round %d (SPMC, %d receivers, cap %d)", i, receivers, capacity),
			c:     core.NewSPMC[item](capacity), senders: 1, receivers: receivers, per: n,
		}
	})
}
