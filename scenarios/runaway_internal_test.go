package scenarios

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/nimsync/nimsync/core"
	"github.com/stretchr/testify/require"
)

// runaway is a channel with the bug that once made a soak run for ever:
// after Close, its receives hand out values (here, the first value sent,
// again and again) instead of ErrClosed.
type runaway struct{ core.Chan[item] }

func (c runaway) again(err error) bool { return errors.Is(err, core.ErrClosed) }

func (c runaway) Recv(ctx context.Context) (item, error) {
	v, err := c.Chan.Recv(ctx)
	if c.again(err) {
		return item{}, nil
	}
	return v, err
}

func (c runaway) TryRecv() (item, error) {
	v, err := c.Chan.TryRecv()
	if c.again(err) {
		return item{}, nil
	}
	return v, err
}

func (c runaway) RecvBatch(ctx context.Context, dst []item) (int, error) {
	n, err := c.Chan.RecvBatch(ctx, dst)
	if c.again(err) {
		clear(dst)
		return len(dst), nil
	}
	return n, err
}

// TestRunawayChannelStopsTheRun: a receive that hands out a value already
// received is a violation the moment it happens, and the run stops there
// (check.go, invariant 5) instead of receiving for ever. Before the stop,
// this test never returned: recvAll looped on the duplicates.
func TestRunawayChannelStopsTheRun(t *testing.T) {
	for _, shape := range [][2]int{{1, 1}, {3, 2}} {
		e := newEnv(context.Background(), "test", Config{})
		r := rand.New(rand.NewPCG(1, 2))
		done := make(chan error, 1)
		go func() {
			done <- e.streamRounds(context.Background(), r, 1000*shape[0], 1000*shape[0], func(i, n int) flow {
				return flow{label: "runaway", c: runaway{core.NewMPMC[item](16)},
					senders: shape[0], receivers: shape[1], per: n / shape[0]}
			})
		}()
		select {
		case err := <-done:
			var v *Violation
			require.ErrorAs(t, err, &v)
			require.Equal(t, "no duplicate", v.Invariant, v.Detail)
			require.Contains(t, v.Detail, "value 0 of sender 0 a second time")
			require.Error(t, e.ctx.Err(), "the first violation cancels the run's abort context")
		case <-time.After(time.Minute):
			require.FailNow(t, "the run went on receiving duplicates for a minute")
		}
	}
}

// TestFirstViolationStops: recording the first violation, and nothing
// before it, cancels the run's abort context; verify then adds nothing.
func TestFirstViolationStops(t *testing.T) {
	e := newEnv(context.Background(), "test", Config{})
	l := newLedger(e.f, 1, 3)
	cur := l.cursor("receiver 0")
	cur.take(0, 0)
	require.NoError(t, e.ctx.Err())
	cur.take(0, 7) // nobody sent it
	require.Error(t, e.ctx.Err())
	l.verify(all(3))
	var v *Violation
	require.ErrorAs(t, e.f.err(), &v)
	require.Equal(t, "no phantom value", v.Invariant)
	require.NotContains(t, v.Detail, "never received", "after a stop, what was not received is not a violation of its own")
}
