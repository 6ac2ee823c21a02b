package soak

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/nimsync/nimsync/chaos"
	"github.com/nimsync/nimsync/report"
	"github.com/nimsync/nimsync/scenarios"
	"github.com/nimsync/nimsync/sched"
)

// soak is one Run's state. The loop goroutine runs the scenarios; the
// sampler goroutine samples every Config.Sample. Fields below mu are
// guarded by it; the others are the loop's own or set before the sampler
// starts.
type soak struct {
	c        Config
	swarm    []string // a swarm's members (ParseSwarm); nil otherwise
	names    []string
	byName   map[string]scenarios.Scenario
	started  time.Time
	deadline time.Time // started + Duration; zero without a Duration
	shard    string    // "i/n"

	progressMu sync.Mutex // serializes writes to Config.Progress (loop and sampler)

	mu       sync.Mutex
	acc      map[string]*scenarioAcc
	order    []string // scenario names in first-run order
	cur      *current
	runs     []report.Run
	failures []report.Failure
	rt       []report.RuntimeSample
	leak     []leakPoint
	lastMem  runtime.MemStats
}

// scenarioAcc accumulates one scenario's runs.
type scenarioAcc struct {
	runs, failures int
	ops            int64
	seconds        float64
	hist           *hdrhistogram.Histogram
	samples        []report.Sample
}

// current is the run in progress, as the sampler sees it.
type current struct {
	step      Step
	meter     *scenarios.Meter
	lastOps   int64     // the meter's count at the last sample
	lastMove  time.Time // when the count last changed
	lastTick  time.Time
	totalOps  int64
	startedAt time.Time
	// The run's bounds, set before the sampler sees the run: at most
	// maxOps operations (0: none), and it must have ended by until (zero:
	// no bound).
	maxOps   int64
	expected string // how maxOps was derived, for the failure's message
	until    time.Time
	untilWhy string // which bound until is
	// cut is closed once by the watchdog when the run stalled or overran
	// a bound; kind and why say which, and are written before the close
	// (guarded by soak.mu; the close orders them before any receive).
	cut       chan struct{}
	fired     bool // cut is closed
	kind, why string
	// serial is a serialized run's result: written by the goroutine that
	// ran it before it sends on done, read after the receive.
	serial *sched.Result
}

func newSoak(c Config) *soak {
	s := &soak{c: c, byName: map[string]scenarios.Scenario{}, acc: map[string]*scenarioAcc{},
		started: time.Now(), shard: fmt.Sprintf("%d/%d", c.Shard, c.Shards)}
	if c.Duration > 0 {
		s.deadline = s.started.Add(c.Duration)
	}
	for _, sc := range c.Scenarios {
		s.names = append(s.names, sc.Name)
		s.byName[sc.Name] = sc
	}
	if c.Replay != nil {
		if sc, ok := scenarios.Lookup(c.Replay.Scenario); ok {
			s.byName[sc.Name] = sc
		}
	}
	if IsSwarm(c.Sched) {
		s.swarm, _, _ = ParseSwarm(c.Sched) // checked by defaults
	}
	runtime.ReadMemStats(&s.lastMem)
	return s
}

// loop runs the shard's steps until the duration or the run count ends.
func (s *soak) loop(ctx context.Context) error {
	deadline := s.deadline
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.sampler(stop)
	}()
	defer func() {
		close(stop)
		wg.Wait()
		s.progressDone()
	}()
	// Scenarios see the soak's deadline: they stop between rounds when it
	// passes, so a long run (a full-scale run under chaos can take a
	// minute) does not overrun the soak. One still going Grace after the
	// deadline is cut by the watchdog (runOne).
	runCtx := ctx
	if !deadline.IsZero() {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithDeadline(ctx, deadline)
		defer cancel()
	}
	for k := s.c.Shard; ; k += s.c.Shards {
		if s.c.Runs > 0 && k >= s.c.Runs {
			return nil
		}
		if !deadline.IsZero() && !time.Now().Before(deadline) {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		st := step(s.c.Seed, s.names, k)
		if s.c.Replay != nil {
			st = Step{K: k, Scenario: s.c.Replay.Scenario, Seed: s.c.Replay.Seed}
		}
		st.strategy = s.strategyOf(st.Seed)
		if err := s.runOne(ctx, runCtx, st); err != nil {
			return err
		}
	}
}

// strategyOf is how the run of seed runs: "" free-running, else its
// serialized strategy, Config.Sched's or, in a swarm, drawn from seed.
func (s *soak) strategyOf(seed uint64) string {
	if s.swarm == nil {
		return s.c.Sched
	}
	if d := SwarmDraw(seed, s.swarm); d != Free {
		return d
	}
	return ""
}

