//go:build chaos

package core

import (
	"errors"
	"time"
)

// A chaos build: every tuning knob is a variable, its default until
// SetTuning changes it (tuning.go; invariant 2 says when it may).
var (
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

// knobVars maps each knob's name (tuning.go's table) to its variable.
var knobVars = map[string]*int{
	"group/range-chunk": &rangeChunk,
	"group/range-split": &rangeSplit,
	"park/active-spins": &activeSpins,
	"park/max-level":    &maxLevel,
	"park/max-shift":    &maxShift,
	"park/park-first":   &parkFirst,
	"park/spin-shift":   &spinShift,
	"park/yield-spins":  &yieldSpins,
	"pool/batch-max":    &batchMax,
	"pool/min-queue":    &minQueue,
}

// knobDurations maps the duration knobs, whose values are in µs.
var knobDurations = map[string]*time.Duration{
	"pool/idle-timeout-us": &idleTimeout,
	"pool/monitor-tick-us": &monitorTick,
	"pool/short-tick-us":   &shortTick,
}

// quietWait bounds how long SetTuning waits for the task pool to be quiet.
const quietWait = 5 * time.Second

// ErrPoolBusy is returned by SetTuning when the task pool did not become
// quiet within its wait. It exists only in a chaos build.
var ErrPoolBusy = errors.New("core: SetTuning: the task pool is still busy after 5s (tasks queued, workers searching or the monitor running): tune only while no core work runs")

// SetTuning sets core's tuning knobs: each knob named in m to its value,
// every other knob to its default, so SetTuning(nil) restores the defaults.
// It exists only in a chaos build (-tags chaos); a plain build keeps its
// constants. Package chaos calls it with a fault plan's tuning in Start and
// with nil in Stop.
//
// The code that reads a knob does so without synchronization (tuning.go,
// invariant 2), so SetTuning must be called while no channel operation,
// group task or GoRange runs. It waits, polling, until the task pool is
// quiet (no task queued, no worker searching the queue, the monitor
// stopped) and then writes the knobs under the pool's lock, which the
// pool's goroutines take before they next read one. It changes nothing and
// returns an error if m names an unknown knob or a value out of range
// ([CheckTuning]), or [ErrPoolBusy] if the pool is not quiet within 5 s.
// It costs a lock, and a wait of up to a few monitor ticks after a burst
// of tasks.
func SetTuning(m map[string]int) error {
	if err := CheckTuning(m); err != nil {
		return err
	}
	vals := defaultTuning()
	for name, v := range m {
		vals[name] = v
	}
	p := tasks
	for start := time.Now(); ; {
		p.mu.Lock()
		if p.n == 0 && p.searching == 0 && !p.monitoring {
			break // still locked
		}
		p.mu.Unlock()
		if time.Since(start) > quietWait {
			return ErrPoolBusy
		}
		time.Sleep(50 * time.Microsecond)
	}
	for name, v := range vals {
		if ptr, ok := knobVars[name]; ok {
			*ptr = v
		} else {
			*knobDurations[name] = time.Duration(v) * time.Microsecond
		}
	}
	p.shrinkLocked() // minQueue may be lower (pool.go, invariant 8)
	p.mu.Unlock()
	return nil
}

// Tuning returns the values of core's tuning knobs in effect, by name (see
// [Knobs]). It takes the pool's lock, under which SetTuning writes them,
// and allocates the map.
func Tuning() map[string]int {
	tasks.mu.Lock()
	defer tasks.mu.Unlock()
	m := make(map[string]int, len(knobs))
	for name, ptr := range knobVars {
		m[name] = *ptr
	}
	for name, ptr := range knobDurations {
		m[name] = micros(*ptr)
	}
	return m
}
