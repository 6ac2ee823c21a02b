package soak

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nimsync/nimsync/chaos"
	"github.com/nimsync/nimsync/report"
	"github.com/nimsync/nimsync/scenarios"
	"github.com/nimsync/nimsync/sched"
)

// ArtifactFile is the file in an artifact directory that Repro reads.
const ArtifactFile = "artifact.json"

// TraceFile is a serialized run's trace, for people: its last steps, one
// row per goroutine's steps in a row, with the preemptions marked
// (sched.Artifact.WriteMarkdown).
const TraceFile = "trace.md"

// TraceHTMLFile is the same trace drawn, for a browser: a lane per
// goroutine, the wakes as arrows (sched.Artifact.WriteHTML).
const TraceHTMLFile = "trace.html"

// Artifact is what a failed run leaves for its replay: with it, the
// scenario, its seed and shape, and the fault plan are known. It is a plain
// value, written once as artifact.json.
type Artifact struct {
	Scenario string      `json:"scenario"`
	Seed     uint64      `json:"seed"`
	K        int         `json:"k"`         // the run's index in its soak
	SoakSeed uint64      `json:"soak_seed"` // the soak's seed
	Scale    float64     `json:"scale"`
	Plan     *chaos.Plan `json:"plan,omitempty"` // nil: the run had no fault plan
	// Sched is the serialized mode's strategy if the run was serialized
	// (Config.Sched). If the run ended (it was not cut by the watchdog
	// while it ran) its schedule is in ScheduleFile, with Steps steps and
	// the trace hash TraceHash, and Schedule holds it once ReadArtifact
	// read it; a cut run's replay runs its seed under Sched again, which
	// takes the same steps.
	Sched      string            `json:"sched,omitempty"`
	Steps      int               `json:"steps,omitempty"`
	TraceHash  string            `json:"trace_hash,omitempty"`
	Schedule   *sched.Artifact   `json:"-"`
	Fired      map[string]uint64 `json:"fired,omitempty"`
	NeverFired []string          `json:"never_fired,omitempty"`
	Kind       string            `json:"kind"`
	Error      string            `json:"error"`
	Repro      string            `json:"repro"`
	Machine    report.Machine    `json:"machine"`
	When       time.Time         `json:"when"`

	// Swarm is the soak's swarm over strategies (Config.Sched "swarm" or
	// "swarm:LIST") if it ran in one, and Strategy the strategy the run
	// drew from its seed: Free (a free-running run: Sched is empty) or
	// Sched.
	Swarm    string `json:"swarm,omitempty"`
	Strategy string `json:"strategy,omitempty"`
}

// fail records a failure of step st and writes its artifact directory
// (artifact.json, plan.json, stacks.txt, and a serialized run's schedule
// and its traces, trace.md and trace.html, from res) under Out/artifacts,
// or under the temporary directory when the soak has no Out.
func (s *soak) fail(st Step, plan chaos.Plan, run *chaos.Run, res *sched.Result, kind string, err error, stacks string) report.Failure {
	a := Artifact{Scenario: st.Scenario, Seed: st.Seed, K: st.K, SoakSeed: s.c.Seed, Scale: s.c.Scale,
		Kind: kind, Error: err.Error(), Machine: Machine(), When: time.Now().UTC()}
	if s.swarm != nil {
		a.Swarm, a.Strategy = s.c.Sched, s.swarmStrategy(st)
	}
	if run != nil && s.c.Chaos {
		a.Plan = &plan
		a.Fired, a.NeverFired = run.Fired(), run.NeverFired()
	}
	var schedule []byte
	if res != nil {
		a.Sched, a.Steps, a.TraceHash = res.Strategy.String(), res.Steps, fmt.Sprintf("%016x", res.Hash)
		var serr error
		if schedule, serr = scheduleBytes(res); serr != nil {
			err = fmt.Errorf("%w (and its schedule could not be encoded: %v)", err, serr)
			a.Error, a.TraceHash = err.Error(), ""
		}
	} else if st.strategy != "" {
		// Cut while it ran: no schedule; the run's seed and strategy
		// take the same steps again.
		a.Sched = st.strategy
	}
	f := report.Failure{Scenario: st.Scenario, Seed: st.Seed, Kind: kind, Error: err.Error(), Strategy: a.Strategy, Shard: s.shardName()}
	root := filepath.Join(os.TempDir(), "nimsync-artifacts")
	if s.c.Out != "" {
		root = filepath.Join(s.c.Out, "artifacts")
	}
	name := fmt.Sprintf("%s-%d-seed%d", st.Scenario, st.K, st.Seed)
	dir := filepath.Join(root, name)
	a.Repro = s.c.ReproCommand(dir)
	var trace, page []byte
	if res != nil {
		sa, o := res.Artifact(), sched.TraceOptions{Title: fmt.Sprintf("%s, run %d, seed %d, serialized", st.Scenario, st.K, st.Seed), Failure: a.Error}
		var md, h strings.Builder
		if err := sa.WriteMarkdown(&md, o); err == nil {
			trace = []byte(md.String())
		}
		if err := sa.WriteHTML(&h, o); err == nil {
			page = []byte(h.String())
		}
	}
	if werr := writeArtifact(root, name, a, stacks, schedule, trace, page); werr != nil {
		f.Error += fmt.Sprintf(" (and its artifact could not be written: %v)", werr)
	} else {
		f.Artifact, f.Repro = dir, a.Repro
		if s.c.Out != "" {
			f.Artifact = filepath.Join("artifacts", name)
		}
	}
	s.mu.Lock()
	s.failures = append(s.failures, f)
	s.mu.Unlock()
	if s.c.Metrics != nil {
		s.c.Metrics.failure(st.Scenario, kind)
	}
	if s.c.Progress != nil {
		nl := ""
		if s.c.Terminal {
			nl = "\n" // end the progress line
		}
		s.progressMu.Lock()
		fmt.Fprintf(s.c.Progress, "%sFAIL %s (run %d, seed %d): %s: %s\n  artifact: %s\n  repro:    %s\n",
			nl, st.Scenario, st.K, st.Seed, kind, firstLine(f.Error), dir, a.Repro)
		s.progressMu.Unlock()
	}
	return f
}

