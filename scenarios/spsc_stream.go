package scenarios

import (
	"context"
	"fmt"

	"github.com/nimsync/nimsync/core"
)

// spscStream streams about 1M values (at scale 1) from one sender to one
// receiver on core's SPSC channel, in rounds of up to 64K values on a
// fresh channel of a seed-chosen capacity, mixing Send, TrySend, SendBatch,
// Recv, TryRecv and RecvBatch.
//
// Invariants: every value is received exactly once ("no loss", "no
// duplicate"), and in the order sent ("per-sender order"): with one sender
// and one receiver that is the whole FIFO contract.
func spscStream(ctx context.Context, cfg Config) error {
	e := newEnv(ctx, "spsc-stream", cfg)
	r := rng(cfg.Seed)
	return e.streamRounds(ctx, r, cfg.scaled(1<<20, 2000), 1<<16, func(i, n int) flow {
		capacity := drawCap(r)
		return flow{
			label: fmt.Sprintf("round %d (SPSC, cap %d)", i, capacity),
			c:     core.NewSPSC[item](capacity), senders: 1, receivers: 1, per: n,
		}
	})
}
