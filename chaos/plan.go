// Package chaos derives fault plans from a seed and switches them on through
// the failpoint markers of package core, in a failpoint-enabled build
// (scripts/chaos-test).
//
// A [Plan] says which markers are active and what each does when a goroutine
// passes it: sleep, yield its P, yield a burst of times, start a
// cancellation storm, or take a decision the contract allows (a spurious
// wakeup). Which markers and which actions come from the seed (swarm
// testing: every seed picks its own subset and mix), and every decision at a
// marker is a pure function of the seed, the marker, the goroutine and the
// marker's hit count, so a plan printed as JSON replays as the same plan.
// Go's scheduler is not seeded, so a replay reproduces the plan, not the
// interleaving: report reproduction rates, never assume determinism.
package chaos

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/nimsync/nimsync/core"
	"github.com/nimsync/nimsync/internal/failpoints"
)

// ActionKind is what an active marker does when it decides to act.
type ActionKind string

// The actions a plan can give a marker.
const (
	Sleep  ActionKind = "sleep"  // wait up to MaxDelay (busy for short waits, so they stay short)
	Yield  ActionKind = "yield"  // runtime.Gosched once: a preemption point
	Yields ActionKind = "yields" // runtime.Gosched Count times
	Storm  ActionKind = "storm"  // call the run's storm function (cancel random scopes/groups)
	Decide ActionKind = "decide" // take the marker's alternative path (DecidePoint and BugPoint markers)
)

// Action is what one marker does. At each hit it acts with probability
// Prob, decided by hashing (seed, marker, goroutine, hit count).
type Action struct {
	Kind     ActionKind `json:"kind"`
	Prob     float64    `json:"prob"`
	MaxDelay Duration   `json:"max_delay,omitempty"` // Sleep
	Count    int        `json:"count,omitempty"`     // Yields
}

// Duration is a time.Duration that reads and writes JSON as "150µs".
type Duration time.Duration

// MarshalJSON writes d as a duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads a duration string such as "150us".
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("chaos: duration must be a string such as \"150us\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("chaos: %w", err)
	}
	*d = Duration(v)
	return nil
}

// Plan is a fault plan: the seed it came from, the active markers and their
// actions, planted bugs to switch on (only the harness's self-test does),
// the metamorphic constants (capacities, batch sizes, goroutine counts)
// that tests running under the plan must use, and core's tuning: values
// for core's own magic numbers (core.Knobs: spin and yield counts, the
// pool's batch size, tick, thresholds and idle timeout, GoRange's chunks),
// which Start applies in a chaos build. A knob the plan leaves out keeps
// its default.
type Plan struct {
	Seed   uint64            `json:"seed"`
	Points map[string]Action `json:"points"`
	Bugs   map[string]Action `json:"bugs,omitempty"`
	Consts map[string]int    `json:"consts"`
	Tuning map[string]int    `json:"tuning,omitempty"`
}

// NewPlan derives a plan from seed: each marker of core (bugs, contract
// checks and the serialized mode's step markers excepted) is active with
// probability 1/2, with an action and a probability drawn from
// the seed, and the constants and core's tuning are drawn likewise (see
// newTuning).
func NewPlan(seed uint64) Plan {
	rng := rand.New(rand.NewPCG(seed, 0x6e696d73796e63)) // "nimsync"
	p := Plan{Seed: seed, Points: map[string]Action{}, Consts: map[string]int{}}
	probs := []float64{0.01, 0.05, 0.2, 0.5}
	for _, fp := range failpoints.All() {
		if fp.Kind == failpoints.Bug || fp.Kind == failpoints.Contract || fp.Kind == failpoints.Step || rng.IntN(2) == 0 {
			continue
		}
		a := Action{Prob: probs[rng.IntN(len(probs))]}
		if fp.Kind == failpoints.Decide {
			a.Kind = Decide
		} else {
			switch rng.IntN(8) {
			case 0, 1, 2:
				a.Kind = Yield
			case 3, 4:
				a.Kind = Sleep
				a.MaxDelay = Duration([]time.Duration{2 * time.Microsecond, 20 * time.Microsecond, 200 * time.Microsecond, 2 * time.Millisecond}[rng.IntN(4)])
			case 5, 6:
				a.Kind = Yields
				a.Count = 2 + rng.IntN(15)
			default:
				a.Kind = Storm
				a.Prob = min(a.Prob, 0.05)
			}
		}
		p.Points[fp.Name] = a
	}
	p.Consts["capacity"] = []int{1, 2, 4, 16, 64, 1024}[rng.IntN(6)]
	p.Consts["batch"] = []int{1, 2, 8, 64}[rng.IntN(4)]
	p.Consts["senders"] = 1 + rng.IntN(4)
	p.Consts["receivers"] = 1 + rng.IntN(4)
	p.Consts["tasks"] = []int{1, 16, 256, 4096}[rng.IntN(4)]
	p.Consts["depth"] = 1 + rng.IntN(5)
	p.Tuning = newTuning(seed)
	return p
}

