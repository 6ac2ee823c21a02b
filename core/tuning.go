package core

// Tuning: core's magic numbers, in one table. The spin policy's counts and
// shifts and the bounds of the adaptive spin level (park.go, ops.go), the
// task pool's batch size, monitor ticks, idle timeout and minimum queue
// (pool.go), and GoRange's chunking (group_range.go).
//
// A plain build compiles each knob as a typed constant (tuning_const.go):
// the code that reads one costs what a literal would. A chaos build
// (-tags chaos, with failpoints: scripts/chaos-test, scripts/nimsync)
// compiles each as a variable (tuning_chaos.go), which SetTuning sets to
// values a fault plan's seed chose, as CockroachDB's metamorphic constants
// are: package chaos draws them in NewPlan, logs them with the plan and
// applies them for a run, so that the harness drives paths the defaults
// rarely take: parking at once, never spinning, batches of one, workers
// that exit as soon as they park, GoRange chunks of one.
//
// Invariants:
//
//  1. Every value in its knob's [Min, Max] (and a power of two where the
//     knob says so) keeps the invariants of park.go and pool.go; the ranges
//     encode what those need. batchMax <= 0xffff: a batch's next index and
//     length are 16 bits of the claim word (pool.go, invariant 3).
//     minQueue is a power of two: the queue's ring indexes by mask.
//     parkFirst <= 0 <= maxLevel: a side's spin level starts at 0, between
//     the bounds. monitorTick > 0 and shortTick > 0: a monitor that never
//     slept would hold a P (either may exceed the other: the monitor wakes
//     every min(shortTick, monitorTick)). idleTimeout <= 100 ms: idle
//     workers exit inside goleak's retries.
//     SetTuning refuses anything else (CheckTuning).
//  2. A knob changes only while core is quiet, so that plain reads of it
//     never race with its write: SetTuning writes under the pool's lock,
//     and only once no worker searches the queue, the monitor has stopped
//     and no task is queued; every pool goroutine reads the knobs only
//     while it holds that lock, while it is counted as searching, or while
//     it is the monitor (a parked worker takes its idle timeout under the
//     lock before it parks). Channel operations and GoRange read them
//     without any synchronization: SetTuning's caller makes sure none is in
//     progress (package chaos calls it in Start, before a test's body, and
//     in Stop, after it).

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// The defaults: the knobs of a plain build.
const (
	// Spin policy (park.go). Before parking, an operation that would block
	// busy-waits activeSpins rounds, the first of 2^(spinShift+level) loop
	// iterations and round i of 2^(spinShift+i), each capped at 2^maxShift
	// (about a microsecond), then yields yieldSpins times.
	defaultActiveSpins int = 4
	defaultYieldSpins  int = 2
	defaultSpinShift   int = 5
	defaultMaxShift    int = 12
	// The adaptive spin level's bounds: it grows to maxLevel while waits
	// end with more than one value ready, and shrinks to parkFirst, the
	// level at which a side skips the busy rounds, while they end with one.
	defaultMaxLevel  int = 6
	defaultParkFirst int = -1

	// The task pool (pool.go).
	//
	// batchMax is the most tasks a worker takes from the queue at once. It
	// takes half the queue, so that other workers find work too.
	defaultBatchMax int = 64
	// idleTimeout is how long a parked worker lingers before it exits. It
	// is shorter than goleak's default retry budget (about 0.4 s), so a
	// leak check that runs after a group's Wait sees the workers gone.
	defaultIdleTimeout = 100 * time.Millisecond
	// monitorTick is how often the monitor checks for progress: queued
	// tasks wait at most a tick in which no task starts before each gets a
	// goroutine (pool.go's liveness rule). It is longer than the
	// scheduler's 10 ms time slice, so that CPU-bound tasks of up to a tick
	// keep GOMAXPROCS workers claiming tasks and never make the pool grow.
	defaultMonitorTick = 20 * time.Millisecond
	// shortTick is how often the monitor wakes, while it runs, to read the
	// scheduler's counts (about 70 ns a read on the 2-core development VM);
	// two wakes in a row that find a permanent worker blocked with a P idle
	// make a stalled tick (pool.go's liveness rule). So tasks queued behind
	// workers that wait on I/O, Go channels, locks or timers wait about two
	// short ticks for goroutines of their own: at 200 µs, short beside the
	// millisecond or more of an I/O call, for 5000 wakes a second. (While
	// the process is otherwise idle, Go's timers fire on the millisecond,
	// so a wake then comes about a millisecond after the last.)
	defaultShortTick = 200 * time.Microsecond
	// minQueue is the queue capacity the pool shrinks back to when idle
	// (a power of two).
	defaultMinQueue int = 256

	// GoRange (group_range.go) splits n items into chunks of
	// n/(rangeSplit*GOMAXPROCS) items, at least 1 and at most rangeChunk.
	defaultRangeChunk int = 256
	defaultRangeSplit int = 8
)

