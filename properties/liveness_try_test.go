package properties_test

// Property 7, continued: TrySend never reports ErrFull on a channel with
// room, nor TryRecv ErrEmpty on one that holds a value, however the
// operations of other goroutines interleave with it. Senders and receivers
// pass tokens that bound what the channel can hold: a sender takes one of
// Cap room tokens before its TrySend and hands a value token on after it;
// a receiver takes a value token before its TryRecv and hands a room token
// back after it. So while a sender's TrySend runs, the others' values fill
// at most Cap-1 slots, and while a receiver's TryRecv runs, at least one
// value is buffered: every Try operation must succeed. (A sender preempted
// between its loads of two indices, which takes a stale tail and a fresh
// head for a full ring, fails this.)

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/nimsync/nimsync/core"
	"github.com/nimsync/nimsync/internal/chantest"
)

// tryCase is one generated run of Try traffic.
type tryCase struct {
	Flavor, Capacity, Senders, Receivers, Values int
}

func (tc tryCase) norm() tryCase {
	tc.Flavor = (tc.Flavor%len(chantest.Flavors) + len(chantest.Flavors)) % len(chantest.Flavors)
	f := chantest.Flavors[tc.Flavor]
	tc.Capacity = max(tc.Capacity, 1)
	tc.Senders = f.Senders(max(tc.Senders, 1))
	tc.Receivers = f.Receivers(max(tc.Receivers, 1))
	tc.Values = max(tc.Values, 1)
	return tc
}

func (tc tryCase) String() string {
	return fmt.Sprintf("%s cap %d, %d senders, %d receivers, %d values of Try traffic",
		chantest.Flavors[tc.Flavor].Type(), tc.Capacity, tc.Senders, tc.Receivers, tc.Values)
}

func genTryCase(flavor, planCap int) gopter.Gen {
	return gen.Struct(reflect.TypeOf(tryCase{}), map[string]gopter.Gen{
		"Flavor":    gen.Const(flavor),
		"Capacity":  gen.OneGenOf(gen.IntRange(1, 8), gen.Const(min(planCap, 64))),
		"Senders":   gen.IntRange(1, 4),
		"Receivers": gen.IntRange(1, 3),
		"Values":    gen.IntRange(1, 2000),
	}).Map(func(tc tryCase) tryCase { return tc.norm() })
}

// checkTryTraffic runs one tryCase, bounded by its size.
func checkTryTraffic(tc tryCase) error {
	tc = tc.norm()
	return bounded(episodeBound(tc.Values), func(ctx context.Context) error { return tryTraffic(ctx, tc) })
}

func tryTraffic(ctx context.Context, tc tryCase) error {
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	base := core.ReadStats().ParkedWaiters
	c := chantest.Flavors[tc.Flavor].New(tc.Capacity)
	room := make(chan struct{}, c.Cap())
	for range c.Cap() {
		room <- struct{}{}
	}
	values := make(chan struct{}, tc.Values)
	got := make([]atomic.Int32, tc.Values)
	var next, claimed atomic.Int64 // values handed to senders, receipts claimed by receivers
	var wg sync.WaitGroup
	for range tc.Senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				v := int(next.Add(1)) - 1
				if v >= tc.Values {
					return
				}
				select {
				case <-room:
				case <-ctx.Done():
					return
				}
				if err := c.TrySend(v); err != nil {
					stop(fmt.Errorf("TrySend → %v while the other goroutines' values filled at most %d of %d slots", err, c.Cap()-1, c.Cap()))
					return
				}
				values <- struct{}{}
			}
		}()
	}
	for range tc.Receivers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for claimed.Add(1) <= int64(tc.Values) {
				select {
				case <-values:
				case <-ctx.Done():
					return
				}
				v, err := c.TryRecv()
				if err != nil {
					stop(fmt.Errorf("TryRecv → %v while at least one value was buffered", err))
					return
				}
				if v < 0 || v >= tc.Values {
					stop(fmt.Errorf("TryRecv → %d, which nobody sent", v))
					return
				}
				if got[v].Add(1) > 1 {
					stop(fmt.Errorf("value %d received twice", v))
					return
				}
				room <- struct{}{}
			}
		}()
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return err
	}
	if n := c.Len(); n != 0 {
		return fmt.Errorf("Len() = %d once every value was received", n)
	}
	if err := c.Close(); err != nil {
		return fmt.Errorf("Close → %v", err)
	}
	if _, err := c.TryRecv(); !errors.Is(err, core.ErrClosed) {
		return fmt.Errorf("TryRecv on a closed, drained channel → %v", err)
	}
	for v := range got {
		if got[v].Load() != 1 {
			return fmt.Errorf("value %d received %d times", v, got[v].Load())
		}
	}
	if n := core.ReadStats().ParkedWaiters - base; n != 0 {
		return fmt.Errorf("ReadStats().ParkedWaiters is %d above its base after Try operations, which never park", n)
	}
	return nil
}