// Const returns the plan's constant name, or def if the plan has none (a
// hand-written or minimized plan may leave constants out).
func (p Plan) Const(name string, def int) int {
	if v, ok := p.Consts[name]; ok {
		return v
	}
	return def
}

// Validate checks every marker name against the table of core's markers
// (internal/failpoints) and every action against the marker's kind, and
// the tuning against core.Knobs (names, ranges). Unknown names are errors,
// never silently ignored.
func (p Plan) Validate() error {
	if err := core.CheckTuning(p.Tuning); err != nil {
		return fmt.Errorf("chaos: plan tuning: %w", err)
	}
	known := map[string]failpoints.Point{}
	for _, fp := range failpoints.All() {
		known[fp.Name] = fp
	}
	check := func(name string, a Action, bugs bool) error {
		fp, ok := known[name]
		if !ok {
			return fmt.Errorf("chaos: unknown failpoint %q (known: %s)", name, strings.Join(Names(), ", "))
		}
		if fp.Kind == failpoints.Contract {
			return fmt.Errorf("chaos: failpoint %q checks a contract in every chaos run: it takes no action", name)
		}
		if fp.Kind == failpoints.Step {
			return fmt.Errorf("chaos: failpoint %q is a scheduling point of the serialized mode: a plan takes no action there", name)
		}
		if isBug := fp.Kind == failpoints.Bug; isBug != bugs {
			if isBug {
				return fmt.Errorf("chaos: failpoint %q plants a bug: list it under \"bugs\", not \"points\"", name)
			}
			return fmt.Errorf("chaos: failpoint %q is not a planted bug: list it under \"points\"", name)
		}
		if a.Prob < 0 || a.Prob > 1 {
			return fmt.Errorf("chaos: failpoint %q: prob %v is not in [0, 1]", name, a.Prob)
		}
		switch a.Kind {
		case Sleep:
			if a.MaxDelay <= 0 || time.Duration(a.MaxDelay) > time.Second {
				return fmt.Errorf("chaos: failpoint %q: sleep needs 0 < max_delay <= 1s, got %v", name, time.Duration(a.MaxDelay))
			}
		case Yields:
			if a.Count < 1 || a.Count > 1000 {
				return fmt.Errorf("chaos: failpoint %q: yields needs 1 <= count <= 1000, got %d", name, a.Count)
			}
		case Yield, Storm:
		case Decide:
			if fp.Kind == failpoints.Hook {
				return fmt.Errorf("chaos: failpoint %q has no decision to take: use sleep, yield, yields or storm", name)
			}
			return nil
		default:
			return fmt.Errorf("chaos: failpoint %q: unknown action %q (sleep, yield, yields, storm, decide)", name, a.Kind)
		}
		if fp.Kind != failpoints.Hook {
			return fmt.Errorf("chaos: failpoint %q takes only the action decide", name)
		}
		return nil
	}
	for _, name := range sortedKeys(p.Points) {
		if err := check(name, p.Points[name], false); err != nil {
			return err
		}
	}
	for _, name := range sortedKeys(p.Bugs) {
		if err := check(name, p.Bugs[name], true); err != nil {
			return err
		}
	}
	return nil
}

// JSON returns the plan as indented JSON, which ParsePlan reads back.
func (p Plan) JSON() []byte {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		panic(err) // a Plan always marshals
	}
	return b
}

// ParsePlan reads a plan written by JSON (or by hand) and validates it.
// Unknown fields are errors.
func ParsePlan(data []byte) (Plan, error) {
	var p Plan
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return Plan{}, fmt.Errorf("chaos: reading plan: %w", err)
	}
	if p.Points == nil {
		p.Points = map[string]Action{}
	}
	if p.Consts == nil {
		p.Consts = map[string]int{}
	}
	return p, p.Validate()
}

// Names returns the names of core's failpoint markers, sorted.
func Names() []string {
	var names []string
	for _, fp := range failpoints.All() {
		names = append(names, fp.Name)
	}
	sort.Strings(names)
	return names
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
