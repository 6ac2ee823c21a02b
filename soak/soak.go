// Package soak runs nimsync's stress scenarios for a duration (or a number
// of runs) under seeded fault plans, samples throughput, latency and the
// process's state over time, watches for stalls and leaks, and produces a
// [report.Report]. The nimsync command's soak, run and repro subcommands are
// thin layers over it.
//
// A soak is a sequence of runs k = 0, 1, 2, ...: run k's scenario and seed
// are pure functions of the soak's seed and k (see [Sequence]), so a run
// replays from (seed, k) alone, and shard i of n runs exactly the k with
// k mod n == i.
package soak

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/nimsync/nimsync/chaos"
	"github.com/nimsync/nimsync/internal/reportkit"
	"github.com/nimsync/nimsync/report"
	"github.com/nimsync/nimsync/scenarios"
	"github.com/nimsync/nimsync/sched"
)

// Config is a soak's parameters. The zero value of every field but
// Scenarios has a meaning, given with the field.
type Config struct {
	// Duration bounds the soak's wall time; 0 means no bound (Runs must
	// then be set). A run in progress when it ends sees its context end
	// and stops between two of its rounds; one still going Grace later is
	// cut as a failure (kind "overrun"), so the soak ends by Duration +
	// Grace whatever its runs do.
	Duration time.Duration
	// Grace is how long a run may go on past Duration (default 30 s).
	Grace time.Duration
	// Runs bounds the number of runs of the whole (unsharded) sequence:
	// the soak ends after the runs k < Runs of its shard. 0 means no
	// bound.
	Runs int
	// Seed chooses the sequence of scenarios and their seeds and fault
	// plans.
	Seed uint64
	// Scenarios are the scenarios to draw from (all of them if empty).
	Scenarios []scenarios.Scenario
	// Scale is passed to every scenario (0 means 1).
	Scale float64
	// Chaos switches a swarm fault plan, derived from each run's seed, on
	// for the run. It needs a failpoint-enabled build (scripts/nimsync);
	// otherwise Run returns chaos.ErrNoFailpoints.
	Chaos bool
	// Plan, if set, is the fault plan of every run instead of the swarm
	// plan of its seed: repro replays an artifact's plan, and tests plant
	// bugs with it. It implies Chaos.
	Plan *chaos.Plan
	// Sched, if set, runs every run in the serialized mode (serial.go):
	// one goroutine at a time under the seeded scheduler with this
	// strategy ("random", "pct:D"; sched.ParseStrategy), seeded with the
	// run's seed, so that a failing run replays exactly from the schedule
	// its artifact keeps. It needs a failpoint-enabled build, like Chaos,
	// but not Chaos: without it the runs have no fault plan. Serialized
	// runs are one to two orders of magnitude slower than free-running
	// ones: use small scales (0.01 to 0.1).
	//
	// Sched "swarm" or "swarm:LIST" (ParseSwarm) is a swarm over
	// strategies: each run draws its own from its seed (SwarmDraw) among
	// the members, Free (free-running, under the run's fault plan: it
	// needs Chaos) and the serialized strategies (under the fault plan
	// if Chaos). The run's report entry, failure and artifact record the
	// strategy it drew.
	Sched string
	// Schedule, if set, is replayed by every run instead of a strategy's
	// choices (Repro of a serialized run's artifact); it implies Sched.
	Schedule *sched.Artifact
	// Shard and Shards select this process's share: the runs k with
	// k mod Shards == Shard. Shards 0 means 1.
	Shard, Shards int
	// Out is the report's directory; "" writes no report and no
	// artifacts.
	Out string
	// Sample is the sampling interval (default 1 s).
	Sample time.Duration
	// Stall is how long the operation count of a run may stand still
	// before the watchdog fails the soak (default 30 s). The watchdog also
	// cuts a run past its scenario's Budget at Scale: more operations than
	// the budget (kind "runaway") or more time (kind "overrun").
	Stall time.Duration
	// Progress receives the live progress display (a terminal) or
	// periodic log lines; nil means none. Terminal selects the display.
	Progress io.Writer
	Terminal bool
	// Metrics, if set, is updated live (see NewMetrics).
	Metrics *Metrics
	// Replay, if set, makes every run the same step: its scenario and
	// seed (Scenarios and Seed are then ignored). Repro uses it.
	Replay *Step
	// ReproCommand renders the command that replays an artifact
	// directory; the default is "scripts/nimsync repro DIR".
	ReproCommand func(dir string) string
	// Flags, if set, are the command line's flags (every one, by name,
	// with its value), recorded in the report so that it says what it
	// tested; Lane names the series of nights the soak belongs to
	// (report.Report.Lane).
	Flags map[string]string
	Lane  string
}

// ErrStalled is returned (wrapped) when the watchdog saw no progress for
// Config.Stall (perhaps after one of the run's goroutines panicked). The
// stalled run's goroutines are still blocked: the caller should report and
// exit.
var ErrStalled = errors.New("soak: stalled")

// ErrOverrun is returned (wrapped) when the watchdog cut a run that went
// past one of its bounds: its budget of operations (a runaway), its time
// budget, or the soak's Duration plus Grace. The run's goroutines may still
// be running: the caller should report and exit.
var ErrOverrun = errors.New("soak: a run overran its bound")

// ErrReport is returned (wrapped) when the report could not be written: the
// soak's verdict is then unknown to whoever reads --out.
var ErrReport = errors.New("soak: writing the report")

