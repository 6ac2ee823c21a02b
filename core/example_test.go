package core_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/nimsync/nimsync/core"
)

// A producer streams values to a consumer; Close ends the stream after the
// buffered values are delivered.
func ExampleNewSPSC() {
	ctx := context.Background()
	c := core.NewSPSC[string](8)
	go func() {
		for _, w := range []string{"lock", "free", "fifo"} {
			if err := c.Send(ctx, w); err != nil {
				panic(err)
			}
		}
		c.Close()
	}()
	for {
		w, err := c.Recv(ctx)
		if errors.Is(err, core.ErrClosed) {
			break
		}
		fmt.Println(w)
	}
	// Output:
	// lock
	// free
	// fifo
}

// Many workers report to one collector.
func ExampleNewMPSC() {
	ctx := context.Background()
	results := core.NewMPSC[int](64)
	var wg sync.WaitGroup
	for w := 1; w <= 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results.Send(ctx, w*w)
		}()
	}
	wg.Wait()
	results.Close()
	var got []int
	for v, err := results.Recv(ctx); err == nil; v, err = results.Recv(ctx) {
		got = append(got, v)
	}
	slices.Sort(got)
	fmt.Println(got)
	// Output: [1 4 9 16]
}

// One dispatcher hands jobs to a pool of workers.
func ExampleNewSPMC() {
	ctx := context.Background()
	jobs := core.NewSPMC[int](16)
	var total sync.Map
	var wg sync.WaitGroup
	for w := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				j, err := jobs.Recv(ctx)
				if err != nil {
					return // ErrClosed: no more jobs
				}
				total.Store(j, w)
			}
		}()
	}
	for j := range 10 {
		jobs.Send(ctx, j)
	}
	jobs.Close()
	wg.Wait()
	n := 0
	total.Range(func(_, _ any) bool { n++; return true })
	fmt.Println(n, "jobs done")
	// Output: 10 jobs done
}

// TrySend and TryRecv never block: they report ErrFull and ErrEmpty.
func ExampleMPMC_TrySend() {
	c := core.NewMPMC[int](2)
	fmt.Println(c.TrySend(1), c.TrySend(2), c.TrySend(3))
	v, err := c.TryRecv()
	fmt.Println(v, err)
	c.TryRecv()
	_, err = c.TryRecv()
	fmt.Println(err)
	// Output:
	// <nil> <nil> core: channel full
	// 1 <nil>
	// core: channel empty
}

// Batches move many values per synchronization.
func ExampleSPSC_SendBatch() {
	ctx := context.Background()
	c := core.NewSPSC[int](1024)
	go func() {
		c.SendBatch(ctx, []int{1, 2, 3, 4, 5})
		c.Close()
	}()
	buf := make([]int, 64)
	sum := 0
	for {
		n, err := c.RecvBatch(ctx, buf)
		if err != nil {
			break
		}
		for _, v := range buf[:n] {
			sum += v
		}
	}
	fmt.Println(sum)
	// Output: 15
}

// A blocked Recv gives up when its context ends.
func ExampleMPMC_Recv_timeout() {
	c := core.NewMPMC[int](1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	_, err := c.Recv(ctx)
	fmt.Println(err)
	// Output: context deadline exceeded
}
