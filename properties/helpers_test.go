package properties_test

// Small helpers shared by the properties' test files.

import (
	"bytes"
	"runtime"
	"strconv"
	"time"
)

// waitUntil polls cond until it holds or bound passes; it reports cond.
func waitUntil(bound time.Duration, cond func() bool) bool {
	for t0 := time.Now(); time.Since(t0) < bound; time.Sleep(20 * time.Microsecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

// spinUntil is waitUntil without sleeps: it yields between polls, so that
// what follows the wait comes at once (before a spinning waiter parks).
func spinUntil(bound time.Duration, cond func() bool) bool {
	for t0 := time.Now(); !cond(); runtime.Gosched() {
		if time.Since(t0) > bound {
			return cond()
		}
	}
	return true
}

// goid returns the calling goroutine's id, read from its stack header.
func goid() int64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	id, _ := strconv.ParseInt(string(b[:bytes.IndexByte(b, ' ')]), 10, 64)
	return id
}
