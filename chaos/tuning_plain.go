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

// checkBugs, in a build without the chaos tag, refuses a plan that plants
// bugs: core compiles its planted bugs in only with the tag (planted_off.go),
// so the plan's bugs could not act and a self-test would pass for nothing.
func checkBugs(bugs map[string]Action) error {
	if len(bugs) > 0 {
		return fmt.Errorf("chaos: the plan plants bugs, but this build has none compiled in: build with -tags chaos as well as failpoints (scripts/chaos-test)")
	}
	return nil
}

// serialBuild: without the chaos tag core has no step markers, and the
// serialized mode cannot run (serial.go).
const serialBuild = false

func setStepMarkers(bool) {}
