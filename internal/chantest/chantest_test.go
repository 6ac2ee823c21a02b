package chantest_test

import (
	"fmt"
	"testing"

	"github.com/nimsync/nimsync/core"
	"github.com/nimsync/nimsync/internal/chantest"
	"github.com/stretchr/testify/require"
)

func TestFlavors(t *testing.T) {
	for i, f := range chantest.Flavors {
		require.Equal(t, chantest.Flavor(i), f, "a drawn index is the flavor")
		c := f.New(3)
		require.Equal(t, 4, c.Cap(), "%s: capacity rounds up to a power of two", f)
		require.Equal(t, "*core."+f.Type()+"[int]", fmt.Sprintf("%T", c))
		require.Equal(t, f.MultiSend(), f.Allows(2, 1), f.String())
		require.Equal(t, f.MultiRecv(), f.Allows(1, 2), f.String())
		require.True(t, f.Allows(1, 1), f.String())
		require.Equal(t, map[bool]int{false: 1, true: 5}[f.MultiSend()], f.Senders(5), f.String())
		require.Equal(t, map[bool]int{false: 1, true: 5}[f.MultiRecv()], f.Receivers(5), f.String())
		require.True(t, f.WithMultiSend().MultiSend() && f.WithMultiSend().MultiRecv() == f.MultiRecv(), f.String())
		require.True(t, f.WithMultiRecv().MultiRecv() && f.WithMultiRecv().MultiSend() == f.MultiSend(), f.String())
		require.NoError(t, c.Close())
	}
	var _ core.Chan[string] = chantest.New[string](chantest.MPMC, 1)
	require.Equal(t, "spsc mpsc spmc mpmc", fmt.Sprint(chantest.SPSC, chantest.MPSC, chantest.SPMC, chantest.MPMC))
}
