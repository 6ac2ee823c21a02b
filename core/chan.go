package core

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
	"reflect"
)

// Sentinel errors returned by channel operations. Compare with [errors.Is].
var (
	// ErrClosed is returned by Send and TrySend once the channel is closed,
	// by Recv and TryRecv once it is closed and drained, and by Close on a
	// channel that is already closed.
	ErrClosed = errors.New("core: channel closed")
	// ErrFull is returned by TrySend when the channel has no free slot.
	ErrFull = errors.New("core: channel full")
	// ErrEmpty is returned by TryRecv when the channel holds no value.
	ErrEmpty = errors.New("core: channel empty")
)

// Chan is the contract shared by [SPSC], [MPSC], [SPMC] and [MPMC]: a bounded,
// linearizable FIFO queue of T that can be closed.
//
// Blocking operations (Send, Recv, SendBatch, RecvBatch) consult ctx only when
// they would block: an operation that can complete at once completes even if
// ctx is already done. When ctx ends first they return ctx.Err(). No
// operation allocates, except that the first goroutine ever to park on one
// side of a channel allocates that side's wait list (24 bytes, once); a
// goroutine that must wait spins for about a microsecond and then parks on a
// pooled waiter, using no CPU until a peer, Close or ctx wakes it.
type Chan[T any] interface {
	// Send appends v, blocking while the channel is full. It returns
	// ErrClosed once the channel is closed (v is then not delivered) and
	// ctx.Err() if ctx ends first.
	Send(ctx context.Context, v T) error
	// TrySend appends v if there is room: it returns nil, ErrFull or
	// ErrClosed and never parks. (If another goroutine is in the middle of
	// an operation on the slot it needs, it waits until that one finishes,
	// which takes a few instructions unless that goroutine is descheduled:
	// it busy-waits, then yields, and on SPMC and MPMC, after a few
	// microseconds, sleeps in steps of up to 100 µs.)
	TrySend(v T) error
	// Recv removes the oldest value, blocking while the channel is empty.
	// It returns ErrClosed once the channel is closed and drained, and
	// ctx.Err() if ctx ends first.
	Recv(ctx context.Context) (T, error)
	// TryRecv removes the oldest value if there is one: it returns the
	// value, ErrEmpty, or ErrClosed (closed and drained), and never parks
	// (it may wait for a peer mid-operation, as TrySend does).
	TryRecv() (T, error)
	// SendBatch sends all of vs in order, blocking while the channel is
	// full. It returns how many values were sent, which is len(vs) unless
	// the channel was closed (ErrClosed) or ctx ended (ctx.Err()) first.
	// Values of one batch keep their order but may interleave with other
	// senders' values.
	SendBatch(ctx context.Context, vs []T) (int, error)
	// RecvBatch blocks until at least one value is available and then
	// fills dst with up to len(dst) values, in order. It returns the count,
	// or 0 and ErrClosed once the channel is closed and drained, or 0 and
	// ctx.Err(). With an empty dst it returns 0, nil at once.
	RecvBatch(ctx context.Context, dst []T) (int, error)
	// Close closes the channel: further sends fail with ErrClosed, buffered
	// values are still delivered, and every parked sender and receiver is
	// woken. Close returns ErrClosed if the channel was already closed.
	Close() error
	// Len returns the number of buffered values: a snapshot that may be
	// stale by the time it returns.
	Len() int
	// Cap returns the capacity, which is the requested capacity rounded up
	// to a power of two.
	Cap() int
}

// Compile-time checks that every flavor implements Chan.
var (
	_ Chan[int] = (*SPSC[int])(nil)
	_ Chan[int] = (*MPSC[int])(nil)
	_ Chan[int] = (*SPMC[int])(nil)
	_ Chan[int] = (*MPMC[int])(nil)
)

// errWouldBlock is the internal outcome of a non-blocking attempt on a full or
// empty ring; the public Try methods translate it into ErrFull or ErrEmpty.
var errWouldBlock = errors.New("core: would block")

const (
	// closedBit is set in a ring's tail index by Close. Senders reserve
	// slots with a CAS on tail, which fails once the bit is set, so after
	// Close no new value can enter the ring (see spsc.go and ring.go).
	closedBit = uint64(1) << 63
	// maxCapacity bounds capacities. Indices count operations and stay
	// below closedBit for 2^63 of them.
	maxCapacity uint64 = 1 << 40
	// cacheLine is the false-sharing granule. 128 bytes covers the
	// adjacent-line prefetcher of x86 and the 128-byte lines of Apple
	// silicon (as crossbeam's CachePadded does).
	cacheLine = 128
	// lineSize is the coherence granule, 64 bytes on x86-64 and on most
	// arm64 servers. SPSC and the ring (MPSC, SPMC, MPMC) lay their
	// struct out in lines of this size, the two sides' written lines 128
	// bytes (cacheLine) apart with a read-mostly line between them.
	lineSize = 64
)

// roundCapacity validates a requested capacity and rounds it up to a power
// of two. A capacity below 1 or above 2^40 is a programming error and panics
// naming the constructor and the value, as make does.
func roundCapacity(fn string, capacity int) uint64 {
	if capacity < 1 {
		panic(fmt.Sprintf("core: %s: capacity %d out of range (must be at least 1)", fn, capacity))
	}
	if uint64(capacity) > maxCapacity {
		panic(fmt.Sprintf("core: %s: capacity %d out of range (must be at most 2^40)", fn, capacity))
	}
	return uint64(1) << bits.Len64(uint64(capacity)-1)
}

// hasPointers reports whether values of type T can hold pointers, that is,
// whether a consumed slot must be zeroed so the ring does not keep garbage
// alive. Pointer-free slots are left as they are, which spares the receiver a
// write to a cache line the sender is about to fill.
func hasPointers[T any]() bool { return typeHasPointers(reflect.TypeFor[T]()) }

func typeHasPointers(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return false
	case reflect.Array:
		return t.Len() > 0 && typeHasPointers(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if typeHasPointers(t.Field(i).Type) {
				return true
			}
		}
		return false
	default: // pointers, strings, slices, maps, chans, funcs, interfaces
		return true
	}
}
