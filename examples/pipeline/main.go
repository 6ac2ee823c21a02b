// Command pipeline runs a three-stage pipeline on nimsync channels and checks
// that every value arrives exactly once:
//
//	source --SPMC--> 4 square workers --MPSC--> batching sink
//
// It prints the throughput and exits 1 if the checksum is wrong.
//
// Usage:
//
//	go run ./examples/pipeline [-n 1000000] [-workers 4] [-cap 1024]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/nimsync/nimsync/core"
)

func main() {
	n := flag.Int("n", 1_000_000, "values to push through the pipeline")
	workers := flag.Int("workers", 4, "square workers between source and sink")
	capacity := flag.Int("cap", 1024, "capacity of each channel")
	flag.Parse()
	if *n < 0 || *workers < 1 || *capacity < 1 || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "pipeline: -n must be >= 0, -workers and -cap >= 1, and no arguments")
		flag.Usage()
		os.Exit(2)
	}

	ctx := context.Background()
	start := time.Now()
	jobs := core.NewSPMC[int](*capacity)    // one source, many workers
	results := core.NewMPSC[int](*capacity) // many workers, one sink

	go func() { // source: sends in batches of 64
		batch := make([]int, 0, 64)
		for i := 1; i <= *n; i++ {
			batch = append(batch, i)
			if len(batch) == cap(batch) || i == *n {
				if _, err := jobs.SendBatch(ctx, batch); err != nil {
					panic(err)
				}
				batch = batch[:0]
			}
		}
		jobs.Close()
	}()

	var wg sync.WaitGroup
	for range *workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				v, err := jobs.Recv(ctx)
				if err != nil {
					return // core.ErrClosed: the source is done
				}
				if err := results.Send(ctx, v*v%1_000_003); err != nil {
					panic(err)
				}
			}
		}()
	}
	go func() { wg.Wait(); results.Close() }()

	// sink: drains in batches
	buf := make([]int, 256)
	var sum, count int
	for {
		k, err := results.RecvBatch(ctx, buf)
		if err != nil {
			break
		}
		for _, v := range buf[:k] {
			sum += v
		}
		count += k
	}
	elapsed := time.Since(start)

	want := 0
	for i := 1; i <= *n; i++ {
		want += i * i % 1_000_003
	}
	fmt.Printf("pipeline: %d values through %d workers in %v (%.1f M values/s)\n",
		count, *workers, elapsed.Round(time.Millisecond), float64(count)/elapsed.Seconds()/1e6)
	if count != *n || sum != want {
		fmt.Printf("pipeline: FAILED: received %d values with checksum %d, want %d and %d\n", count, sum, *n, want)
		os.Exit(1)
	}
	fmt.Println("pipeline: every value arrived exactly once")
}
