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
		assert.GreaterOrEqual(t, unsafe.Offsetof(r.head)-unsafe.Offsetof(r.tail), uintptr(layoutLine), "tail to head")
		assert.GreaterOrEqual(t, unsafe.Offsetof(r.slots)-unsafe.Offsetof(r.head), uintptr(layoutLine), "head to slots")
		var spmc SPMC[int]
		var mpmc MPMC[int]
		assert.LessOrEqual(t, unsafe.Sizeof(spmc), uintptr(layoutMaxSize), "Sizeof(SPMC[int])")
		assert.LessOrEqual(t, unsafe.Sizeof(mpmc), uintptr(layoutMaxSize), "Sizeof(MPMC[int])")
	})
}
