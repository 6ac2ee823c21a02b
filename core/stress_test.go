package core_test

// Stress tests: many senders and receivers mixing every operation, checked
// for exactly-once delivery and per-sender order; Close racing with senders;
// and contexts cancelled while goroutines park. Each test draws its choices
// from a seed it logs; rerun one with NIMSYNC_SEED=<seed>.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nimsync/nimsync/core"
	"github.com/nimsync/nimsync/internal/chantest"
)

// encode packs a sender id and its sequence number into one value.
func encode(sender, seq int) int     { return sender<<32 | seq }
func decode(v int) (sender, seq int) { return v >> 32, v & (1<<32 - 1) }

// sendAll sends n values of sender id, choosing Send, TrySend (retried) or
// SendBatch at random. It returns how many were sent before an error.
func sendAll(ctx context.Context, c core.Chan[int], rng *rand.Rand, id, n int) (int, error) {
	buf := make([]int, 0, 16)
	seq := 0
	for seq < n {
		switch rng.IntN(3) {
		case 0:
			if err := c.Send(ctx, encode(id, seq)); err != nil {
				return seq, err
			}
			seq++
		case 1:
			err := c.TrySend(encode(id, seq))
			switch {
			case err == nil:
				seq++
			case errors.Is(err, core.ErrFull):
				// retry with another operation
			default:
				return seq, err
			}
		case 2:
			buf = buf[:0]
			for j := 0; j < 1+rng.IntN(16) && seq+j < n; j++ {
				buf = append(buf, encode(id, seq+j))
			}
			k, err := c.SendBatch(ctx, buf)
			seq += k
			if err != nil {
				return seq, err
			}
		}
	}
	return seq, nil
}

// recvAll receives until ErrClosed, choosing Recv, TryRecv or RecvBatch at
// random, and passes every value to got in the order received.
func recvAll(ctx context.Context, c core.Chan[int], rng *rand.Rand, got func(int)) error {
	dst := make([]int, 16)
	for {
		switch rng.IntN(3) {
		case 0:
			v, err := c.Recv(ctx)
			if err != nil {
				return err
			}
			got(v)
		case 1:
			v, err := c.TryRecv()
			switch {
			case err == nil:
				got(v)
			case errors.Is(err, core.ErrEmpty):
			default:
				return err
			}
		case 2:
			k, err := c.RecvBatch(ctx, dst[:1+rng.IntN(len(dst))])
			if err != nil {
				return err
			}
			for _, v := range dst[:k] {
				got(v)
			}
		}
	}
}

// ledger checks exactly-once delivery and per-sender order across
// receivers. Each receiver owns its last-seen table; seen is shared.
type ledger struct {
	seen [][]atomic.Bool // [sender][seq]
	dups atomic.Int64
}

func newLedger(senders, n int) *ledger {
	l := &ledger{seen: make([][]atomic.Bool, senders)}
	for i := range l.seen {
		l.seen[i] = make([]atomic.Bool, n)
	}
	return l
}

// receiver returns the callback of one receiver: it records each value and
// fails if a sender's values arrive out of order at this receiver.
func (l *ledger) receiver(t *testing.T, order *error) func(int) {
	last := make([]int, len(l.seen))
	for i := range last {
		last[i] = -1
	}
	return func(v int) {
		s, q := decode(v)
		if s >= len(l.seen) || q >= len(l.seen[s]) {
			*order = fmt.Errorf("value %#x was never sent", v)
			return
		}
		if l.seen[s][q].Swap(true) {
			l.dups.Add(1)
		}
		if q <= last[s] && *order == nil {
			*order = fmt.Errorf("sender %d: seq %d arrived after %d", s, q, last[s])
		}
		last[s] = q
	}
}

