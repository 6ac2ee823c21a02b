package core

// Layout checks: the indices written by senders and by receivers must not
// share a cache line (false sharing), and the fixed overhead of a channel
// stays small. 128 bytes is the false-sharing granule of chan.go (cacheLine),
// written out so that the test does not shrink with the constant.

import (
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
)

const (
	layoutLine    = 128 // bytes between fields written by different sides
	layoutMaxSize = 512 // fixed overhead target of a channel struct
	ringMaxSize   = 240 // SPMC and MPMC: 256 bytes in all at capacity 1
)

func TestLayout(t *testing.T) {
	t.Run("SPSC", func(t *testing.T) {
		var c SPSC[int]
		// The sender writes tail, the receiver head; both read buf.
		assert.GreaterOrEqual(t, unsafe.Offsetof(c.head)-unsafe.Offsetof(c.tail), uintptr(layoutLine), "tail to head")
		assert.GreaterOrEqual(t, unsafe.Offsetof(c.buf)-unsafe.Offsetof(c.head), uintptr(layoutLine), "head to buf")
		assert.LessOrEqual(t, unsafe.Sizeof(c), uintptr(layoutMaxSize), "Sizeof(SPSC[int])")
	})
	t.Run("MPSC", func(t *testing.T) {
		var c MPSC[int]
		assert.GreaterOrEqual(t, unsafe.Offsetof(c.head)-unsafe.Offsetof(c.tail), uintptr(layoutLine), "tail to head")
		assert.GreaterOrEqual(t, unsafe.Offsetof(c.slots)-unsafe.Offsetof(c.head), uintptr(layoutLine), "head to slots")
		assert.LessOrEqual(t, unsafe.Sizeof(c), uintptr(layoutMaxSize), "Sizeof(MPSC[int])")
	})
	t.Run("ring", func(t *testing.T) {
		var r ring[int]
		// Senders write tail and read sslots, smask and recvq.n on every
		// send; receivers write head and read rslots, rmask and sendq.n on
		// every receive (ring.go, Layout). What one side reads per operation
		// must not share a 64-byte line with what the other side writes.
		assert.GreaterOrEqual(t, unsafe.Offsetof(r.head)-unsafe.Offsetof(r.tail), uintptr(layoutLine), "tail to head")
		assert.GreaterOrEqual(t, unsafe.Offsetof(r.head)-(unsafe.Offsetof(r.recvq)+unsafe.Sizeof(r.recvq.n)), uintptr(64), "senders' reads to head")
		assert.Less(t, unsafe.Offsetof(r.sslots), unsafe.Offsetof(r.recvq))
		assert.Less(t, unsafe.Offsetof(r.smask), unsafe.Offsetof(r.recvq))
		assert.Less(t, unsafe.Offsetof(r.recvq), unsafe.Offsetof(r.sspin))
		var spmc SPMC[int]
		var mpmc MPMC[int]
		// A channel of capacity 1 costs at most 256 bytes: its struct (a
		// 240-byte size class at most) and one 16-byte slot.
		assert.LessOrEqual(t, unsafe.Sizeof(spmc), uintptr(ringMaxSize), "Sizeof(SPMC[int])")
		assert.LessOrEqual(t, unsafe.Sizeof(mpmc), uintptr(ringMaxSize), "Sizeof(MPMC[int])")
	})
}
