package properties_test

// Small helpers shared by the properties' test files.

import (
	"bytes"
	"runtime"
	"strconv"
	"strings"
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

// parkedIn counts the goroutines blocked on a channel (a send, a receive
// or a select) with every one of frames in their stack (a frame is a
// substring of a function's name, such as "core.(*Group).wait"), so that
// a command can wait for a goroutine to block where a sleep only makes it
// likely. It stops the world to read the stacks: poll it with waitUntil,
// don't spin on it.
func parkedIn(frames ...string) int {
	buf := make([]byte, 64<<10)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
next:
	for _, g := range strings.Split(string(buf), "\n\n") {
		header, _, _ := strings.Cut(g, "\n")
		if !strings.Contains(header, "[chan receive") && !strings.Contains(header, "[chan send") && !strings.Contains(header, "[select") {
			continue
		}
		for _, f := range frames {
			if !strings.Contains(g, f) {
				continue next
			}
		}
		count++
	}
	return count
}