func TestStressExactlyOnce(t *testing.T) {
	seed := stressSeed(t)
	for _, f := range chantest.Flavors {
		for _, capacity := range []int{1, 2, 64} {
			t.Run(fmt.Sprintf("flavor=%s/cap=%d", f, capacity), func(t *testing.T) {
				senders, receivers := f.Senders(4), f.Receivers(4)
				n := scaled(20000)
				c := f.New(capacity)
				l := newLedger(senders, n)
				ctx := context.Background()
				var wgS, wgR sync.WaitGroup
				orderErrs := make([]error, receivers)
				for r := range receivers {
					wgR.Add(1)
					go func() {
						defer wgR.Done()
						rng := rand.New(rand.NewPCG(seed, uint64(1000+r)))
						err := recvAll(ctx, c, rng, l.receiver(t, &orderErrs[r]))
						if !errors.Is(err, core.ErrClosed) {
							orderErrs[r] = fmt.Errorf("receiver %d ended with %v", r, err)
						}
					}()
				}
				sendErrs := make([]error, senders)
				for s := range senders {
					wgS.Add(1)
					go func() {
						defer wgS.Done()
						rng := rand.New(rand.NewPCG(seed, uint64(s)))
						_, sendErrs[s] = sendAll(ctx, c, rng, s, n)
					}()
				}
				wgS.Wait()
				require.NoError(t, c.Close())
				wgR.Wait()
				for _, err := range sendErrs {
					require.NoError(t, err)
				}
				for _, err := range orderErrs {
					require.NoError(t, err)
				}
				require.Zero(t, l.dups.Load(), "duplicated values")
				for s := range l.seen {
					for q := range l.seen[s] {
						if !l.seen[s][q].Load() {
							t.Fatalf("sender %d seq %d was sent but never received", s, q)
						}
					}
				}
				ps, pr := core.Parked[int](c)
				require.Zero(t, ps+pr, "goroutines left parked")
			})
		}
	}
}

// TestStressCloseRace closes the channel while senders are mid-stream: every
// value whose send returned nil is delivered exactly once, and no value
// whose send failed is.
func TestStressCloseRace(t *testing.T) {
	seed := stressSeed(t)
	rounds := scaled(200)
	for _, f := range chantest.Flavors {
		t.Run("flavor="+f.String(), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 7))
			for round := range rounds {
				senders, receivers := f.Senders(3), f.Receivers(3)
				n := 2000
				c := f.New(1 << rng.IntN(6))
				l := newLedger(senders, n)
				ctx := context.Background()
				sent := make([]int, senders)
				errs := make([]error, senders)
				orderErrs := make([]error, receivers)
				var wgS, wgR sync.WaitGroup
				for r := range receivers {
					wgR.Add(1)
					go func() {
						defer wgR.Done()
						rr := rand.New(rand.NewPCG(seed, uint64(round*100+50+r)))
						err := recvAll(ctx, c, rr, l.receiver(t, &orderErrs[r]))
						if !errors.Is(err, core.ErrClosed) {
							orderErrs[r] = fmt.Errorf("receiver %d ended with %v", r, err)
						}
					}()
				}
				for s := range senders {
					wgS.Add(1)
					go func() {
						defer wgS.Done()
						rs := rand.New(rand.NewPCG(seed, uint64(round*100+s)))
						sent[s], errs[s] = sendAll(ctx, c, rs, s, n)
					}()
				}
				// Close after a seeded number of yields, mid-stream.
				for range rng.IntN(200) {
					runtime.Gosched()
				}
				require.NoError(t, c.Close())
				wgS.Wait()
				wgR.Wait()
				for s := range senders {
					if sent[s] < n {
						require.ErrorIs(t, errs[s], core.ErrClosed, "sender %d", s)
					}
					for q := range n {
						require.Equal(t, q < sent[s], l.seen[s][q].Load(),
							"round %d sender %d seq %d (sent %d)", round, s, q, sent[s])
					}
				}
				for _, err := range orderErrs {
					require.NoError(t, err)
				}
				require.Zero(t, l.dups.Load())
			}
		})
	}
}