// runOne runs one step under its fault plan and records the result. The
// scenario runs under runCtx, which ends at the soak's deadline or with
// ctx. It returns ctx's error when interrupted, and an error wrapping
// ErrStalled when the run stalled (or panicked and then never ended), or
// ErrOverrun when the watchdog cut it at one of its bounds (bounds): its
// goroutines are still blocked or running, so the soak must end.
func (s *soak) runOne(ctx, runCtx context.Context, st Step) error {
	sc, ok := s.byName[st.Scenario]
	if !ok {
		return fmt.Errorf("soak: unknown scenario %q", st.Scenario)
	}
	var plan chaos.Plan
	var run *chaos.Run
	if s.c.Chaos || st.strategy != "" {
		plan = chaos.Plan{Seed: st.Seed} // a serialized run without chaos: no fault
		if s.c.Chaos {
			plan = chaos.NewPlan(st.Seed)
		}
		if s.c.Plan != nil {
			plan = *s.c.Plan
		}
		var err error
		if run, err = chaos.Start(plan); err != nil {
			return err
		}
	}
	// stopChaos switches the plan off; it waits for running storms, so a
	// stalled or cut run's plan is abandoned instead (a storm may be stuck
	// behind the stalled goroutines, and they may still read the tuning).
	stopChaos := func(wait bool) {
		switch {
		case run == nil:
		case wait:
			run.Stop()
		default:
			run.Abandon() // the cut run's goroutines still run: keep the tuning they read
		}
	}
	meter := scenarios.NewMeter()
	panicked := make(chan error, 1)
	cfg := scenarios.Config{Seed: st.Seed, Scale: s.c.Scale, Meter: meter,
		Fail: func(err error) {
			select {
			case panicked <- err: // the first panic is the one reported
			default:
			}
		}}
	if run != nil {
		cfg.Storm = run.SetStorm
	}
	now := time.Now()
	cut := make(chan struct{})
	cur := &current{step: st, meter: meter, lastMove: now, lastTick: now, startedAt: now, cut: cut}
	s.bounds(cur, sc)
	s.mu.Lock()
	s.cur = cur
	if s.c.Metrics != nil {
		s.c.Metrics.start(st.Scenario)
	}
	if s.acc[st.Scenario] == nil {
		s.acc[st.Scenario] = &scenarioAcc{hist: newHist()}
		s.order = append(s.order, st.Scenario)
	}
	s.mu.Unlock()

	done := make(chan error, 1)
	go func() {
		defer func() {
			if v := recover(); v != nil {
				done <- &scenarios.PanicError{Scenario: st.Scenario, Value: v, Stack: stack(false)}
			}
		}()
		if st.strategy != "" {
			done <- s.serialRun(runCtx, run, st, sc, cfg, cur)
			return
		}
		done <- sc.Run(runCtx, cfg)
	}()
	var err error
	stuck := false
	select {
	case err = <-done:
	case err = <-panicked:
		// One of the scenario's goroutines died; the others may wait for
		// it forever. The watchdog decides.
		select {
		case <-done:
		case <-cut:
			stuck = true
		}
	case <-cut:
		select {
		case err = <-done: // it ended just as the watchdog fired
		default:
			stuck = true
		}
	}
	elapsed := time.Since(now)
	if stuck {
		// cur.kind and cur.why were written before cut was closed.
		kind, stacks := cur.kind, stack(true)
		msg := fmt.Errorf("%s (run %d of %s); every goroutine's stack is in the artifact", cur.why, st.K, st.Scenario)
		if err != nil { // a panic, after which the run never ended
			kind, stacks = classify(err, stacks)
			msg = fmt.Errorf("%w; then %s", err, cur.why)
		}
		f := s.fail(st, plan, run, nil, kind, msg, stacks)
		stopChaos(false)
		s.recordRun(st, f.Error, elapsed)
		if cur.kind == "stall" {
			return fmt.Errorf("%w: %s", ErrStalled, f.Error)
		}
		return fmt.Errorf("%w: %s", ErrOverrun, f.Error)
	}
	if err != nil && runCtx.Err() != nil && errors.Is(err, runCtx.Err()) {
		// Interrupted, or cut at the soak's deadline between two of its
		// rounds (whose invariants were checked): not a failure.
		stopChaos(true)
		s.recordRun(st, "", elapsed)
		return ctx.Err()
	}
	msg := ""
	if err != nil {
		kind, stacks := classify(err, "")
		msg = s.fail(st, plan, run, cur.serial, kind, err, stacks).Error
	}
	stopChaos(true)
	s.recordRun(st, msg, elapsed)
	s.leakPoint() // after the plan's storms ended
	return nil
}

