package properties_test

// Property 2: exactly-once delivery and per-sender order, checked in O(n)
// for long runs: every value sent is received exactly once, and each
// receiver sees any one sender's values in the order sent. Property 6,
// scale: the same over 10K channels alive at once, and a 100K-task group
// whose every task runs exactly once.

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"
	"github.com/nimsync/nimsync/core"
	"github.com/nimsync/nimsync/internal/chantest"
	"github.com/stretchr/testify/require"
)

// stream is a generated run: how many values each sender sends and the
// batch sizes senders and receivers use (1: single operations).
type stream struct {
	Flavor, Values, SendBatch, RecvBatch int
}

func genStream(maxValues int) gopter.Gen {
	return gopter.CombineGens(gen.IntRange(0, len(chantest.Flavors)-1), gen.IntRange(1, maxValues), gen.IntRange(1, 64), gen.IntRange(1, 64)).
		Map(func(v []any) stream { return stream{v[0].(int), v[1].(int), v[2].(int), v[3].(int)} })
}

// deliver runs senders and receivers on c and checks exactly-once and
// per-sender order. Values are sender<<32 | seq. Each value is checked the
// moment it is received: a value nobody sent, one received before, or one
// out of its sender's order ends the delivery at once with that violation
// (a receive that handed out values for ever after Close once kept this
// property receiving until it was killed from outside). What is never
// received is checked at the end. The whole delivery is bounded by
// episodeBound of its values (bounded).
func deliver(c core.Chan[int], senders, receivers, values, sendBatch, recvBatch int) error {
	return bounded(episodeBound(senders*values), func(ctx context.Context) error {
		return deliverWithin(ctx, c, senders, receivers, values, sendBatch, recvBatch)
	})
}

// deliverWithin is deliver's episode. Its first violation cancels ctx with
// the violation as the cause, which ends every sender and receiver: they
// run their operations under ctx, and receivers poll it between batches.
func deliverWithin(ctx context.Context, c core.Chan[int], senders, receivers, values, sendBatch, recvBatch int) error {
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	// The process's count of linked waiters before the episode: a planted
	// bug's episode that was ended where it stood (a serialized one the
	// scheduler killed) leaves its waiters linked for good, and this
	// episode must count only its own.
	parkedBase := core.ReadStats().ParkedWaiters
	// seen has one bit per value, set by the receiver that got it with an
	// atomic Or that returns the old word: of two receivers that got the
	// same value, exactly one sees the bit already set.
	words := (values + 63) / 64
	seen := make([]atomic.Uint64, senders*words)
	var sendWG, recvWG sync.WaitGroup
	for s := range senders {
		sendWG.Add(1)
		go func() {
			defer sendWG.Done()
			buf := make([]int, 0, sendBatch)
			for seq := 0; seq < values; {
				buf = buf[:0]
				for ; len(buf) < sendBatch && seq < values; seq++ {
					buf = append(buf, s<<32|seq)
				}
				var err error
				if len(buf) == 1 {
					err = c.Send(ctx, buf[0])
				} else {
					_, err = c.SendBatch(ctx, buf)
				}
				if err != nil {
					stop(fmt.Errorf("sender %d: %w", s, err)) // a no-op if ctx ended first
					return
				}
			}
		}()
	}
	for r := range receivers {
		recvWG.Add(1)
		go func() {
			defer recvWG.Done()
			dst := make([]int, recvBatch)
			last := make([]int, senders) // per sender: the last seq this receiver got
			for s := range last {
				last[s] = -1
			}
			for ctx.Err() == nil {
				n, err := c.RecvBatch(ctx, dst)
				if errors.Is(err, core.ErrClosed) {
					return
				}
				if err != nil {
					stop(fmt.Errorf("receiver %d: %w", r, err))
					return
				}
				for _, v := range dst[:n] {
					s, seq := v>>32, v&(1<<32-1)
					if s < 0 || s >= senders || seq >= values {
						stop(fmt.Errorf("receiver %d got %#x, which nobody sent", r, v))
						return
					}
					bit := uint64(1) << (seq % 64)
					if seen[s*words+seq/64].Or(bit)&bit != 0 {
						stop(fmt.Errorf("value %d of sender %d received twice", seq, s))
						return
					}
					if seq <= last[s] {
						stop(fmt.Errorf("receiver %d got value %d of sender %d after value %d", r, seq, s, last[s]))
						return
					}
					last[s] = seq
				}
			}
		}()
	}
	sendWG.Wait()
	c.Close()
	recvWG.Wait()
	if err := context.Cause(ctx); err != nil {
		return err // the first violation, or the bound's errOverrun
	}
	for s := range senders {
		for seq := range values {
			if seen[s*words+seq/64].Load()&(1<<(seq%64)) == 0 {
				return fmt.Errorf("value %d of sender %d was lost", seq, s)
			}
		}
	}
	// Leak-freedom, from the runtime's own counter: every operation has
	// returned, so no waiter of the episode may be left linked in a wait
	// queue.
	if n := core.ReadStats().ParkedWaiters - parkedBase; n != 0 {
		return fmt.Errorf("%d waiters still linked in wait queues after every operation returned", n)
	}
	return nil
}