// Knob is one of core's tuning constants, as [Knobs] lists it for the chaos
// harness. A plain build compiles every knob as the constant Default; a
// chaos build lets SetTuning (chaos builds only) set it to any value in
// [Min, Max]. Durations are in microseconds, and their names end in "-us".
type Knob struct {
	Name       string // "file/knob", e.g. "pool/batch-max"
	Default    int
	Min, Max   int  // inclusive
	PowerOfTwo bool // the value must be a power of two
}

// knobs is the table behind Knobs, sorted by name.
var knobs = []Knob{
	{Name: "group/range-chunk", Default: defaultRangeChunk, Min: 1, Max: 4096},
	{Name: "group/range-split", Default: defaultRangeSplit, Min: 1, Max: 64},
	{Name: "park/active-spins", Default: defaultActiveSpins, Min: 0, Max: 8},
	{Name: "park/max-level", Default: defaultMaxLevel, Min: 0, Max: 10},
	{Name: "park/max-shift", Default: defaultMaxShift, Min: 0, Max: 14},
	{Name: "park/park-first", Default: defaultParkFirst, Min: -8, Max: 0},
	{Name: "park/spin-shift", Default: defaultSpinShift, Min: 0, Max: 8},
	{Name: "park/yield-spins", Default: defaultYieldSpins, Min: 0, Max: 8},
	{Name: "pool/batch-max", Default: defaultBatchMax, Min: 1, Max: 1024},
	{Name: "pool/idle-timeout-us", Default: micros(defaultIdleTimeout), Min: 0, Max: micros(defaultIdleTimeout)},
	{Name: "pool/min-queue", Default: defaultMinQueue, Min: 1, Max: 4096, PowerOfTwo: true},
	{Name: "pool/monitor-tick-us", Default: micros(defaultMonitorTick), Min: 10, Max: micros(defaultMonitorTick)},
	{Name: "pool/short-tick-us", Default: micros(defaultShortTick), Min: 10, Max: micros(defaultShortTick)},
}

func micros(d time.Duration) int { return int(d / time.Microsecond) }

// Knobs returns core's tuning knobs, sorted by name: the magic numbers of
// the spin policy, the task pool and GoRange, with their defaults and the
// ranges a chaos build accepts. It allocates a copy of the table.
func Knobs() []Knob { return slices.Clone(knobs) }

// CheckTuning reports an error for an unknown knob name in m, or a value
// outside its knob's range (or not a power of two where it must be). A nil
// or empty m is valid: every knob keeps its default.
func CheckTuning(m map[string]int) error {
	names := make([]string, 0, len(m))
	for name := range m {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		v := m[name]
		i, ok := slices.BinarySearchFunc(knobs, name, func(k Knob, name string) int { return strings.Compare(k.Name, name) })
		if !ok {
			known := make([]string, len(knobs))
			for j, k := range knobs {
				known[j] = k.Name
			}
			return fmt.Errorf("core: unknown tuning knob %q (known: %s)", name, strings.Join(known, ", "))
		}
		k := knobs[i]
		if v < k.Min || v > k.Max {
			return fmt.Errorf("core: tuning knob %q: %d is outside [%d, %d]", name, v, k.Min, k.Max)
		}
		if k.PowerOfTwo && v&(v-1) != 0 {
			return fmt.Errorf("core: tuning knob %q: %d is not a power of two", name, v)
		}
	}
	return nil
}

// defaultTuning returns every knob's default, by name.
func defaultTuning() map[string]int {
	m := make(map[string]int, len(knobs))
	for _, k := range knobs {
		m[k.Name] = k.Default
	}
	return m
}
