// Package core is the nimsync runtime: lock-free typed channels, and (in later
// releases) task groups and cancellation scopes.
//
// # Channels
//
// Four bounded FIFO channel flavors share one contract, [Chan]:
//
//   - [SPSC]: one sending goroutine at a time, one receiving goroutine at a
//     time. A Lamport ring with cached indices (spsc.go).
//   - [MPSC]: many senders, one receiver. Vyukov's bounded MPMC queue with a
//     single consumer that needs no CAS (ring.go, mpsc.go).
//   - [SPMC]: one sender, many receivers (ring.go, spmc.go).
//   - [MPMC]: many senders, many receivers (ring.go, mpmc.go).
//
// Every flavor is linearizable as a bounded FIFO queue: values from one sender
// arrive in the order sent, every value whose Send returned nil is received
// exactly once, and values buffered at Close are still delivered before
// receivers see [ErrClosed].
//
// Operations never allocate and never touch their context on the fast path.
// An operation that must wait spins briefly (a bounded number of polls and
// yields, see park.go) and then parks its goroutine, which then uses no CPU
// until a peer, Close, or the context wakes it.
//
// The single-sided flavors trust their caller: a second concurrent sender on
// an SPSC or SPMC channel, or a second concurrent receiver on an SPSC or MPSC
// channel, is a data race (reported by the race detector for SPSC) and may
// corrupt the ring. Use [MPMC] when in doubt.
package core
