package soak

// The serialized mode of a soak (Config.Sched): each run is an episode of
// the seeded scheduler (package sched, through chaos.Run.Serialize), one
// goroutine at a time, so that a failing run replays exactly from its
// schedule: the artifact directory holds the decision list
// (schedule.json.gz), and Repro replays it, step by step, with the trace
// comparison on.
//
// The scenario's own goroutines and waits go through serialSched
// (scenarios.Config.Sched); core's through its step markers. The run's
// goroutine 0 is the scenario's Run; its error, written by goroutine 0 and
// read after Serialize returned (sched.Run waits for every goroutine of the
// episode), is the run's result unless the scheduler saw a failure first
// (a deadlock, a livelock, a panic of goroutine 0, a goroutine blocking
// outside the scheduler, or a replay's divergence), which then is.

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/nimsync/nimsync/chaos"
	"github.com/nimsync/nimsync/scenarios"
	"github.com/nimsync/nimsync/sched"
)

// ScheduleFile is the file of a serialized run's artifact directory that
// holds its schedule: a sched.Artifact in JSON, gzip-compressed (a run of
// a few hundred thousand steps repeats few point names).
const ScheduleFile = "schedule.json.gz"

const (
	// serialMaxSteps is a serialized run's livelock bound. Runs at the
	// scales the serialized mode is for (0.01 to 0.1) take well under a
	// tenth of it; each step costs about 40 bytes of decision list and
	// trace while the run lasts.
	serialMaxSteps = 50_000_000
	// serialWallBound is how long a goroutine of a serialized run may go
	// without a scheduling point: a ledger's verify of a whole round, or a
	// storm's walk, runs between two points.
	serialWallBound = 10 * time.Second
)

// serialHorizon is the range of steps in which pct draws its change points
// for a run of sc at scale: about the run's length, five steps per
// operation it counts (the scenarios measured 3 to 70 at scale 0.01), at
// least 10,000.
func serialHorizon(sc scenarios.Scenario, scale float64) int {
	if scale <= 0 {
		scale = 1
	}
	return int(max(float64(sc.Ops)*scale*5, 10_000))
}

// SerialFailure is a failure the scheduler saw in a serialized run: a
// deadlock (every goroutine blocked, with where each is), a livelock (the
// step bound), a goroutine that blocked or spun outside the scheduler, or
// a replay that did not take the recorded steps (kind "divergence").
type SerialFailure struct {
	Scenario string
	Failure  *sched.Failure
	// Stacks are, for a deadlock, each blocked goroutine's stack; for a
	// goroutine blocked outside the scheduler, every goroutine's.
	Stacks string
}

// Error describes the failure.
func (e *SerialFailure) Error() string {
	return fmt.Sprintf("%s: serialized run: %v", e.Scenario, e.Failure)
}

// serialSched is scenarios.Sched in a serialized run: each call acts for
// the calling goroutine's G (sched.Self), which every goroutine of the run
// has, the scenario's and core's alike.
type serialSched struct{}

func self(what string) *sched.G {
	g := sched.Self()
	if g == nil {
		panic("soak: scenarios.Sched." + what + " called from a goroutine outside the serialized run")
	}
	return g
}

// Go starts f as a goroutine of the run.
func (serialSched) Go(f func()) { self("Go").Go(func(*sched.G) { f() }) }

// Wait blocks the calling goroutine until ready, or for d of virtual time.
// Its point is named after the scenario's line that waits, the same in
// every run of the same code.
func (serialSched) Wait(ready func() bool, d time.Duration) bool {
	g := self("Wait")
	point := "scenario/wait " + waitSite()
	if d <= 0 {
		g.Block(point, ready)
		return true
	}
	return !g.BlockFor(point, ready, d)
}

// waitSite names the scenario's line that waits: the first caller outside
// this file and the scenarios package's sched.go.
func waitSite() string {
	for skip := 2; skip < 8; skip++ {
		_, file, line, ok := runtime.Caller(skip)
		if !ok {
			break
		}
		if b := filepath.Base(file); b != "sched.go" && b != "serial.go" {
			return fmt.Sprintf("%s:%d", b, line)
		}
	}
	return "?"
}

// serialRun runs sc once as a serialized episode of run, or replays
// s.c.Schedule, and returns the run's error (see the top of the file).
// The result is stored in cur.serial before it returns.
func (s *soak) serialRun(ctx context.Context, run *chaos.Run, st Step, sc scenarios.Scenario, cfg scenarios.Config, cur *current) error {
	cfg.Sched = serialSched{}
	var err error
	body := func(*sched.G) { err = sc.Run(ctx, cfg) }
	opts := sched.Options{MaxSteps: serialMaxSteps, WallBound: serialWallBound, Horizon: serialHorizon(sc, s.c.Scale)}
	var res *sched.Result
	if s.c.Schedule != nil {
		res = run.ReplaySerial(s.c.Schedule, opts, body)
	} else {
		strat, perr := sched.ParseStrategy(st.strategy) // checked by defaults, or drawn from ParseSwarm's
		if perr != nil {
			return fmt.Errorf("soak: %w", perr)
		}
		res = run.Serialize(st.Seed, strat, opts, body)
	}
	cur.serial = res
	switch f := res.Failure; {
	case f == nil:
		return err
	case f.Kind == sched.Panic:
		return &scenarios.PanicError{Scenario: st.Scenario, Value: f.Value, Stack: f.Stack}
	case f.Kind == sched.Deadlock:
		var b strings.Builder
		for _, x := range f.Blocked {
			fmt.Fprintf(&b, "g%d at %q (%s):\n%s\n\n", x.G, x.Point, x.Reason, x.Stack)
		}
		return &SerialFailure{Scenario: st.Scenario, Failure: f, Stacks: b.String()}
	case f.Kind == sched.Uncontrolled:
		// The goroutine is still blocked where the scheduler cannot see
		// it: its stack says where.
		return &SerialFailure{Scenario: st.Scenario, Failure: f, Stacks: stack(true)}
	default:
		return &SerialFailure{Scenario: st.Scenario, Failure: f}
	}
}

// scheduleBytes returns res's artifact as ScheduleFile's content.
func scheduleBytes(res *sched.Result) ([]byte, error) {
	js, err := json.Marshal(res.Artifact())
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	z := gzip.NewWriter(&b)
	if _, err := z.Write(js); err != nil {
		return nil, err
	}
	if err := z.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// readSchedule reads the schedule of the artifact directory dir, checked
// against strategy (sched.ParseArtifact).
func readSchedule(dir, strategy string) (*sched.Artifact, error) {
	f, err := os.Open(filepath.Join(dir, ScheduleFile))
	if err != nil {
		return nil, fmt.Errorf("the run was serialized (strategy %q) but its schedule is missing: %w", strategy, err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name(), err)
	}
	js, err := io.ReadAll(z)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name(), err)
	}
	a, err := sched.ParseArtifact(js, strategy)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name(), err)
	}
	return a, nil
}
