package scenarios

import "context"

// The table is filled in by init rather than by All's initializer: mixed
// reads All, and a variable may not depend on itself.
func init() {
	All = []Scenario{
		{"spsc-stream", "1M values, one sender and one receiver on SPSC, mixed ops: exactly once, FIFO", checked("spsc-stream", spscStream)},
		{"mpsc-fanin", "2M values from 2-8 senders into one receiver on MPSC: exactly once, per-sender FIFO", checked("mpsc-fanin", mpscFanin)},
		{"spmc-fanout", "2M values from one sender to 2-8 receivers on SPMC: exactly once, increasing per receiver", checked("spmc-fanout", spmcFanout)},
		{"mpmc-contention", "2M values on MPMC in shapes up to 32 senders x 32 receivers: exactly once, per-sender FIFO", checked("mpmc-contention", mpmcContention)},
		{"pipeline", "400K values through 3-5 stages of worker groups, mixed flavors, batches: each transformed exactly once", checked("pipeline", pipelineRun)},
		{"group-100k", "100K tasks in one Group by Go, GoRange and spawning tasks, with and without a limit: each ran and cleaned up once", checked("group-100k", group100K)},
		{"nested-groups", "deep and wide trees of groups and scopes cancelled from the root and the middle: cleanup once, bottom-up", checked("nested-groups", nestedGroups)},
		{"channels-10k", "10K channels of mixed flavors alive at once, served by a few goroutines: exactly once per channel", checked("channels-10k", channels10K)},
		{"channels-200", "200+ channels of mixed flavors and shapes under 1M values: exactly once, per-sender FIFO", checked("channels-200", channels200)},
		{"cancel-storm", "200K cancellations of scope trees with OnCancel hooks beside channel work: hooks once, subtrees cancelled", checked("cancel-storm", cancelStorm)},
		{"mixed", "3-6 scenarios drawn from the seed, each at a fifth of the scale", mixedRun},
	}
}

// checked wraps a scenario's run with the leak check: after a run that
// found nothing else, no goroutine may be left parked on a channel and no
// task queued.
func checked(name string, run func(context.Context, Config) error) func(context.Context, Config) error {
	return func(ctx context.Context, cfg Config) error {
		if err := run(ctx, cfg); err != nil {
			return err
		}
		return noLeak(name)
	}
}
