package chaos_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/nimsync/nimsync/chaos"
	"github.com/nimsync/nimsync/core"
	"github.com/nimsync/nimsync/internal/failpoints"
	"github.com/stretchr/testify/require"
)

func TestPlanDeterministicAndRoundTrips(t *testing.T) {
	for seed := uint64(0); seed < 200; seed++ {
		p := chaos.NewPlan(seed)
		require.Equal(t, p, chaos.NewPlan(seed), "a plan is a function of its seed")
		require.NoError(t, p.Validate())
		q, err := chaos.ParsePlan(p.JSON())
		require.NoError(t, err, "seed %d: %s", seed, p.JSON())
		require.Equal(t, p, q, "seed %d: JSON round trip", seed)
		for name := range p.Points {
			require.False(t, strings.HasPrefix(name, "bug/"), "a chaos plan never plants bugs")
		}
	}
}

func TestPlansDiffer(t *testing.T) {
	// Swarm testing: seeds pick different subsets; across 64 seeds every
	// marker but the planted bugs is active somewhere, and inactive
	// somewhere else.
	active := map[string]int{}
	for seed := uint64(0); seed < 64; seed++ {
		for name := range chaos.NewPlan(seed).Points {
			active[name]++
		}
	}
	for _, fp := range failpoints.All() {
		if fp.Kind == failpoints.Bug || fp.Kind == failpoints.Contract || fp.Kind == failpoints.Step {
			require.Zero(t, active[fp.Name], fp.Name)
			continue
		}
		require.Greater(t, active[fp.Name], 0, fp.Name)
		require.Less(t, active[fp.Name], 64, fp.Name)
	}
}

func TestParsePlanRejects(t *testing.T) {
	for _, tc := range []struct{ json, want string }{
		{`{"seed":1,"points":{"chan/nope":{"kind":"yield","prob":0.5}},"consts":{}}`, `unknown failpoint "chan/nope"`},
		{`{"seed":1,"points":{"bug/lost-wakeup":{"kind":"decide","prob":1}},"consts":{}}`, `plants a bug`},
		{`{"seed":1,"bugs":{"chan/park":{"kind":"yield","prob":1}},"points":{},"consts":{}}`, `is not a planted bug`},
		{`{"seed":1,"points":{"chan/park":{"kind":"decide","prob":1}},"consts":{}}`, `no decision to take`},
		{`{"seed":1,"points":{"chan/park-spurious-wakeup":{"kind":"yield","prob":1}},"consts":{}}`, `only the action decide`},
		{`{"seed":1,"points":{"chan/park":{"kind":"jump","prob":1}},"consts":{}}`, `unknown action "jump"`},
		{`{"seed":1,"points":{"chan/park":{"kind":"yield","prob":2}},"consts":{}}`, `not in [0, 1]`},
		{`{"seed":1,"points":{"chan/park":{"kind":"sleep","prob":1}},"consts":{}}`, `max_delay`},
		{`{"seed":1,"points":{"chan/park":{"kind":"sleep","prob":1,"max_delay":"soon"}},"consts":{}}`, `invalid duration`},
		{`{"seed":1,"points":{},"consts":{},"extra":true}`, `unknown field "extra"`},
		{`{"seed":1,"points":{"contract/single-sender":{"kind":"yield","prob":1}},"consts":{}}`, `takes no action`},
		{`{"seed":1,"points":{"step/atomic":{"kind":"yield","prob":1}},"consts":{}}`, `scheduling point of the serialized mode`},
		{`not json`, `reading plan`},
		{`{"seed":1,"points":{},"consts":{},"tuning":{"pool/nope":1}}`, `plan tuning: core: unknown tuning knob "pool/nope" (known: `},
		{`{"seed":1,"points":{},"consts":{},"tuning":{"pool/batch-max":0}}`, `plan tuning: core: tuning knob "pool/batch-max": 0 is outside [1, 1024]`},
		{`{"seed":1,"points":{},"consts":{},"tuning":{"pool/min-queue":100}}`, `"pool/min-queue": 100 is not a power of two`},
		{`{"seed":1,"points":{},"consts":{},"tuning":{"pool/batch-max":"big"}}`, `reading plan`},
	} {
		_, err := chaos.ParsePlan([]byte(tc.json))
		require.ErrorContains(t, err, tc.want, tc.json)
	}
}

func TestDurationJSON(t *testing.T) {
	b, err := json.Marshal(chaos.Duration(150 * time.Microsecond))
	require.NoError(t, err)
	require.Equal(t, `"150µs"`, string(b))
	var d chaos.Duration
	require.NoError(t, json.Unmarshal([]byte(`"2ms"`), &d))
	require.Equal(t, chaos.Duration(2*time.Millisecond), d)
}

func TestConst(t *testing.T) {
	p := chaos.NewPlan(7)
	require.Equal(t, p.Consts["capacity"], p.Const("capacity", -1))
	require.Equal(t, -1, p.Const("absent", -1))
}

// TestPlanTuning: every plan tunes every knob of core (defaults included,
// so the plan logs and replays the whole tuning); across seeds each knob
// keeps its default somewhere and reaches its minimum and maximum
// somewhere else; a plan without tuning is valid and means the defaults.
func TestPlanTuning(t *testing.T) {
	type seen struct{ def, lo, hi, other bool }
	knobs := core.Knobs()
	by := map[string]*seen{}
	for seed := uint64(0); seed < 400; seed++ {
		p := chaos.NewPlan(seed)
		require.Len(t, p.Tuning, len(knobs), "seed %d", seed)
		require.NoError(t, core.CheckTuning(p.Tuning))
		for _, k := range knobs {
			v, ok := p.Tuning[k.Name]
			require.True(t, ok, "seed %d tunes %s", seed, k.Name)
			if by[k.Name] == nil {
				by[k.Name] = &seen{}
			}
			s := by[k.Name]
			switch v {
			case k.Default:
				s.def = true
			case k.Min:
				s.lo = true
			case k.Max:
				s.hi = true
			default:
				s.other = true
			}
		}
	}
	for _, k := range knobs {
		s := by[k.Name]
		require.True(t, s.def, "%s keeps its default in some plan", k.Name)
		require.True(t, s.lo || k.Min == k.Default, "%s reaches its minimum", k.Name)
		require.True(t, s.hi || k.Max == k.Default, "%s reaches its maximum", k.Name)
	}

	p, err := chaos.ParsePlan([]byte(`{"seed":1,"points":{},"consts":{}}`))
	require.NoError(t, err)
	require.Nil(t, p.Tuning, "no tuning: every knob keeps its default")
	require.NotContains(t, string(p.JSON()), "tuning")

	q := chaos.NewPlan(9)
	q.Tuning = map[string]int{"pool/batch-max": 1, "pool/idle-timeout-us": 0, "group/range-chunk": 1}
	r, err := chaos.ParsePlan(q.JSON())
	require.NoError(t, err)
	require.Equal(t, q.Tuning, r.Tuning, "a partial tuning round-trips")
	require.Contains(t, string(q.JSON()), `"pool/batch-max": 1`)
}
