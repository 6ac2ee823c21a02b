//go:build !chaos

package chaos

import (
	"testing"

	"github.com/nimsync/nimsync/core"
	"github.com/stretchr/testify/require"
)

// Without -tags chaos core's knobs are constants: a tuning that changes
// none of them is accepted, any other is refused rather than ignored.
func TestApplyTuningWithoutChaosTag(t *testing.T) {
	require.NoError(t, applyTuning(nil))
	require.NoError(t, applyTuning(core.Tuning()))
	err := applyTuning(map[string]int{"pool/batch-max": 1})
	require.ErrorContains(t, err, "pool/batch-max = 1")
	require.ErrorContains(t, err, "-tags chaos")
}