// Step is one run of a soak's sequence.
type Step struct {
	K        int    // index in the sequence
	Scenario string // scenario name
	Seed     uint64 // the run's seed: scenario shape and fault plan
	// strategy is how the run runs, set by the soak: "" free-running,
	// else a serialized strategy (Config.Sched's, or a swarm's draw).
	strategy string
}

// Sequence returns the runs k in [from, to) of the sequence of seed over
// names, as a soak with that seed draws them: run k's scenario and seed
// depend only on (seed, k).
func Sequence(seed uint64, names []string, from, to int) []Step {
	out := make([]Step, 0, max(to-from, 0))
	for k := from; k < to; k++ {
		out = append(out, step(seed, names, k))
	}
	return out
}

func step(seed uint64, names []string, k int) Step {
	r := rand.New(rand.NewPCG(seed, uint64(k)))
	return Step{K: k, Scenario: names[r.IntN(len(names))], Seed: r.Uint64() >> 1}
}

func (c *Config) defaults() error {
	if len(c.Scenarios) == 0 {
		c.Scenarios = scenarios.All
	}
	c.Scenarios = canonical(c.Scenarios)
	if math.IsNaN(c.Scale) || math.IsInf(c.Scale, 0) || c.Scale < 0 {
		return fmt.Errorf("soak: scale %v: want a finite non-negative number", c.Scale)
	}
	if c.Shards == 0 {
		c.Shards = 1
	}
	if c.Shard < 0 || c.Shard >= c.Shards {
		return fmt.Errorf("soak: shard %d/%d: the index must be in [0, %d)", c.Shard, c.Shards, c.Shards)
	}
	if c.Duration <= 0 && c.Runs <= 0 {
		return errors.New("soak: set a duration or a number of runs")
	}
	if c.Duration < 0 || c.Runs < 0 {
		return errors.New("soak: duration and runs must not be negative")
	}
	if c.Sample <= 0 {
		c.Sample = time.Second
	}
	if c.Stall <= 0 {
		c.Stall = 30 * time.Second
	}
	if c.Grace <= 0 {
		c.Grace = 30 * time.Second
	}
	if c.Plan != nil {
		c.Chaos = true
	}
	if c.Schedule != nil {
		c.Sched = c.Schedule.Strategy
	}
	if IsSwarm(c.Sched) {
		members, canonical, err := ParseSwarm(c.Sched)
		if err != nil {
			return fmt.Errorf("soak: %w", err)
		}
		if slices.Contains(members, Free) && !c.Chaos {
			return fmt.Errorf("soak: swarm %q draws free-running runs, which run under their fault plan: it needs Chaos (or leave %s out)", c.Sched, Free)
		}
		if !chaos.Available() {
			return fmt.Errorf("soak: a swarm over strategies (%q) needs a failpoint build: %w", c.Sched, chaos.ErrNoFailpoints)
		}
		c.Sched = canonical
	} else if c.Sched != "" {
		st, err := sched.ParseStrategy(c.Sched)
		if err != nil {
			return fmt.Errorf("soak: %w", err)
		}
		if st.Exhaustive() && c.Schedule == nil {
			return fmt.Errorf("soak: strategy %q is a step of the bounded exhaustive search; a run takes random or pct:D", c.Sched)
		}
		if !chaos.Available() {
			return fmt.Errorf("soak: the serialized mode (strategy %q) needs a failpoint build: %w", c.Sched, chaos.ErrNoFailpoints)
		}
	}
	if c.ReproCommand == nil {
		c.ReproCommand = func(dir string) string { return "scripts/nimsync repro " + dir }
	}
	return nil
}

// canonical orders scenarios as the table does and drops duplicates, so that
// the sequence of a seed depends on the set of scenarios, not on how a
// command line listed them (shards must agree on it). Scenarios not in the
// table (tests' own) keep their order, after the table's.
func canonical(ss []scenarios.Scenario) []scenarios.Scenario {
	rank := func(name string) int {
		i := slices.Index(scenarios.Names(), name)
		if i < 0 {
			return len(scenarios.All)
		}
		return i
	}
	out := slices.Clone(ss)
	slices.SortStableFunc(out, func(a, b scenarios.Scenario) int { return rank(a.Name) - rank(b.Name) })
	return slices.CompactFunc(out, func(a, b scenarios.Scenario) bool { return a.Name == b.Name })
}

// Machine describes the machine the process runs on; its CPU is "unknown"
// where the system does not name it.
func Machine() report.Machine {
	m := reportkit.DescribeMachine()
	if m.CPU == "" {
		m.CPU = "unknown"
	}
	return m
}

// Run runs the soak c describes and returns its report, also written to
// c.Out if set. The error is nil when the soak ran to its end, whether or
// not it found failures (see Report.Passed); it wraps ErrStalled after a
// stall, ErrOverrun after a run cut at a bound, ctx's error if ctx ended
// first (the report then covers the runs done), and reports bad
// configuration or an unwritable report.
func Run(ctx context.Context, c Config) (*report.Report, error) {
	if err := c.defaults(); err != nil {
		return nil, err
	}
	s := newSoak(c)
	err := s.loop(ctx)
	rep := s.finish()
	if c.Metrics != nil {
		c.Metrics.ended(time.Now(), rep.Passed && err == nil)
	}
	if c.Out != "" {
		if werr := report.Write(c.Out, rep); werr != nil {
			return rep, errors.Join(err, fmt.Errorf("%w: %w", ErrReport, werr))
		}
	}
	return rep, err
}
