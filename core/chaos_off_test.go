//go:build !chaos

package core_test

// chaosBuild says whether core was built with -tags chaos (tuning knobs as
// variables: tuning_chaos.go).
const chaosBuild = false