func TestExactlyOnceAndOrder(t *testing.T) {
	s := seed(t)
	plan := startPlan(t, s)
	capacity := plan.Const("capacity", 64)
	runs := 20
	if testing.Short() {
		runs = 5
	}
	deadline := time.Now().Add(budget(t))
	for i := uint64(0); i == 0 || time.Now().Before(deadline); i++ {
		checkProps(t, s+i, runs, func(ps *gopter.Properties) {
			ps.Property(fmt.Sprintf("exactly once and in order, cap %d", capacity), prop.ForAll(func(st stream) *gopter.PropResult {
				f := chantest.Flavors[st.Flavor]
				senders, receivers := f.Senders(plan.Const("senders", 2)), f.Receivers(plan.Const("receivers", 2))
				if err := deliver(f.New(capacity), senders, receivers, st.Values, st.SendBatch, st.RecvBatch); err != nil {
					t.Logf("%s, %d senders, %d receivers, %+v: %v", f.Type(), senders, receivers, st, err)
					return gopter.NewPropResult(false, err.Error())
				}
				return gopter.NewPropResult(true, "")
			}, genStream(20000)))
		})
	}
}

// TestScale10KChannels: 10K channels alive at once, each with a sender task
// and a receiver task in one group, every value delivered exactly once.
func TestScale10KChannels(t *testing.T) {
	s := seed(t)
	plan := startPlan(t, s)
	const channels, values = 10_000, 8
	capacity := plan.Const("capacity", 4)
	g := core.NewGroup(context.Background())
	var received atomic.Int64
	for i := range channels {
		c := chantest.Flavors[i%len(chantest.Flavors)].New(capacity)
		g.Go(func(ctx context.Context) error {
			for v := range values {
				if err := c.Send(ctx, i*values+v); err != nil {
					return err
				}
			}
			return c.Close()
		})
		g.Go(func(ctx context.Context) error {
			next := 0
			for {
				v, err := c.Recv(ctx)
				if errors.Is(err, core.ErrClosed) {
					break
				}
				if err != nil {
					return err
				}
				if v != i*values+next {
					return fmt.Errorf("channel %d: got %d, want %d", i, v, i*values+next)
				}
				next++
				received.Add(1)
			}
			if next != values {
				return fmt.Errorf("channel %d: %d values of %d", i, next, values)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	if received.Load() != channels*values {
		t.Fatalf("received %d values, want %d", received.Load(), channels*values)
	}
}

// TestScale100KTaskGroup: a group of 100K tasks (some of which spawn more),
// each of which runs, and cleans up, exactly once, all before Wait returns.
func TestScale100KTaskGroup(t *testing.T) {
	s := seed(t)
	startPlan(t, s)
	const n = 100_000
	runs := make([]atomic.Int32, n)
	cleanups := make([]atomic.Int32, n)
	base := core.ReadStats()
	g := core.NewGroup(context.Background())
	for i := 0; i < n; i += 2 {
		g.Go(func(context.Context) error {
			defer cleanups[i].Add(1)
			runs[i].Add(1)
			g.Go(func(context.Context) error { // a task spawning a sibling
				defer cleanups[i+1].Add(1)
				runs[i+1].Add(1)
				return nil
			})
			return nil
		})
	}
	require.NoError(t, g.Wait())
	require.NoError(t, settle(base), "every task is counted finished after Wait")
	for i := range n {
		if r, c := runs[i].Load(), cleanups[i].Load(); r != 1 || c != 1 {
			require.Failf(t, "exactly once", "task %d ran %d times and cleaned up %d times", i, r, c)
		}
	}
}
