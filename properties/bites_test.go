package properties_test

import (
	"context"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/prop"
	"github.com/nimsync/nimsync/core"
	"github.com/stretchr/testify/require"
)

// swapChan is a broken channel: it holds back every 5th value a sender
// sends and sends it after the next one, so one sender's values arrive out
// of order. The linearizability check must reject its histories.
type swapChan struct {
	core.Chan[int]
	held *int
	n    int
}

func (c *swapChan) Send(ctx context.Context, v int) error {
	c.n++
	if c.held == nil && c.n%5 == 0 {
		c.held = &v
		return nil
	}
	if err := c.Chan.Send(ctx, v); err != nil {
		return err
	}
	if h := c.held; h != nil {
		c.held = nil
		return c.Chan.Send(ctx, *h)
	}
	return nil
}

// TestLinearizabilityCheckBites: the model and the recording catch a queue
// that reorders one sender's values (a test that cannot fail proves nothing).
func TestLinearizabilityCheckBites(t *testing.T) {
	progs := [][]step{make([]step, 40), make([]step, 40)}
	for i := range progs[1] {
		progs[1][i] = step{Kind: kRecv}
	}
	c := &swapChan{Chan: core.NewMPMC[int](64)}
	ops, err := runEpisode(c, progs)
	require.NoError(t, err)
	res, _ := porcupine.CheckOperationsVerbose(fifoModel(c.Cap()), ops, 10*time.Second)
	require.Equal(t, porcupine.Illegal, res)

	// And the same programs on a real channel pass.
	ops, err = runEpisode(core.NewMPMC[int](64), progs)
	require.NoError(t, err)
	res, _ = porcupine.CheckOperationsVerbose(fifoModel(64), ops, 10*time.Second)
	require.Equal(t, porcupine.Ok, res)
}

// TestShrinkingFindsSmallEpisode: a failing episode of 2×60 generated
// operations shrinks to the few that show the bug: swapChan holds back the
// fifth Send, so five Sends and the receives that miss its value are enough
// (8 operations in the run of the development machine).
func TestShrinkingFindsSmallEpisode(t *testing.T) {
	params := gopter.DefaultTestParametersWithSeed(1)
	params.MinSuccessfulTests = 20
	params.Workers = 1
	params.MaxShrinkCount = 2000
	p := prop.ForAll(func(progs [][]step) bool {
		c := &swapChan{Chan: core.NewMPMC[int](64)}
		ops, err := runEpisode(c, progs)
		if err != nil {
			return false
		}
		return porcupine.CheckOperationsTimeout(fifoModel(c.Cap()), ops, 10*time.Second) != porcupine.Illegal
	}, genPrograms(1, 1, 60, 4))
	res := p.Check(params)
	require.False(t, res.Passed(), "the property must catch swapChan")
	require.Len(t, res.Args, 1)
	orig, shrunk := res.Args[0].OrigArg.([][]step), res.Args[0].Arg.([][]step)
	size := func(ps [][]step) int { return len(ps[0]) + len(ps[1]) }
	t.Logf("shrunk in %d steps from %d operations to %d: sender %v, receiver %v",
		res.Args[0].Shrinks, size(orig), size(shrunk), shrunk[0], shrunk[1])
	require.Equal(t, 120, size(orig))
	require.LessOrEqual(t, size(shrunk), 16, "the counterexample shrinks to a handful of operations")
}

// TestShrinkTree: a tree shrinks field by field down to the smallest one.
func TestShrinkTree(t *testing.T) {
	tr := tree{Depth: 3, Fanout: 3, Tasks: 8, CancelAfter: 3 * time.Millisecond, FailAt: 5}
	for steps := 0; ; steps++ {
		next, ok := shrinkTree(tr)()
		if !ok {
			break
		}
		require.Less(t, steps, 50)
		tr = next.(tree)
	}
	require.Equal(t, tree{Depth: 1, Fanout: 1, Tasks: 1, FailAt: -1}, tr)
}

// TestUndecidedIsNotShrunk: gopter shrinks after an undecided result and
// follows undecided candidates; the harness skips those candidates, so an
// inconclusive case costs one check, not a shrink of hundreds (which once
// took a CI run past its timeout).
func TestUndecidedIsNotShrunk(t *testing.T) {
	params := gopter.DefaultTestParametersWithSeed(3)
	params.MinSuccessfulTests = 5
	params.MaxDiscardRatio = 2
	params.Workers = 1
	params.MaxShrinkCount = 200
	firstFailure, afterUndecided = time.Time{}, false
	checks := 0
	p := prop.ForAll(func(progs [][]step) *gopter.PropResult {
		if skipShrink() {
			return gopter.NewPropResult(true, "")
		}
		checks++
		return undecided()
	}, fresh(genPrograms(1, 1, 40, 2)))
	res := p.Check(params)
	require.Equal(t, gopter.TestExhausted, res.Status, "only undecided cases: gopter gives up")
	require.LessOrEqual(t, checks, 20, "one check per generated case, none per shrink candidate")
}
