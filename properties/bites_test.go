package properties_test

import (
	"context"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
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
