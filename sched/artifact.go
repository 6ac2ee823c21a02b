package sched

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// DecisionFormat is the version of the decision list's format in an
// [Artifact]; [ParseArtifact] rejects any other.
const DecisionFormat = 1

// Artifact is the replayable record of a run: its seed, strategy, the
// goroutine chosen at each step with the point it stood at, and the trace
// hash. Its JSON form is what Marshal writes and ParseArtifact reads.
type Artifact struct {
	Version   int      `json:"version"`
	Seed      uint64   `json:"seed"`
	Strategy  string   `json:"strategy"`
	Decisions []int    `json:"decisions"`
	Points    []string `json:"points"`
	TraceHash string   `json:"trace_hash"` // 16 hex digits
	Failure   string   `json:"failure,omitempty"`
	Message   string   `json:"message,omitempty"` // Failure.Error(), for people
	// Preempted are Result.Preempted: for people and tools; a replay does
	// not check them (the trace hash covers the decisions).
	Preempted []int `json:"preempted,omitempty"`
	// Waits and Wakes are Result.Waits and Result.Wakes, for people and
	// tools (the HTML trace's arrows); like Preempted, a replay does not
	// check them, and an artifact without them (written before they were
	// recorded) parses and replays.
	Waits []Wait `json:"waits,omitempty"`
	Wakes []Wake `json:"wakes,omitempty"`
}

// Artifact returns the replayable record of r.
func (r *Result) Artifact() *Artifact {
	a := &Artifact{
		Version: DecisionFormat, Seed: r.Seed, Strategy: r.Strategy.String(),
		Decisions: r.Decisions, Points: make([]string, len(r.Trace)),
		TraceHash: fmt.Sprintf("%016x", r.Hash), Preempted: r.Preempted,
		Waits: r.Waits, Wakes: r.Wakes,
	}
	for i, e := range r.Trace {
		a.Points[i] = e.Point
	}
	if r.Failure != nil {
		a.Failure, a.Message = r.Failure.Kind.String(), r.Failure.Error()
	}
	return a
}

// Marshal returns a's indented JSON form.
func (a *Artifact) Marshal() ([]byte, error) {
	return json.MarshalIndent(a, "", "  ")
}

// ParseArtifact parses an artifact's JSON form and checks it: the decision
// format must be [DecisionFormat], the strategy must parse and, unless want
// is "", equal want; decisions and points must pair up, and the trace hash
// must match them.
func ParseArtifact(data []byte, want string) (*Artifact, error) {
	var a Artifact
	if err := json.Unmarshal(data, &a); err != nil {
		return nil, fmt.Errorf("sched: artifact: %w", err)
	}
	if a.Version != DecisionFormat {
		return nil, fmt.Errorf("sched: artifact has decision format %d, want %d", a.Version, DecisionFormat)
	}
	if _, err := ParseStrategy(a.Strategy); err != nil {
		return nil, fmt.Errorf("sched: artifact: %w", err)
	}
	if want != "" && a.Strategy != want {
		return nil, fmt.Errorf("sched: artifact was recorded with strategy %q, want %q", a.Strategy, want)
	}
	if len(a.Decisions) != len(a.Points) {
		return nil, fmt.Errorf("sched: artifact has %d decisions and %d points, want equal", len(a.Decisions), len(a.Points))
	}
	if h, err := strconv.ParseUint(a.TraceHash, 16, 64); err != nil || h != TraceHash(a.trace()) {
		return nil, fmt.Errorf("sched: artifact trace hash %q does not match its decisions and points", a.TraceHash)
	}
	return &a, nil
}

func (a *Artifact) trace() []Event {
	t := make([]Event, len(a.Decisions))
	for i, g := range a.Decisions {
		t[i] = Event{Step: i, G: g, Point: a.Points[i]}
	}
	return t
}

// Replay runs main again following a's decisions instead of a strategy. At
// every step it checks that the recorded goroutine is runnable and stands at
// the recorded point, and stops at the first step where that is not so with
// a [Divergence] failure naming the step, what was expected and what was
// found; it also diverges if the run ends before or after the recorded one.
// A faithful replay has a's trace hash and fails as the recorded run did.
// opts.MaxSteps is ignored: the bound is the recorded run's length.
func Replay(a *Artifact, opts Options, main func(*G)) *Result {
	strat, err := ParseStrategy(a.Strategy)
	if err != nil {
		panic(err.Error()) // ParseArtifact or Result.Artifact made a
	}
	opts.MaxSteps = len(a.Decisions) + 1
	if a.Failure == Livelock.String() {
		opts.MaxSteps = len(a.Decisions)
	}
	return execute(a.Seed, strat, opts.withDefaults(), nil, a, main)
}
