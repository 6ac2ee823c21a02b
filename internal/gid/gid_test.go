package gid

import (
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSelfStable: a goroutine's key stays the same across calls, stack
// growth and preemption.
func TestSelfStable(t *testing.T) {
	k := Self()
	require.NotZero(t, k)
	var grow func(n int) uintptr
	grow = func(n int) uintptr {
		var pad [256]byte
		_ = pad
		if n == 0 {
			runtime.Gosched()
			return Self()
		}
		return grow(n - 1)
	}
	assert.Equal(t, k, grow(200), "the key changed when the stack grew")
	runtime.GC()
	assert.Equal(t, k, Self())
}

// TestSelfDistinct: goroutines alive at once have distinct keys.
func TestSelfDistinct(t *testing.T) {
	const n = 200
	keys := make([]uintptr, n)
	var ready, done sync.WaitGroup
	ready.Add(n)
	done.Add(1)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			keys[i] = Self()
			ready.Done()
			done.Wait() // alive until every key is read
			assert.Equal(t, keys[i], Self())
		}()
	}
	ready.Wait()
	seen := map[uintptr]int{}
	for i, k := range keys {
		if j, dup := seen[k]; dup {
			t.Fatalf("goroutines %d and %d, alive at once, have the same key %#x", j, i, k)
		}
		seen[k] = i
	}
	assert.NotContains(t, seen, Self(), "a goroutine shares the test goroutine's key")
	done.Done()
	wg.Wait()
}

func BenchmarkSelf(b *testing.B) {
	for b.Loop() {
		_ = Self()
	}
}

// TestID: the id is the one stack traces print for the goroutine.
func TestID(t *testing.T) {
	var buf [64]byte
	header := string(buf[:runtime.Stack(buf[:], false)])
	assert.Contains(t, header, fmt.Sprintf("goroutine %d [", ID()))
	other := make(chan uint64)
	go func() { other <- ID() }()
	assert.NotEqual(t, ID(), <-other)
}
