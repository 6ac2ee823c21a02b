//go:build chaos

package chaos

import "github.com/nimsync/nimsync/core"

// applyTuning sets core's tuning knobs to m, the rest to their defaults
// (nil: all of them). A chaos build compiles them as variables.
func applyTuning(m map[string]int) error { return core.SetTuning(m) }

// checkBugs accepts any planted bugs: a chaos build compiles them in.
func checkBugs(map[string]Action) error { return nil }

// serialBuild: a chaos build compiles core's step markers in (the
// serialized mode, serial.go).
const serialBuild = true

func setStepMarkers(on bool) { core.SetStepMarkers(on) }