// TestStressCancelStorm parks receivers (and senders) with contexts that are
// cancelled at random while traffic flows. A cancelled receiver retries with
// a fresh context, so every value must still arrive: a lost wakeup shows as
// a value stuck in the channel with a receiver parked, and the test times out.
func TestStressCancelStorm(t *testing.T) {
	seed := stressSeed(t)
	for _, f := range chantest.Flavors {
		t.Run("flavor="+f.String(), func(t *testing.T) {
			senders, receivers := f.Senders(4), f.Receivers(4)
			n := scaled(5000)
			c := f.New(2)
			l := newLedger(senders, n)
			var cancels sync.Map // goroutine id -> context.CancelFunc
			stop := make(chan struct{})
			var cancelled atomic.Int64
			var wgStorm sync.WaitGroup
			wgStorm.Add(1)
			go func() { // the storm: cancel whoever is waiting, at random
				defer wgStorm.Done()
				rng := rand.New(rand.NewPCG(seed, 99))
				for {
					select {
					case <-stop:
						return
					default:
					}
					id := rng.IntN(senders + receivers)
					if cf, ok := cancels.Load(id); ok {
						cf.(context.CancelFunc)()
						cancelled.Add(1)
					}
					runtime.Gosched()
				}
			}()
			withCtx := func(id int) (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(context.Background())
				cancels.Store(id, cancel)
				return ctx, cancel
			}
			var wgS, wgR sync.WaitGroup
			orderErrs := make([]error, receivers)
			for r := range receivers {
				wgR.Add(1)
				go func() {
					defer wgR.Done()
					got := l.receiver(t, &orderErrs[r])
					for {
						ctx, cancel := withCtx(senders + r)
						v, err := c.Recv(ctx)
						cancel()
						if errors.Is(err, context.Canceled) {
							continue
						}
						if err != nil {
							if !errors.Is(err, core.ErrClosed) {
								orderErrs[r] = err
							}
							return
						}
						got(v)
					}
				}()
			}
			for s := range senders {
				wgS.Add(1)
				go func() {
					defer wgS.Done()
					for q := 0; q < n; {
						ctx, cancel := withCtx(s)
						err := c.Send(ctx, encode(s, q))
						cancel()
						if err == nil {
							q++
						}
					}
				}()
			}
			wgS.Wait()
			require.NoError(t, c.Close())
			wgR.Wait()
			close(stop)
			wgStorm.Wait()
			for _, err := range orderErrs {
				require.NoError(t, err)
			}
			require.Zero(t, l.dups.Load())
			for s := range l.seen {
				for q := range l.seen[s] {
					require.True(t, l.seen[s][q].Load(), "sender %d seq %d lost", s, q)
				}
			}
			t.Logf("%d cancellations during the run", cancelled.Load())
			ps, pr := core.Parked[int](c)
			require.Zero(t, ps+pr)
		})
	}
}

// TestStressTrySendBelowCapacity: each sender keeps at most one value in
// flight, so a channel of capacity 64 never holds more than 8 values and
// TrySend must never report ErrFull. A TrySend that compares a fresh head
// with a stale tail (head already past it) would, now and then.
func TestStressTrySendBelowCapacity(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(16)) // more preemption points
	const senders = 8
	for _, f := range chantest.Flavors {
		if !f.MultiSend() {
			continue
		}
		t.Run("flavor="+f.String(), func(t *testing.T) {
			c := f.New(64)
			ctx := context.Background()
			var consumed [senders]atomic.Int64
			var wg sync.WaitGroup
			wg.Add(1)
			go func() { // the receiver: acknowledges each value to its sender
				defer wg.Done()
				for {
					v, err := c.Recv(ctx)
					if err != nil {
						return
					}
					s, _ := decode(v)
					consumed[s].Add(1)
				}
			}()
			n := scaled(20_000)
			var full atomic.Int64
			var ws sync.WaitGroup
			for s := range senders {
				ws.Add(1)
				go func() {
					defer ws.Done()
					for q := range n {
						if err := c.TrySend(encode(s, q)); err != nil {
							full.Add(1)
							assert.NoError(t, c.Send(ctx, encode(s, q)))
						}
						for consumed[s].Load() <= int64(q) {
							runtime.Gosched()
						}
					}
				}()
			}
			ws.Wait()
			require.NoError(t, c.Close())
			wg.Wait()
			require.Zero(t, full.Load(), "TrySend reported a full channel that held at most %d of 64 values", senders)
		})
	}
}
