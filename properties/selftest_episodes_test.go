//go:build chaos

package properties_test

// The self-test's episodes (selftest_test.go): one check of a property per
// seed, each named after the property, chaos test or scenario it runs.

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/commands"
	"github.com/nimsync/nimsync/chaos"
	"github.com/nimsync/nimsync/core"
	"github.com/nimsync/nimsync/internal/chantest"
	"github.com/nimsync/nimsync/scenarios"
)

// episode is one check of a property: run checks it for seed and reports
// whether it found a violation, and what; prop names the property, chaos
// test or scenario (as RULES.md does), which the rule of the planted bug
// must name as a check.
type episode struct {
	prop string
	run  func(seed uint64) (caught bool, why string)
}

// linearizabilityEpisode checks one generated episode on flavor f.
func linearizabilityEpisode(f chantest.Flavor, capacity, senders, receivers, ops int) episode {
	return episode{"TestLinearizable", func(seed uint64) (bool, string) {
		p := gopter.DefaultGenParameters()
		p.Rng = rand.New(rand.NewSource(int64(seed >> 1)))
		v, ok := genPrograms(senders, receivers, ops/(senders+receivers), 2)(p).Retrieve()
		if !ok {
			return false, "no programs generated"
		}
		c := f.New(capacity)
		hist, err := runEpisode(c, v.([][]step))
		if err != nil {
			return true, err.Error()
		}
		if res := porcupine.CheckOperationsTimeout(fifoModel(c.Cap()), hist, 10*time.Second); res == porcupine.Illegal {
			return true, "not linearizable"
		}
		return false, ""
	}}
}

// deliveryEpisode runs one exactly-once delivery on flavor f, of a
// seed-chosen number of values (up to values per sender) in seed-chosen
// batches.
func deliveryEpisode(f chantest.Flavor, capacity, senders, receivers, values int) episode {
	return episode{"TestExactlyOnceAndOrder", func(seed uint64) (bool, string) {
		r := rand.New(rand.NewSource(int64(seed >> 1)))
		n, sb, rb := 1+r.Intn(values), 1+r.Intn(64), 1+r.Intn(64)
		if err := deliver(f.New(capacity), f.Senders(senders), f.Receivers(receivers), n, sb, rb); err != nil {
			return true, err.Error()
		}
		return false, ""
	}}
}

// cleanupEpisode checks one generated tree of groups and scopes cancelled
// under load.
var cleanupEpisode = episode{"TestCleanupUnderCancellation", func(seed uint64) (bool, string) {
	p := gopter.DefaultGenParameters()
	p.Rng = rand.New(rand.NewSource(int64(seed >> 1)))
	v, _ := genTree(3)(p).Retrieve()
	ok, why := cleanupHolds(v.(tree))
	return !ok, why
}}

// modelEpisode checks 25 generated command sequences of a model-based
// property (no shrinking: the self-test wants the catch, not the smallest
// counterexample). Each episode starts the shrink budget's clock afresh,
// as checkProps does: a failure of an earlier episode must not make this
// one's commands shrink candidates past their budget (skipShrink), which
// would skip them all.
func modelEpisode(prop string, cmds func() *commands.ProtoCommands) episode {
	return episode{prop, func(seed uint64) (bool, string) {
		firstFailure, afterUndecided = time.Time{}, false
		params := gopter.DefaultTestParametersWithSeed(int64(seed >> 1))
		params.MinSuccessfulTests = 25
		params.MaxShrinkCount = 0
		params.Workers = 1
		res := commands.Prop(cmds()).Check(params)
		if res.Passed() {
			return false, ""
		}
		return true, strings.Join(res.Labels, "; ")
	}}
}

// contractEpisode checks chaos.TestContractChecks' rule on a seed-chosen
// single-sided side (either side of SPSC, MPSC's receivers, SPMC's
// senders): while one goroutine is parked inside a blocking operation of
// that side, a seed-chosen operation of the same side from another
// goroutine (a Try, a blocking or a batch operation, with a done context
// so that it never waits) must panic with a chaos.ContractViolation that
// names the side's marker and carries both goroutines' stacks.
var contractEpisode = episode{"chaos.TestContractChecks", contractRun}

