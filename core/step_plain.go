//go:build !chaos

package core

// A plain build: the serialized mode's seam (step.go) is compiled out. The
// types are aliases, so core's fields are sync/atomic's and sync's own
// types and the code is what it would be without the seam; the markers are
// empty and inline away.

import (
	"sync"
	"sync/atomic"
	"time"
)

type (
	atomicUint64 = atomic.Uint64
	atomicUint32 = atomic.Uint32
	atomicInt32  = atomic.Int32
	atomicInt64  = atomic.Int64
	atomicBool   = atomic.Bool
	atomicValue  = atomic.Value
	mutex        = sync.Mutex
)

// stepMarkers is false in a plain build: every `if stepMarkers` block (a
// serialized wait) is dead code, which the compiler removes.
const stepMarkers = false

// spinStep marks a spin or back-off round: nothing, in a plain build.
func spinStep() {}

// awaitStep marks a blocking receive: nothing, in a plain build (it is only
// called under `if stepMarkers`).
func awaitStep(ready func() bool) {}

// The serialized mode's goroutine starts, sleeps, clock reads, timed waits,
// timers and task pool (step.go): never called in a plain build, where
// every call sits under a constant condition the compiler removes.

func goStep(f func())                                      {}
func sleepStep(d time.Duration) bool                       { return false }
func nowStep() (time.Time, bool)                           { return time.Time{}, false }
func awaitForStep(ready func() bool, d time.Duration) bool { return false }
func afterStep(d time.Duration, f func()) func() bool      { return nil }
func poolStep() *pool                                      { return tasks }
func (p *pool) stats() Stats                               { return Stats{} }

// atomicPointer is sync/atomic's Pointer: a generic alias.
type atomicPointer[T any] = atomic.Pointer[T]
