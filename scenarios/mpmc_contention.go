package scenarios

import (
	"context"
	"fmt"

	"github.com/nimsync/nimsync/core"
)

// contentionShapes are the (senders, receivers) shapes of mpmc-contention.
// 32/32 oversubscribes any machine this runs on; 1/8 and 8/1 pile one side
// onto a single index.
var contentionShapes = [...][2]int{{2, 2}, {4, 4}, {8, 1}, {1, 8}, {8, 8}, {32, 32}}

// mpmcContention streams about 2M values (at scale 1) through core's MPMC
// channel in rounds of up to 128K values, each round with a fresh channel of
// a seed-chosen capacity and one of contentionShapes, taken in a
// seed-shuffled order so that a run of six rounds or more meets every shape,
// the oversubscribed 32 senders and 32 receivers included.
//
// Invariants: every value of every sender is received exactly once ("no
// loss", "no duplicate"), and each receiver sees each sender's values in
// the order sent ("per-sender order").
func mpmcContention(ctx context.Context, cfg Config) error {
	e := newEnv(ctx, "mpmc-contention", cfg)
	r := rng(cfg.Seed)
	order := r.Perm(len(contentionShapes))
	return e.streamRounds(ctx, r, cfg.scaled(1<<21, 2000), 1<<17, func(i, n int) flow {
		shape, capacity := contentionShapes[order[i%len(order)]], drawCap(r)
		return flow{
			label: fmt.Sprintf("round %d (MPMC, %d senders, %d receivers, cap %d)", i, shape[0], shape[1], capacity),
			c:     core.NewMPMC[item](capacity), senders: shape[0], receivers: shape[1], per: max(n/shape[0], 1),
		}
	})
}
