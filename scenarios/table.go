package scenarios

import (
	"context"

	"github.com/nimsync/nimsync/core"
)

// The table is filled in by init rather than by All's initializer: mixed
// reads All, and a variable may not depend on itself.
//
// Each entry is name, summary, run, and Ops: the operations a run counts
// at scale 1, measured at scale 0.1 (seeds 7 and 42, with and without
// chaos) and rounded up, from which a run's Budget comes.
func init() {
	All = []Scenario{
		{"spsc-stream", "1M values, one sender and one receiver on SPSC, mixed ops: exactly once, FIFO", checked("spsc-stream", spscStream), 2_100_000},
		{"mpsc-fanin", "2M values from 2-8 senders into one receiver on MPSC: exactly once, per-sender FIFO", checked("mpsc-fanin", mpscFanin), 4_200_000},
		{"spmc-fanout", "2M values from one sender to 2-8 receivers on SPMC: exactly once, increasing per receiver", checked("spmc-fanout", spmcFanout), 4_200_000},
		{"mpmc-contention", "2M values on MPMC in shapes up to 32 senders x 32 receivers: exactly once, per-sender FIFO", checked("mpmc-contention", mpmcContention), 4_200_000},
		{"pipeline", "400K values through 3-5 stages of worker groups, mixed flavors, batches: each transformed exactly once", checked("pipeline", pipelineRun), 4_000_000},
		{"group-100k", "100K tasks in one Group by Go, GoRange and spawning tasks, with and without a limit: each ran and cleaned up once", checked("group-100k", group100K), 1_000_000},
		{"nested-groups", "deep and wide trees of groups and scopes cancelled from the root and the middle: cleanup once, bottom-up", checked("nested-groups", nestedGroups), 2_000},
		{"channels-10k", "10K channels of mixed flavors alive at once, served by a few goroutines: exactly once per channel", checked("channels-10k", channels10K), 2_500_000},
		{"channels-200", "200+ channels of mixed flavors and shapes under 1M values: exactly once, per-sender FIFO", checked("channels-200", channels200), 4_200_000},
		{"cancel-storm", "200K cancellations of scope trees with OnCancel hooks beside channel work: hooks once, subtrees cancelled", checked("cancel-storm", cancelStorm), 4_000_000},
		{"mixed", "3-6 scenarios drawn from the seed, each at a fifth of the scale", mixedRun, 2_500_000},
	}
}

// checked wraps a scenario's run with the leak check: after a run that
// found nothing else, no goroutine may be left parked on a channel and no
// task queued.
func checked(name string, run func(context.Context, Config) error) func(context.Context, Config) error {
	return func(ctx context.Context, cfg Config) error {
		base := core.ReadStats()
		if err := run(ctx, cfg); err != nil {
			return err
		}
		return noLeak(name, cfg.Sched, base)
	}
}
