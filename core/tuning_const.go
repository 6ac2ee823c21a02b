//go:build !chaos

package core

// A plain build: every tuning knob is its default, a typed constant
// (tuning.go), so the code that reads one costs what a literal would.
const (
	activeSpins = defaultActiveSpins
	yieldSpins  = defaultYieldSpins
	spinShift   = defaultSpinShift
	maxShift    = defaultMaxShift
	maxLevel    = defaultMaxLevel
	parkFirst   = defaultParkFirst

	batchMax    = defaultBatchMax
	idleTimeout = defaultIdleTimeout
	monitorTick = defaultMonitorTick
	shortTick   = defaultShortTick
	minQueue    = defaultMinQueue

	rangeChunk = defaultRangeChunk
	rangeSplit = defaultRangeSplit
)

// Tuning returns the values of core's tuning knobs in effect, by name (see
// [Knobs]): in a plain build, always their defaults. It allocates the map.
func Tuning() map[string]int { return defaultTuning() }
