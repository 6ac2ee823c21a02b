// Package stacks reads the program's goroutine stacks: for tests that must
// wait until a goroutine is blocked at a given place rather than sleep and
// hope it got there, and for reports that show where goroutines wait.
package stacks

import (
	"runtime"
	"strings"
)

// ParkedIn counts the goroutines blocked on a channel (a send, a receive or
// a select) with every one of frames in their stack. A frame is a
// substring of a function's name as a stack trace prints it, such as
// "core.(*Group).wait". It stops the world to read every stack, which
// takes tens of microseconds per thousand goroutines: poll it with a pause
// between calls, don't spin on it.
func ParkedIn(frames ...string) int {
	count := 0
next:
	for _, g := range All() {
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

// All returns every goroutine's stack as runtime.Stack prints it, one
// goroutine per element, each starting with its "goroutine N [state]:"
// header. It stops the world.
func All() []string {
	buf := make([]byte, 64<<10)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	return strings.Split(string(buf), "\n\n")
}
