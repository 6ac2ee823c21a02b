package scenarios

import (
	"context"
	"fmt"

	"github.com/nimsync/nimsync/core"
)

// mpscFanin streams about 2M values (at scale 1) from 2 to 8 senders, a
// number drawn per round, into one receiver on core's MPSC channel, in
// rounds of up to 128K values on a fresh channel of a seed-chosen capacity.
//
// Invariants: every value of every sender is received exactly once ("no
// loss", "no duplicate"), and each sender's values arrive in the order sent
// ("per-sender order").
func mpscFanin(ctx context.Context, cfg Config) error {
	e := newEnv(ctx, "mpsc-fanin", cfg)
	r := rng(cfg.Seed)
	return e.streamRounds(ctx, r, cfg.scaled(1<<21, 2000), 1<<17, func(i, n int) flow {
		senders, capacity := 2+r.IntN(7), drawCap(r)
		return flow{
			label: fmt.Sprintf("round %d (MPSC, %d senders, cap %d)", i, senders, capacity),
			c:     core.NewMPSC[item](capacity), senders: senders, receivers: 1, per: max(n/senders, 1),
		}
	})
}
