package core_test

import (
	"context"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nimsync/nimsync/core"
	"github.com/nimsync/nimsync/internal/chantest"
)

// cpuTime returns the CPU time (user+system) this process has used.
func cpuTime(t *testing.T) time.Duration {
	var ru syscall.Rusage
	require.NoError(t, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestParkedUsesNoCPU parks 64 receivers and 64 senders and checks that,
// once parked, they leave the process idle: a goroutine that kept spinning
// would burn a whole core over the observation window.
func TestParkedUsesNoCPU(t *testing.T) {
	if runtime.GOOS != "linux" && runtime.GOOS != "darwin" {
		t.Skip("needs getrusage")
	}
	const n = 64
	ctx := context.Background()
	var wg sync.WaitGroup
	var chans []core.Chan[int]
	for _, f := range chantest.Flavors {
		empty, full := f.New(1), f.New(1)
		require.NoError(t, full.TrySend(0))
		chans = append(chans, empty, full)
		receivers, senders := f.Receivers(n), f.Senders(n)
		for range receivers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := empty.Recv(ctx)
				assert.ErrorIs(t, err, core.ErrClosed)
			}()
		}
		for range senders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				assert.ErrorIs(t, full.Send(ctx, 1), core.ErrClosed)
			}()
		}
		require.Eventually(t, func() bool {
			_, r := core.Parked[int](empty)
			s, _ := core.Parked[int](full)
			return r == receivers && s == senders
		}, 10*time.Second, time.Millisecond)
	}
	// Linked goroutines may still be between their re-check and the
	// select; give them a moment, then measure a quiet window.
	runtime.Gosched()
	const window = 200 * time.Millisecond
	before := cpuTime(t)
	time.Sleep(window) // observation window, not synchronization
	used := cpuTime(t) - before
	t.Logf("%v of CPU time in %v with %d goroutines parked", used, window, 2*n+4)
	// A single spinning goroutine would use about the whole window.
	require.Less(t, used, window/4, "parked goroutines are burning CPU")
	for _, c := range chans {
		require.NoError(t, c.Close())
	}
	wg.Wait()
}
