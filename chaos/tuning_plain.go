//go:build !chaos

package chaos

import (
	"fmt"

	"github.com/nimsync/nimsync/core"
)

// applyTuning, in a build without the chaos tag, where core's tuning knobs
// are constants, accepts only a tuning that changes none of them: a plan
// that tunes core must not pass for applied. (A plain build fails Start
// earlier, with ErrNoFailpoints; this is a failpoint build made without
// -tags chaos.)
func applyTuning(m map[string]int) error {
	for _, k := range core.Knobs() {
		if v, ok := m[k.Name]; ok && v != k.Default {
			return fmt.Errorf("the plan tunes core (%s = %d), but this build compiled core's knobs as constants: build with -tags chaos as well as failpoints (scripts/chaos-test, scripts/nimsync)", k.Name, v)
		}
	}
	return nil
}
