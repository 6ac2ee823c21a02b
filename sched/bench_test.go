package sched_test

import (
	"testing"

	"github.com/nimsync/nimsync/sched"
)

// BenchmarkSteps measures what a step costs, in steps/s, with programs
// whose goroutines only yield, pass a turn round a ring (each blocked on
// its turn: a wake every step), and contend for a mutex (the counter).
func BenchmarkSteps(b *testing.B) {
	const gs, rounds = 4, 250
	progs := []struct {
		name string
		main func(*sched.G)
	}{
		{"yield", func(g *sched.G) {
			for range gs {
				g.Go(func(g *sched.G) {
					for range rounds {
						g.Yield("y")
					}
				})
			}
		}},
		{"ring", func(g *sched.G) {
			turn := 0
			for i := range gs {
				g.Go(func(g *sched.G) {
					for range rounds {
						g.Block("turn", func() bool { return turn == i })
						turn = (i + 1) % gs
					}
				})
			}
		}},
		{"mutex", func(g *sched.G) {
			c := &counter{workers: gs, incs: rounds / 4}
			c.main(g)
		}},
	}
	for _, p := range progs {
		b.Run(p.name, func(b *testing.B) {
			steps, seed := 0, uint64(0)
			for b.Loop() {
				r := sched.Run(seed, sched.Random(), sched.Options{}, p.main)
				if r.Failure != nil {
					b.Fatal(r.Failure)
				}
				steps += r.Steps
				seed++
			}
			b.ReportMetric(float64(steps)/b.Elapsed().Seconds(), "steps/s")
		})
	}
}
