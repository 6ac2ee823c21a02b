// Package scenarios is nimsync's table of named stress scenarios. Each
// scenario drives the runtime in [github.com/nimsync/nimsync/core] at a
// seed-chosen shape and a caller-chosen scale, checks its own invariants (no
// loss, no duplicate, order, cleanup, no leak) and reports its throughput and
// sampled latencies through a [Meter].
//
// The soak runner (package soak) and the nimsync command run scenarios one at
// a time, under a chaos plan in a failpoint-enabled build. A scenario knows
// nothing of chaos beyond [Config.Storm], through which it offers the
// harness a way to cancel its scopes at random.
package scenarios

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// Scenario is one named stress scenario. Scenarios are values in the [All]
// table; they are safe to run again and again, but not two at once (their
// leak checks read the runtime's global counters).
type Scenario struct {
	// Name is the scenario's name on the command line, e.g. "spsc-stream".
	Name string
	// Summary is one line for `nimsync list`.
	Summary string
	// Run runs the scenario once. It returns nil, a *[Violation] when an
	// invariant failed, or ctx's error when ctx ended first. A scenario
	// polls ctx between rounds and, within a round, wherever it starts
	// more work (a sender's next batch, a spawner's next run of tasks):
	// then it starts no more, lets what is in flight finish (values in
	// its channels are drained), checks its invariants against what it
	// did, and returns. So a run ends soon after ctx, however slow a fault
	// plan makes its rounds; not inside a blocked operation, though: a
	// stuck scenario is the stall watchdog's to catch. In the serialized
	// mode (Config.Sched) it polls between rounds only, so that its steps
	// do not depend on the wall clock.
	Run func(ctx context.Context, cfg Config) error
	// Ops is about how many operations a run counts on its Meter at scale
	// 1, measured; a run's [Budget] is derived from it. 0 declares no
	// size: the run then has no budget of its own.
	Ops int64
}

// Budget is how far one run of a scenario may go before the harness cuts
// it and reports it as a failure (package soak): it may count at most Ops
// operations (more is a runaway: a loop that never ends, such as receives
// that keep handing out values after Close) and take at most Time (more is
// an overrun). A zero field bounds nothing.
type Budget struct {
	Ops  int64
	Time time.Duration
	// Expected is the run's expected operations, which Ops and Time
	// come from.
	Expected int64
}

// The budget of a run, from its expected operations n (Scenario.Ops times
// the scale, at least minExpectedOps): runawayFactor·n operations, and
// budgetBase plus budgetPerOp·n of time. A run's count varies by less than
// 2x between seeds and plans (mixed draws its parts); the time allows 2,000
// operations a second, ten times below the slowest rate measured under
// chaos (22K ops/s: spmc-fanout at scale 0.1 on the 2-core development
// machine). minExpectedOps covers the scenarios' own minimum sizes
// (Config.scaled's floor), which keep tiny scales from shrinking a run
// below a few thousand operations.
const (
	runawayFactor  = 8
	minExpectedOps = 100_000
	budgetBase     = 5 * time.Minute
	budgetPerOp    = 500 * time.Microsecond
)

// Budget returns the budget of one run of s at scale (≤ 0 means 1),
// derived from s.Ops; the zero Budget if s.Ops is 0.
func (s Scenario) Budget(scale float64) Budget {
	if s.Ops <= 0 {
		return Budget{}
	}
	if scale <= 0 {
		scale = 1
	}
	n := max(int64(float64(s.Ops)*scale), minExpectedOps)
	return Budget{Ops: runawayFactor * n, Time: budgetBase + time.Duration(n)*budgetPerOp, Expected: n}
}

