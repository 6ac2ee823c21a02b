package sched_test

import (
	"fmt"

	"github.com/nimsync/nimsync/sched"
)

// counter is the test program: workers each increment a shared counter incs
// times with a read-yield-write race, and a second one under a Mutex. With
// check set, the last worker to finish panics on a lost update.
type counter struct {
	workers, incs int
	check         bool
	extraYield    bool // a changed program, for replay divergence

	racy, locked int
}

func (c *counter) main(g *sched.G) {
	var m sched.Mutex
	m.Name = "m"
	done := 0
	for range c.workers {
		g.Go(func(g *sched.G) {
			for range c.incs {
				v := c.racy
				g.Yield("read")
				if c.extraYield {
					g.Yield("extra")
				}
				c.racy = v + 1
				g.Yield("write")
				m.Lock(g)
				c.locked++
				m.Unlock(g)
			}
			done++
			if c.check && done == c.workers && c.racy != c.workers*c.incs {
				panic(fmt.Sprintf("lost update: %d of %d", c.racy, c.workers*c.incs))
			}
		})
	}
}

func (c *counter) lost() bool { return c.racy != c.workers*c.incs }

func runCounter(seed uint64, s sched.Strategy, opts sched.Options, check bool) (*sched.Result, *counter) {
	c := &counter{workers: 3, incs: 3, check: check}
	return sched.Run(seed, s, opts, c.main), c
}