// bounds sets cur's bounds for a run of sc: its budget at the soak's scale
// (scenarios.Budget: a number of operations and a time, from its expected
// operations), and the soak's deadline plus Grace, whichever comes first.
// So a soak with a Duration ends by Duration + Grace (plus the time to
// write its report), whatever its runs do.
func (s *soak) bounds(cur *current, sc scenarios.Scenario) {
	b := sc.Budget(s.c.Scale)
	if b.Ops > 0 {
		cur.maxOps = b.Ops
		cur.expected = fmt.Sprintf("%d operations (%dx the %d expected)", b.Ops, b.Ops/b.Expected, b.Expected)
	}
	if b.Time > 0 {
		cur.until = cur.startedAt.Add(b.Time)
		cur.untilWhy = fmt.Sprintf("the run's time budget of %v", b.Time)
	}
	if !s.deadline.IsZero() {
		if end := s.deadline.Add(s.c.Grace); cur.until.IsZero() || end.Before(cur.until) {
			cur.until = end
			cur.untilWhy = fmt.Sprintf("the soak's end (--duration %v) plus a grace of %v", s.c.Duration, s.c.Grace)
		}
	}
}

// classify names the kind of a run's failure and the stack that goes with
// it: a panic's own (with extra appended), or extra.
func classify(err error, extra string) (kind, stacks string) {
	var sf *SerialFailure
	if errors.As(err, &sf) {
		switch {
		case sf.Stacks == "":
		case sf.Failure.Kind == sched.Deadlock:
			extra = "each goroutine of the deadlocked run, where it waits:\n\n" + sf.Stacks
		default:
			extra = "every goroutine, when the scheduler saw the blocking:\n" + sf.Stacks
		}
		return sf.Failure.Kind.String(), extra
	}
	var pe *scenarios.PanicError
	if !errors.As(err, &pe) {
		return "violation", extra
	}
	stacks = "the panicking goroutine:\n" + pe.Stack
	if extra != "" {
		stacks += "\n\nevery goroutine, after the stall:\n" + extra
	}
	var cv *chaos.ContractViolation
	if errors.As(err, &cv) {
		return "contract", stacks
	}
	return "panic", stacks
}

// recordRun closes the current run: its last partial interval goes into
// the totals (not into the samples, whose intervals are whole).
func (s *soak) recordRun(st Step, errMsg string, elapsed time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.acc[st.Scenario]
	var ops, steps, sampled int64
	if cur := s.cur; cur != nil {
		ops, sampled = cur.meter.Ops(), cur.totalOps
		if cur.serial != nil {
			steps = int64(cur.serial.Steps)
		}
		rest := cur.meter.TakeLatencies()
		a.hist.Merge(rest)
		if s.c.Metrics != nil {
			s.c.Metrics.latencies(st.Scenario, rest)
		}
		s.cur = nil
	}
	a.runs++
	if errMsg != "" {
		a.failures++
	}
	a.ops += ops
	a.seconds += elapsed.Seconds()
	s.runs = append(s.runs, report.Run{Scenario: st.Scenario, Seed: st.Seed, Shard: s.shardName(),
		Start: time.Since(s.started).Seconds() - elapsed.Seconds(), Seconds: elapsed.Seconds(), Ops: ops, Steps: steps,
		Strategy: s.swarmStrategy(st), Error: errMsg})
	if s.c.Metrics != nil {
		s.c.Metrics.run(st.Scenario, ops-sampled, errMsg != "") // the intervals counted the rest
		if s.swarm != nil {
			s.c.Metrics.strategyRun(s.swarmStrategy(st), errMsg != "")
		}
	}
}

func (s *soak) shardName() string { return s.shard }

// swarmStrategy is, in a swarm, the strategy st drew (Free for a
// free-running run); "" otherwise.
func (s *soak) swarmStrategy(st Step) string {
	switch {
	case s.swarm == nil:
		return ""
	case st.strategy == "":
		return Free
	}
	return st.strategy
}

func newHist() *hdrhistogram.Histogram { return hdrhistogram.New(1, int64(time.Minute), 3) }

// stack returns the calling goroutine's stack, or every goroutine's.
func stack(all bool) string {
	buf := make([]byte, 64<<10)
	for {
		n := runtime.Stack(buf, all)
		if n < len(buf) {
			return string(buf[:n])
		}
		buf = make([]byte, 2*len(buf))
	}
}
