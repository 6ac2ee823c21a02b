package core

// The lazy wait list (park.go, invariant 6): a queue nobody parks on never
// gets one, and the first park installs the one list the queue keeps.

import (
	"context"
	"runtime"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
)

func TestWaitqLazyList(t *testing.T) {
	var q waitq
	require.Equal(t, uintptr(16), unsafe.Sizeof(q), "Sizeof(waitq)")
	allocs := testing.AllocsPerRun(100, func() {
		q.wake(1)
		q.wakeAll()
	})
	require.Zero(t, allocs, "allocations of wake and wakeAll on a queue nobody parked on")
	require.Nil(t, q.list.Load(), "a queue nobody parked on has no list")

	// A park whose re-check succeeds links and leaves at once.
	require.NoError(t, q.park(context.Background(), func() bool { return true }))
	l := q.list.Load()
	require.NotNil(t, l, "the first park installs the list")
	require.Zero(t, q.parked())

	// A park that is woken, and one whose context ends, keep that list.
	done := make(chan error)
	go func() { done <- q.park(context.Background(), func() bool { return false }) }()
	for q.parked() == 0 {
		runtime.Gosched()
	}
	q.wake(1)
	require.NoError(t, <-done)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, q.park(ctx, func() bool { return false }), context.Canceled)
	require.Same(t, l, q.list.Load(), "the list is installed once")
	require.Zero(t, q.parked())
}