// writeArtifact writes the artifact into a temporary directory beside its
// final place and renames it there, so no half-written artifact is left.
func writeArtifact(root, name string, a Artifact, stacks string, schedule, trace, page []byte) error {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(root, ".tmp-"+name+"-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp) // a no-op after the rename
	b, err := json.MarshalIndent(a, "", "  ")
	if err != nil {
		return err
	}
	files := map[string][]byte{ArtifactFile: append(b, '\n')}
	if a.Plan != nil {
		files["plan.json"] = a.Plan.JSON()
	}
	if stacks != "" {
		files["stacks.txt"] = []byte(stacks)
	}
	if schedule != nil {
		files[ScheduleFile] = schedule
	}
	if trace != nil {
		files[TraceFile] = trace
	}
	if page != nil {
		files[TraceHTMLFile] = page
	}
	for f, data := range files {
		if err := os.WriteFile(filepath.Join(tmp, f), data, 0o644); err != nil {
			return err
		}
	}
	final := filepath.Join(root, name)
	if err := os.RemoveAll(final); err != nil {
		return err
	}
	return os.Rename(tmp, final)
}

// ReadArtifact reads an artifact directory (or its artifact.json).
func ReadArtifact(path string) (*Artifact, error) {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		path = filepath.Join(path, ArtifactFile)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the artifact: %w", err)
	}
	var a Artifact
	if err := json.Unmarshal(b, &a); err != nil {
		return nil, fmt.Errorf("%s: not an artifact: %w", path, err)
	}
	if a.Scenario == "" {
		return nil, fmt.Errorf("%s: not an artifact: no scenario", path)
	}
	if _, ok := scenarios.Lookup(a.Scenario); !ok {
		return nil, fmt.Errorf("%s: unknown scenario %q", path, a.Scenario)
	}
	if a.Plan != nil {
		if err := a.Plan.Validate(); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	if a.TraceHash != "" {
		if a.Schedule, err = readSchedule(filepath.Dir(path), a.Sched); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	return &a, nil
}

// Repro replays a's run n times (with its fault plan when it had one) and
// returns the report of the replays; the failures in it are the
// reproductions. stall bounds each replay as in a soak.
func Repro(ctx context.Context, a *Artifact, n int, stall time.Duration, c Config) (*report.Report, error) {
	if n < 1 {
		return nil, errors.New("soak: repro needs at least one run")
	}
	sc, _ := scenarios.Lookup(a.Scenario)
	c.Runs, c.Duration, c.Shard, c.Shards = n, 0, 0, 1
	c.Seed, c.Scale, c.Stall = a.SoakSeed, a.Scale, stall
	c.Scenarios = []scenarios.Scenario{sc}
	c.Replay = &Step{Scenario: a.Scenario, Seed: a.Seed}
	c.Plan = a.Plan
	c.Chaos = a.Plan != nil
	c.Sched, c.Schedule = a.Sched, a.Schedule
	return Run(ctx, c)
}

func firstLine(s string) string {
	for i, r := range s {
		if r == '\n' {
			return s[:i]
		}
	}
	return s
}