func contractRun(seed uint64) (bool, string) {
	r := rand.New(rand.NewSource(int64(seed >> 1)))
	sides := []struct {
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
	side := sides[r.Intn(len(sides))]
	op := r.Intn(3)
	c := side.make()
	base := core.ReadStats().ParkedWaiters
	first := make(chan struct{})
	go func() {
		defer close(first)
		holdSide(c, side.send)
	}()
	defer func() {
		_ = c.Close() // releases the first goroutine
		<-first
	}()
	if !waitUntil(settleBound, func() bool { return core.ReadStats().ParkedWaiters > base }) {
		return true, fmt.Sprintf("%s: the blocking operation did not park within %v", side.name, settleBound)
	}
	v := make(chan any)
	go func() {
		defer func() { v <- recover() }()
		enterSide(c, side.send, op)
	}()
	what := fmt.Sprintf("%s, second operation %d", side.name, op)
	var cv *chaos.ContractViolation
	switch err, _ := (<-v).(error); {
	case !errors.As(err, &cv):
		return true, fmt.Sprintf("%s: a second goroutine on the side went unreported (it ended with %v)", what, err)
	case cv.Point != side.point:
		return true, fmt.Sprintf("%s: reported as %s, want %s", what, cv.Point, side.point)
	case !strings.Contains(cv.First, "holdSide") || !strings.Contains(cv.Second, "enterSide"):
		return true, fmt.Sprintf("%s: the report lacks the stack of the goroutine inside (holdSide) or of the newcomer (enterSide):\n%s", what, cv)
	}
	return false, ""
}

// holdSide blocks in an operation of one side of c (capacity 1): a Send on
// the full channel, or a Recv on the empty one, until c is closed.
func holdSide(c core.Chan[int], send bool) {
	if send {
		_ = c.TrySend(0)
		_ = c.Send(context.Background(), 1)
		return
	}
	_, _ = c.Recv(context.Background())
}

// enterSide runs operation op (Try, blocking, batch) of one side of c with
// a done context.
func enterSide(c core.Chan[int], send bool, op int) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	switch {
	case send && op == 0:
		_ = c.TrySend(2)
	case send && op == 1:
		_ = c.Send(ctx, 2)
	case send:
		_, _ = c.SendBatch(ctx, []int{2, 3})
	case op == 0:
		_, _ = c.TryRecv()
	case op == 1:
		_, _ = c.Recv(ctx)
	default:
		_, _ = c.RecvBatch(ctx, make([]int, 4))
	}
}

// nestedGroupsEpisode runs the nested-groups scenario at its smallest
// scale (three rounds of trees of groups cancelled from the middle and
// from the root) and reports a violation of its invariants ("bottom-up",
// "Wait waits", ...). Its final leak check is left out: it reads the
// runtime's global counters, which bugs planted before may have skewed for
// good (plantedSkew).
var nestedGroupsEpisode = episode{"nested-groups", nestedGroupsRun}

func nestedGroupsRun(seed uint64) (bool, string) {
	sc, _ := scenarios.Lookup("nested-groups")
	failed := make(chan error, 1)
	res := make(chan error, 1)
	go func() {
		res <- sc.Run(context.Background(), scenarios.Config{Seed: seed, Scale: 0.01, Fail: func(err error) {
			select {
			case failed <- err:
			default:
			}
		}})
	}()
	var err error
	select {
	case err = <-res:
	case err = <-failed:
	case <-time.After(20 * time.Second):
		return true, "nested-groups did not end within 20 s"
	}
	var v *scenarios.Violation
	if err == nil || errors.As(err, &v) && v.Invariant == "no leak" {
		return false, ""
	}
	return true, err.Error()
}

var (
	groupModelEpisode = modelEpisode("TestGroupModel", groupCommands)
	scopeModelEpisode = modelEpisode("TestScopeModel", scopeCommands)
)
