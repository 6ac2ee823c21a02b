//go:build chaos

package properties_test

// Property 11, the single-side contract check under the serialized mode
// (issue 14): chaos.TestContractChecks's rule (CHAN-SINGLE-SIDE) at every
// point a goroutine inside an operation can have reached. A generated
// episode has one goroutine enter an operation of a single-sided side
// (either side of SPSC, MPSC's receivers, SPMC's senders) that must wait
// (holdSide: a Send on a full channel, a Recv on an empty one), and a
// second goroutine start an operation of the same side (enterSide: a Try,
// a blocking or a batch operation, with a done context so that it never
// waits) after a generated number of scheduling points, or once the first
// has parked. Until the main goroutine closes the channel, after the
// second is done, the first stays inside its operations, so the second
// must panic with a chaos.ContractViolation that names the side's marker
// and carries both goroutines' stacks, wherever the first has got to (its
// fast path, its spins, its park).

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/nimsync/nimsync/chaos"
	"github.com/nimsync/nimsync/core"
	"github.com/nimsync/nimsync/sched"
)

// serialSides are the single-sided sides: how to make a channel with one,
// whether it is the senders', and its contract marker.
var serialSides = []struct {
	name  string
	make  func() core.Chan[int]
	send  bool
	point string
}{
	{"SPSC senders", func() core.Chan[int] { return core.NewSPSC[int](1) }, true, "contract/single-sender"},
	{"SPSC receivers", func() core.Chan[int] { return core.NewSPSC[int](1) }, false, "contract/single-receiver"},
	{"SPMC senders", func() core.Chan[int] { return core.NewSPMC[int](1) }, true, "contract/single-sender"},
	{"MPSC receivers", func() core.Chan[int] { return core.NewMPSC[int](1) }, false, "contract/single-receiver"},
}

// serialContractCase is one generated episode. It is JSON in a failure
// artifact.
type serialContractCase struct {
	Side     int    `json:"side"`   // index into serialSides
	Op       int    `json:"op"`     // the second goroutine's operation: 0 Try, 1 blocking, 2 batch (enterSide)
	Settle   bool   `json:"settle"` // the second waits until the first has parked
	Yields   int    `json:"yields"` // else it yields this many times once the first is inside, 0..8
	Strategy string `json:"strategy"`
	Seed     uint64 `json:"seed"`
}

func genSerialContractCase(strategy string) gopter.Gen {
	return gen.Struct(reflect.TypeOf(serialContractCase{}), map[string]gopter.Gen{
		"Side":     gen.IntRange(0, len(serialSides)-1),
		"Op":       gen.IntRange(0, 2),
		"Settle":   gen.Weighted([]gen.WeightedGen{{Weight: 2, Gen: gen.Const(false)}, {Weight: 1, Gen: gen.Const(true)}}),
		"Yields":   gen.IntRange(0, 8),
		"Strategy": genStrategy(strategy),
		"Seed":     gen.UInt64(),
	}).Map(func(c serialContractCase) serialContractCase { return c.norm() })
}

func (c serialContractCase) norm() serialContractCase {
	c.Side, c.Op, c.Yields = min(max(c.Side, 0), len(serialSides)-1), min(max(c.Op, 0), 2), min(max(c.Yields, 0), 8)
	if _, err := sched.ParseStrategy(c.Strategy); err != nil {
		c.Strategy = "random"
	}
	return c
}

func (c serialContractCase) String() string {
	wait := fmt.Sprintf("after %d yields", c.Yields)
	if c.Settle {
		wait = "once the first has parked"
	}
	return fmt.Sprintf("%s, second operation %d %s; %s seed %d", serialSides[c.Side].name, c.Op, wait, c.Strategy, c.Seed)
}

func (c serialContractCase) test() string     { return "TestSerialContract" }
func (c serialContractCase) strategy() string { return c.Strategy }
func (c serialContractCase) episode(r *chaos.Run, a *sched.Artifact) (*sched.Result, string) {
	c = c.norm()
	var why []string
	body := c.body(&why)
	var res *sched.Result
	if a == nil {
		strat, err := sched.ParseStrategy(c.Strategy)
		if err != nil {
			panic(err)
		}
		res = r.Serialize(c.Seed, strat, contractOptions, body)
	} else {
		res = r.ReplaySerial(a, contractOptions, body)
	}
	if res.Failure != nil {
		return res, res.Failure.Error()
	}
	return res, strings.Join(why, "; ")
}

func (c serialContractCase) program() (sched.Options, func() (func(*sched.G), func(*sched.Result) string)) {
	c = c.norm()
	return contractOptions, func() (func(*sched.G), func(*sched.Result) string) {
		var why []string
		return c.body(&why), func(res *sched.Result) string {
			if res.Failure != nil {
				return res.Failure.Error()
			}
			return strings.Join(why, "; ")
		}
	}
}

// contractOptions bounds an episode: two goroutines, one blocking
// operation each at most.
var contractOptions = sched.Options{MaxSteps: 2000, Horizon: 60} // PCT's horizon: about an episode's length (at most 69 steps)

func (c serialContractCase) body(why *[]string) func(*sched.G) {
	side := serialSides[c.Side]
	return func(g *sched.G) {
		ch := side.make()
		inside, holderDone, secondDone := false, false, false
		// The first goroutine is inside its operations from before its
		// first call to after its last return: no scheduling point lies
		// between the flag and the contract marker, nor between the end of
		// the fast TrySend and the start of the Send that waits.
		g.Go(func(*sched.G) {
			inside = true
			holdSide(ch, side.send)
			inside, holderDone = false, true
		})
		g.Go(func(sg *sched.G) {
			defer func() { secondDone = true }()
			sg.Block("wait for the first goroutine to be inside", func() bool { return inside })
			if c.Settle {
				sg.Quiesce("wait for the first goroutine to park")
			} else {
				for range c.Yields {
					sg.Yield("second goroutine")
				}
			}
			if !inside {
				*why = append(*why, "the first goroutine left its operation before the channel was closed")
				return
			}
			v := func() (v any) {
				defer func() { v = recover() }()
				enterSide(ch, side.send, c.Op)
				return nil
			}()
			var cv *chaos.ContractViolation
			switch err, _ := v.(error); {
			case !errors.As(err, &cv):
				*why = append(*why, fmt.Sprintf("a second goroutine on the side went unreported while the first was inside (it ended with %v)", v))
			case cv.Point != side.point:
				*why = append(*why, fmt.Sprintf("reported as %s, want %s", cv.Point, side.point))
			case !strings.Contains(cv.First, "holdSide") || !strings.Contains(cv.Second, "enterSide"):
				*why = append(*why, "the report lacks the stack of the goroutine inside (holdSide) or of the newcomer (enterSide)")
			}
		})
		g.Block("wait for the second goroutine", func() bool { return secondDone })
		if err := ch.Close(); err != nil {
			*why = append(*why, fmt.Sprintf("Close returned %v", err))
		}
		g.Block("wait for the first goroutine", func() bool { return holderDone })
	}
}

// TestSerialContract: property 11 (serial_contract_test.go), the single-side
// contract check under the serialized mode.
func TestSerialContract(t *testing.T) {
	serialProperty[serialContractCase](t, "a second goroutine on a single side is reported wherever the first is inside its operation", genSerialContractCase)
}
