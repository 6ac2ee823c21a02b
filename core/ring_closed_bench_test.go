package core

import (
	"context"
	"testing"
)

// BenchmarkRecvClosed: a Recv on a closed, drained channel, which ends
// every receive loop once. The ring's blocking Recv learns of the close in
// its slow path (ring.go, invariant 6); a Go channel's receive sees it
// under its lock.
func BenchmarkRecvClosed(b *testing.B) {
	ctx := context.Background()
	for _, im := range []struct {
		name string
		mk   func() benchChan
	}{
		{"spsc", func() benchChan { return NewSPSC[int](64) }},
		{"mpsc", func() benchChan { return NewMPSC[int](64) }},
		{"spmc", func() benchChan { return NewSPMC[int](64) }},
		{"mpmc", func() benchChan { return NewMPMC[int](64) }},
	} {
		b.Run("impl="+im.name, func(b *testing.B) {
			c := im.mk()
			_ = c.Close()
			for b.Loop() {
				if _, err := c.Recv(ctx); err != ErrClosed {
					b.Fatalf("Recv on a closed, drained channel: %v, want ErrClosed", err)
				}
			}
		})
	}
	b.Run("impl=gochan", func(b *testing.B) {
		c := make(chan int, 64)
		close(c)
		for b.Loop() {
			if _, ok := <-c; ok {
				b.Fatal("receive on a closed, drained channel succeeded")
			}
		}
	})
}
