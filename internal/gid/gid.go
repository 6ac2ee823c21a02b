// Package gid identifies the calling goroutine, cheaply: the serialized
// mode's scheduler (package sched) asks at every scheduling point which of
// its goroutines is calling, and reading the goroutine id from
// runtime.Stack's header costs a traceback of the whole stack (tens of
// microseconds in a scenario, half of a serialized run's time).
package gid

import "runtime"

// Self returns a key of the calling goroutine: two goroutines alive at the
// same time never have the same key, and a goroutine's key does not change
// while it lives. A goroutine that has exited may leave its key to a new
// one, so a registry keyed by it must drop a goroutine's entry before the
// goroutine exits.
//
// On amd64 and arm64 the key is the address of the runtime's descriptor of
// the goroutine (its g, read from thread-local storage or the g register,
// which the runtime keeps for its goroutine's life); elsewhere it is the
// goroutine id from runtime.Stack's header, which costs a traceback.
func Self() uintptr { return self() }

// ID returns the calling goroutine's id, as stack traces print it, read
// from runtime.Stack's header ("goroutine 123 [running]:"). It costs a
// traceback of the calling goroutine's stack (a microsecond or more): for
// what must be a goroutine id, not for every step.
func ID() uint64 {
	var buf [32]byte
	b := buf[:runtime.Stack(buf[:], false)]
	var id uint64
	for _, c := range b[len("goroutine "):] {
		if c < '0' || c > '9' {
			break
		}
		id = id*10 + uint64(c-'0')
	}
	return id
}