// Config is what one run of a scenario is parameterized by.
type Config struct {
	// Seed chooses the scenario's shape (capacities, goroutine counts,
	// batch sizes, the mix of operations). The same seed gives the same
	// shape; the interleaving is the scheduler's.
	Seed uint64
	// Scale multiplies the scenario's size: 1 is the default (e.g. 100K
	// tasks for group-100k), 0.01 a smoke test. Values ≤ 0 mean 1.
	Scale float64
	// Meter receives the run's operation count and latency samples. Nil
	// means a private meter.
	Meter *Meter
	// Storm, if set, is given a function that cancels some of the
	// scenario's scopes or groups, chosen from its argument; a chaos run
	// calls it at random moments (see chaos.Run.SetStorm). The scenario
	// calls Storm(nil) before it returns.
	Storm func(f func(seed uint64))
	// Fail, if set, receives a *[PanicError] when a goroutine the scenario
	// started panics (a broken core, or a chaos contract check); that
	// goroutine then ends, and the scenario may never return (its other
	// goroutines may wait for the one that died). It may be called from
	// any goroutine. Without Fail, such a panic crashes the program, as
	// any goroutine's panic would; a panic on the goroutine that called
	// Run is the caller's to recover either way.
	Fail func(err error)
	// Sched, if set, is the scheduler the scenario's own goroutines start
	// and wait under instead of Go's: the serialized mode (package soak's
	// Config.Sched) sets it, so that a run executes one goroutine at a
	// time under a seeded scheduler and replays exactly. Nil means Go's.
	Sched Sched
}

// Sched is a scheduler a scenario runs its goroutines under (see
// Config.Sched). A scenario starts every goroutine of its own through Go,
// and does every wait of its own (for its goroutines, a timer, a counter to
// settle) through Wait, so that no goroutine of the run blocks or sleeps
// behind the scheduler's back; what it does through core is the
// scheduler's already (core's step markers). Its methods are called from
// the scenario's goroutines only.
type Sched interface {
	// Go starts f as a goroutine of the run.
	Go(f func())
	// Wait returns true once ready reports true or, if d > 0, false once d
	// has passed on the scheduler's clock first. ready only reads (it
	// neither blocks nor consumes anything: a counter, a closed channel),
	// since the scheduler may call it from any goroutine, any number of
	// times.
	Wait(ready func() bool, d time.Duration) bool
}

// PanicError is a panic in one of a scenario's goroutines, with the stack it
// panicked on. Unwrap gives the panic value when it is an error (a
// chaos.ContractViolation, say).
type PanicError struct {
	Scenario string
	Value    any
	Stack    string
}

// Error describes the panic.
func (p *PanicError) Error() string { return fmt.Sprintf("%s: panic: %v", p.Scenario, p.Value) }

// Unwrap returns the panic value if it is an error.
func (p *PanicError) Unwrap() error {
	err, _ := p.Value.(error)
	return err
}

// Violation is an invariant a scenario found broken. Detail spells out the
// first few violations seen, with the values involved, and how many there
// were in all.
type Violation struct {
	Scenario  string // the scenario's name
	Invariant string // e.g. "no loss", "per-sender order", "cleanup ran once"
	Detail    string // what was seen, with the values involved
}

// Error formats v as "scenario: invariant violated: detail".
func (v *Violation) Error() string {
	return fmt.Sprintf("%s: %s violated: %s", v.Scenario, v.Invariant, v.Detail)
}

// All is the table of scenarios, in the order `nimsync list` prints them
// (filled in by table.go). Treat it as read-only.
var All []Scenario

// Lookup returns the scenario called name.
func Lookup(name string) (Scenario, bool) {
	i := slices.IndexFunc(All, func(s Scenario) bool { return s.Name == name })
	if i < 0 {
		return Scenario{}, false
	}
	return All[i], true
}

// Parse resolves a comma-separated list of names ("" means all) and reports
// unknown names with the list of known ones.
func Parse(list string) ([]Scenario, error) {
	if strings.TrimSpace(list) == "" {
		return slices.Clone(All), nil
	}
	var out []Scenario
	for _, n := range strings.Split(list, ",") {
		n = strings.TrimSpace(n)
		s, ok := Lookup(n)
		if !ok {
			return nil, fmt.Errorf("unknown scenario %q (known: %s)", n, strings.Join(Names(), ", "))
		}
		out = append(out, s)
	}
	return out, nil
}

// Names returns the names of all scenarios, in table order.
func Names() []string {
	names := make([]string, len(All))
	for i, s := range All {
		names[i] = s.Name
	}
	return names
}

// rng returns the scenario's random source for seed: a PCG stream, so that
// the same seed gives the same shape on every platform.
func rng(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x6e696d73796e63)) }

// scaled returns n·scale, at least min.
func (c Config) scaled(n int, min int) int {
	s := c.Scale
	if s <= 0 {
		s = 1
	}
	v := int(float64(n) * s)
	return max(v, min)
}

// storm offers f to the harness through Storm, if it is set; a scenario
// calls storm(nil) before it returns.
func (c Config) storm(f func(seed uint64)) {
	if c.Storm != nil {
		c.Storm(f)
	}
}
