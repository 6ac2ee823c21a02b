package sched_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/nimsync/nimsync/sched"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// failingArtifact finds the first seed under s at which the counter program
// panics on its lost update, and returns the run's artifact through its JSON
// form.
func failingArtifact(t *testing.T, s sched.Strategy) (*sched.Result, *sched.Artifact) {
	t.Helper()
	for seed := range uint64(1000) {
		r, _ := runCounter(seed, s, sched.Options{MaxSteps: 100}, true)
		if r.Failure == nil {
			continue
		}
		require.Equal(t, sched.Panic, r.Failure.Kind, r.Failure.Error())
		data, err := r.Artifact().Marshal()
		require.NoError(t, err)
		a, err := sched.ParseArtifact(data, s.String())
		require.NoError(t, err)
		return r, a
	}
	t.Fatalf("%v: no lost update in 1000 seeds", s)
	return nil, nil
}

func TestReplayReproduces(t *testing.T) {
	for _, s := range []sched.Strategy{sched.Random(), sched.PCT(2)} {
		orig, a := failingArtifact(t, s)
		same := 0
		for range 100 {
			c := &counter{workers: 3, incs: 3, check: true}
			r := sched.Replay(a, sched.Options{}, c.main)
			require.NotNil(t, r.Failure)
			if r.Failure.Kind == sched.Panic && r.Hash == orig.Hash && r.Failure.Value == orig.Failure.Value {
				same++
			}
		}
		t.Logf("%v seed %d: %d steps, replayed %d/100 with hash %016x", s, orig.Seed, orig.Steps, same, orig.Hash)
		assert.Equal(t, 100, same, "%v", s)
	}
}

func TestReplayOfPassingRun(t *testing.T) {
	r, _ := runCounter(5, sched.PCT(1), sched.Options{}, true)
	require.Nil(t, r.Failure)
	c := &counter{workers: 3, incs: 3, check: true}
	again := sched.Replay(r.Artifact(), sched.Options{}, c.main)
	require.Nil(t, again.Failure)
	assert.Equal(t, r.Hash, again.Hash)
}

func TestReplayDivergence(t *testing.T) {
	orig, a := failingArtifact(t, sched.Random())
	changed := &counter{workers: 3, incs: 3, check: true, extraYield: true}
	r := sched.Replay(a, sched.Options{}, changed.main)
	require.NotNil(t, r.Failure)
	require.Equal(t, sched.Divergence, r.Failure.Kind)
	// The first step at which a goroutine stands at "write" (it passed
	// "read" and is picked again): there the changed program stands at
	// "extra".
	first := -1
	for i, e := range orig.Trace {
		if e.Point == "write" {
			first = i
			break
		}
	}
	require.GreaterOrEqual(t, first, 0)
	g := orig.Trace[first].G
	assert.Equal(t, first, r.Failure.Step)
	assert.Equal(t, fmt.Sprintf("g%d at %q", g, "write"), r.Failure.Expected)
	assert.Equal(t, fmt.Sprintf("g%d at %q", g, "extra"), r.Failure.Got)
	assert.Equal(t, fmt.Sprintf(`sched: replay diverged at step %d: expected g%d at "write", got g%d at "extra"`, first, g, g), r.Failure.Error())

	// A program that ends early diverges too, never a silent pass.
	r = sched.Replay(a, sched.Options{}, func(g *sched.G) {})
	require.NotNil(t, r.Failure)
	assert.Equal(t, sched.Divergence, r.Failure.Kind)
	assert.Equal(t, 1, r.Failure.Step)
	assert.Contains(t, r.Failure.Got, "the end of the run")
}

func TestReplayLivelock(t *testing.T) {
	spin := func(g *sched.G) {
		g.Go(func(g *sched.G) {
			for {
				g.Yield("spin")
			}
		})
		g.Yield("main")
	}
	r := sched.Run(9, sched.Random(), sched.Options{MaxSteps: 300}, spin)
	require.Equal(t, sched.Livelock, r.Failure.Kind)
	again := sched.Replay(r.Artifact(), sched.Options{}, spin)
	require.Equal(t, sched.Livelock, again.Failure.Kind)
	assert.Equal(t, r.Hash, again.Hash)
}

func TestParseArtifactRejects(t *testing.T) {
	r, _ := runCounter(1, sched.PCT(2), sched.Options{MaxSteps: 100}, false)
	data, err := r.Artifact().Marshal()
	require.NoError(t, err)

	edit := func(f func(m map[string]any)) []byte {
		var m map[string]any
		require.NoError(t, json.Unmarshal(data, &m))
		f(m)
		b, err := json.Marshal(m)
		require.NoError(t, err)
		return b
	}
	_, err = sched.ParseArtifact(data, "")
	require.NoError(t, err)
	for name, tc := range map[string]struct {
		data []byte
		want string
		msg  string
	}{
		"version":           {edit(func(m map[string]any) { m["version"] = 2 }), "", "sched: artifact has decision format 2, want 1"},
		"strategy mismatch": {data, "random", `sched: artifact was recorded with strategy "pct:2", want "random"`},
		"bad strategy":      {edit(func(m map[string]any) { m["strategy"] = "dfs" }), "", `sched: artifact: sched: unknown strategy "dfs" (want random, pct:D or dfs:K)`},
		"hash": {edit(func(m map[string]any) { m["trace_hash"] = "0000000000000000" }), "",
			`sched: artifact trace hash "0000000000000000" does not match its decisions and points`},
		"lengths": {edit(func(m map[string]any) { m["points"] = []string{} }), "", "sched: artifact has"},
		"json":    {[]byte("{"), "", "sched: artifact: unexpected end of JSON input"},
	} {
		_, err := sched.ParseArtifact(tc.data, tc.want)
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), tc.msg, name)
	}
}
