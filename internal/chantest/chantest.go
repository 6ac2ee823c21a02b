// Package chantest is the one table of core's four channel flavors, shared
// by core's tests, the properties, the scenarios and the benchmarks: each
// flavor's names, its constructor for a given capacity, and how many
// goroutines its contract allows on each side. It imports only core.
package chantest

import (
	"strconv"

	"github.com/nimsync/nimsync/core"
)

// Flavor is one of core's channel flavors. Its bits say what its contract
// allows beyond one goroutine a side: bit 0 concurrent senders, bit 1
// concurrent receivers, so that Flavor(i) for i in [0, 4) is
// Flavors[i] and a seeded draw of an index picks a flavor. The zero value
// is SPSC.
type Flavor uint8

// The flavors, in the order of [Flavors].
const (
	SPSC Flavor = 0                     // one sender, one receiver
	MPSC Flavor = multiSend             // many senders, one receiver
	SPMC Flavor = multiRecv             // one sender, many receivers
	MPMC Flavor = multiSend | multiRecv // many senders, many receivers
)

const (
	multiSend Flavor = 1 << iota
	multiRecv
)

// Flavors lists every flavor: SPSC, MPSC, SPMC, MPMC.
var Flavors = [...]Flavor{SPSC, MPSC, SPMC, MPMC}

// String returns the flavor's name in lower case, as test and benchmark
// names use it (flavor=spsc, impl=spsc): "spsc", "mpsc", "spmc", "mpmc".
func (f Flavor) String() string { return [...]string{"spsc", "mpsc", "spmc", "mpmc"}[f] }

// Type returns the name of core's type for the flavor, "SPSC", "MPSC",
// "SPMC" or "MPMC"; its constructor is "New" + Type.
func (f Flavor) Type() string { return [...]string{"SPSC", "MPSC", "SPMC", "MPMC"}[f] }

// MultiSend reports whether the flavor allows concurrent senders.
func (f Flavor) MultiSend() bool { return f&multiSend != 0 }

// MultiRecv reports whether the flavor allows concurrent receivers.
func (f Flavor) MultiRecv() bool { return f&multiRecv != 0 }

// WithMultiSend returns the least flavor that allows what f allows and
// concurrent senders: MPSC for SPSC, MPMC for SPMC, f itself otherwise.
func (f Flavor) WithMultiSend() Flavor { return f | multiSend }

// WithMultiRecv returns the least flavor that allows what f allows and
// concurrent receivers: SPMC for SPSC, MPMC for MPSC, f itself otherwise.
func (f Flavor) WithMultiRecv() Flavor { return f | multiRecv }

// Allows reports whether the flavor's contract allows senders concurrent
// senders and receivers concurrent receivers.
func (f Flavor) Allows(senders, receivers int) bool {
	return (senders <= 1 || f.MultiSend()) && (receivers <= 1 || f.MultiRecv())
}

// Senders returns how many sending goroutines the flavor allows out of
// want: want if it allows concurrent senders, else 1.
func (f Flavor) Senders(want int) int {
	if f.MultiSend() {
		return want
	}
	return 1
}

// Receivers returns how many receiving goroutines the flavor allows out of
// want: want if it allows concurrent receivers, else 1.
func (f Flavor) Receivers(want int) int {
	if f.MultiRecv() {
		return want
	}
	return 1
}

// New returns a new channel of flavor f for values of type T, made by
// core's constructor for f; it panics as that constructor does on a
// capacity below 1.
func New[T any](f Flavor, capacity int) core.Chan[T] {
	switch f {
	case SPSC:
		return core.NewSPSC[T](capacity)
	case MPSC:
		return core.NewMPSC[T](capacity)
	case SPMC:
		return core.NewSPMC[T](capacity)
	case MPMC:
		return core.NewMPMC[T](capacity)
	}
	panic("chantest: unknown flavor " + strconv.Itoa(int(f)))
}

// New returns a new channel of flavor f for ints: New[int](f, capacity).
func (f Flavor) New(capacity int) core.Chan[int] { return New[int](f, capacity) }
