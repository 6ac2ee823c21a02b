//go:build !chaos

package chaos_test

import (
	"testing"

	"github.com/nimsync/nimsync/chaos"
	"github.com/stretchr/testify/require"
)

// In a plain build core has no failpoint code, and Start says so instead of
// running a "chaos" run that injects nothing.
func TestStartWithoutFailpoints(t *testing.T) {
	r, err := chaos.Start(chaos.NewPlan(1))
	require.ErrorIs(t, err, chaos.ErrNoFailpoints)
	require.Nil(t, r)
	// and it leaves nothing active: a second attempt says the same
	_, err = chaos.Start(chaos.NewPlan(2))
	require.ErrorIs(t, err, chaos.ErrNoFailpoints)
}
