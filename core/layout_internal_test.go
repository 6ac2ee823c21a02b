package core

// Layout checks: the indices written by senders and by receivers must not
// share a cache line (false sharing), and the fixed overhead of a channel
// stays small. 128 bytes is the false-sharing granule of chan.go (cacheLine)
// and 64 the line size (lineSize), written out so that the test does not
// shrink with the constants.

import (
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
)

const (
	layoutLine     = 128 // bytes between fields written by different sides
	layoutLineSize = 64  // SPSC's and the ring's lines (lineSize)
	layoutMaxSize  = 512 // fixed overhead target of a channel struct
	ringMaxSize    = 240 // MPSC, SPMC and MPMC: 256 bytes in all at capacity 1
)

func TestLayout(t *testing.T) {
	// SPSC: three 64-byte lines, the sender's, the read-mostly
	// one and the receiver's, in an allocation size class whose objects
	// start on 64-byte boundaries (192 bytes). The sides' written words
	// are 128 bytes apart (the adjacent-line prefetcher's pair).
	type lines struct {
		name                string
		size                uintptr
		send, shared, recv  []uintptr // offsets of the fields each line holds
		sendLast, recvFirst uintptr   // last sender field, first receiver field
	}
	var spsc SPSC[int]
	for _, l := range []lines{
		{
			"SPSC", unsafe.Sizeof(spsc),
			[]uintptr{unsafe.Offsetof(spsc.tail), unsafe.Offsetof(spsc.stail), unsafe.Offsetof(spsc.scachedHead), unsafe.Offsetof(spsc.sspin), unsafe.Offsetof(spsc.recvq)},
			[]uintptr{unsafe.Offsetof(spsc.buf), unsafe.Offsetof(spsc.mask), unsafe.Offsetof(spsc.zero)},
			[]uintptr{unsafe.Offsetof(spsc.head), unsafe.Offsetof(spsc.rhead), unsafe.Offsetof(spsc.rcachedTail), unsafe.Offsetof(spsc.rspin), unsafe.Offsetof(spsc.sendq)},
			unsafe.Offsetof(spsc.recvq) + unsafe.Sizeof(spsc.recvq) - 1, unsafe.Offsetof(spsc.head),
		},
	} {
		t.Run(l.name, func(t *testing.T) {
			assert.Equal(t, uintptr(3*layoutLineSize), l.size, "Sizeof")
			for i, offs := range [][]uintptr{l.send, l.shared, l.recv} {
				for _, off := range offs {
					assert.Equal(t, uintptr(i), off/layoutLineSize, "field at offset %d on line %d", off, i)
				}
			}
			assert.GreaterOrEqual(t, l.recvFirst-l.sendLast, uintptr(layoutLine-layoutLineSize), "last sender byte to first receiver byte")
		})
	}
	t.Run("ring", func(t *testing.T) {
		var r ring[int]
		// Senders write tail and read sslots, smask and recvq.n on every
		// send; receivers write head and read rslots, rmask and sendq.n on
		// every receive (ring.go, Layout). Each side's fields fill one
		// 64-byte line, the read-mostly fields a third, and the struct is
		// exactly the 192-byte size class, whose objects start on 64-byte
		// boundaries: so no field of one side shares a line with the
		// other side's, wherever the allocator puts the ring, and tail and
		// head are a line pair apart.
		assert.Equal(t, uintptr(3*layoutLineSize), unsafe.Sizeof(r), "Sizeof(ring[int])")
		for line, offs := range [][]uintptr{
			{unsafe.Offsetof(r.tail), unsafe.Offsetof(r.sslots), unsafe.Offsetof(r.smask), unsafe.Offsetof(r.recvq), unsafe.Offsetof(r.sspin), unsafe.Offsetof(r.sspin) + unsafe.Sizeof(r.sspin) - 1},
			{unsafe.Offsetof(r.zero), unsafe.Offsetof(r.rclosed)},
			{unsafe.Offsetof(r.head), unsafe.Offsetof(r.rslots), unsafe.Offsetof(r.rmask), unsafe.Offsetof(r.sendq), unsafe.Offsetof(r.rspin), unsafe.Offsetof(r.rspin) + unsafe.Sizeof(r.rspin) - 1},
		} {
			for _, off := range offs {
				assert.Equal(t, uintptr(line), off/layoutLineSize, "field at offset %d on line %d", off, line)
			}
		}
		assert.GreaterOrEqual(t, unsafe.Offsetof(r.head)-unsafe.Offsetof(r.tail), uintptr(layoutLine), "tail to head")
		var mpsc MPSC[int]
		var spmc SPMC[int]
		var mpmc MPMC[int]
		// A channel of capacity 1 costs at most 256 bytes: its struct (a
		// 240-byte size class at most) and one 16-byte slot.
		assert.LessOrEqual(t, unsafe.Sizeof(mpsc), uintptr(ringMaxSize), "Sizeof(MPSC[int])")
		assert.LessOrEqual(t, unsafe.Sizeof(spmc), uintptr(ringMaxSize), "Sizeof(SPMC[int])")
		assert.LessOrEqual(t, unsafe.Sizeof(mpmc), uintptr(ringMaxSize), "Sizeof(MPMC[int])")
	})
}
