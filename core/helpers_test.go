package core_test

// Small helpers shared by core's test files.

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// noop is a task that does nothing; as a func value it needs no closure.
func noop(context.Context) error { return nil }

// recoverPanic returns the value f panics with, or nil.
func recoverPanic(f func()) (r any) {
	defer func() { r = recover() }()
	f()
	return nil
}

// seq returns [from, from+n).
func seq(from, n int) []int {
	if n == 0 {
		return nil // as drain and append return for nothing
	}
	s := make([]int, n)
	for i := range s {
		s[i] = from + i
	}
	return s
}

// isClosed reports whether c is closed, without blocking.
func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// stressSeed returns the seed of a stress test: NIMSYNC_SEED if set, or a
// fresh one. It logs the seed and the command that reruns the test.
func stressSeed(t *testing.T) uint64 {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("NIMSYNC_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		require.NoError(t, err, "NIMSYNC_SEED")
		seed = v
	}
	t.Logf("seed %d: rerun with NIMSYNC_SEED=%d go test -run '^%s$' ./core", seed, seed, t.Name())
	return seed
}

// scaled returns n, the size of a stress test's work, or a tenth of it
// (at least 1) under -short or the race detector.
func scaled(n int) int {
	if raceEnabled || testing.Short() {
		return max(n/10, 1)
	}
	return n
}
