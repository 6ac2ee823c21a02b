//go:build chaos

package chaos_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nimsync/nimsync/chaos"
	"github.com/nimsync/nimsync/core"
	"github.com/stretchr/testify/require"
)

// secondOp runs op in a goroutine and returns what it panicked with.
func secondOp(op func()) (v any) {
	done := make(chan any)
	go func() {
		defer func() { done <- recover() }()
		op()
	}()
	return <-done
}

// TestContractChecks: in a chaos build, a second goroutine on one side of a
// single-sided channel is reported with both stacks instead of corrupting
// the ring. The first goroutine is held inside its operation (a blocked
// Send or Recv) while the second one starts.
func TestContractChecks(t *testing.T) {
	r, err := chaos.Start(chaos.Plan{Seed: 1, Points: map[string]chaos.Action{}})
	require.NoError(t, err)
	defer r.Stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	for _, tc := range []struct {
		name          string
		ch            core.Chan[int]
		block, second func(core.Chan[int])
		point         string
	}{
		{"SPSC senders", core.NewSPSC[int](1),
			func(c core.Chan[int]) { _ = c.TrySend(0); _ = c.Send(ctx, 1) }, // full: Send blocks
			func(c core.Chan[int]) { _ = c.TrySend(2) }, "contract/single-sender"},
		{"SPSC receivers", core.NewSPSC[int](1),
			func(c core.Chan[int]) { _, _ = c.Recv(ctx) }, // empty: Recv blocks
			func(c core.Chan[int]) { _, _ = c.TryRecv() }, "contract/single-receiver"},
		{"SPMC senders", core.NewSPMC[int](1),
			func(c core.Chan[int]) { _ = c.TrySend(0); _ = c.Send(ctx, 1) },
			func(c core.Chan[int]) { _, _ = c.SendBatch(ctx, []int{2, 3}) }, "contract/single-sender"},
		{"MPSC receivers", core.NewMPSC[int](1),
			func(c core.Chan[int]) { _, _ = c.Recv(ctx) },
			func(c core.Chan[int]) { _, _ = c.RecvBatch(ctx, make([]int, 4)) }, "contract/single-receiver"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			first := make(chan struct{})
			go func() {
				defer close(first)
				tc.block(tc.ch)
			}()
			// Wait until the first goroutine is inside its operation, parked.
			require.Eventually(t, func() bool { return core.ReadStats().ParkedWaiters == 1 },
				5*time.Second, time.Millisecond)
			v := secondOp(func() { tc.second(tc.ch) })
			var cv *chaos.ContractViolation
			err, _ := v.(error)
			require.True(t, errors.As(err, &cv), "the second goroutine panics with a ContractViolation, got %v", v)
			require.Equal(t, tc.point, cv.Point)
			require.Contains(t, cv.First, "TestContractChecks", "the first goroutine's stack")
			require.Contains(t, cv.Second, "secondOp", "the second goroutine's stack")
			require.NoError(t, tc.ch.Close()) // release the first goroutine
			<-first
		})
	}

	// One goroutine after another on the same side is fine.
	c := core.NewSPSC[int](4)
	for range 3 {
		require.Nil(t, secondOp(func() { _ = c.TrySend(1); _, _ = c.TryRecv() }))
	}
}
