package sched_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/nimsync/nimsync/sched"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWaitsAndWakes: a goroutine that parks waits from the step it parked
// at, and the Unpark of another wakes it after that one's step; a mutex's
// waiter is woken by the step that released it; a sleeper by the clock.
// Every wake follows a wait of its goroutine, and is by the goroutine that
// ran its step.
func TestWaitsAndWakes(t *testing.T) {
	for seed := range uint64(20) {
		r := sched.Run(seed, sched.Random(), sched.Options{}, func(g *sched.G) {
			var m sched.Mutex
			m.Name = "m"
			p := g.Go(func(g *sched.G) { g.Park("p parks") })
			g.Go(func(g *sched.G) { m.Lock(g); g.Yield("held"); m.Unlock(g) })
			g.Go(func(g *sched.G) { m.Lock(g); g.Yield("held"); m.Unlock(g) })
			g.Go(func(g *sched.G) { g.Sleep(time.Millisecond) })
			g.Block("p parked", func() bool { return p.ID() > 0 })
			g.Yield("before unpark")
			g.Unpark(p)
		})
		require.Nil(t, r.Failure, "seed %d", seed)
		waiting := map[int]bool{}
		wi := 0
		byClock := 0
		for _, w := range r.Wakes {
			for ; wi < len(r.Waits) && r.Waits[wi].Step <= w.Step; wi++ {
				waiting[r.Waits[wi].G] = true
			}
			require.True(t, waiting[w.G], "seed %d: g%d woken at step %d without a wait before", seed, w.G, w.Step)
			waiting[w.G] = false
			if w.By < 0 {
				byClock++
				assert.Equal(t, 4, w.G, "only the sleeper is woken by the clock")
				continue
			}
			assert.Equal(t, r.Decisions[w.Step], w.By, "seed %d: the wake's step is its waker's", seed)
		}
		assert.Equal(t, 1, byClock, "seed %d", seed)
		parks := 0
		for _, w := range r.Waits {
			if w.Point == "p parks" {
				parks++
				assert.Equal(t, 1, r.Decisions[w.Step], "g1 parks by its own step")
			}
		}
		if parks == 1 { // the Unpark came after the Park (else it left a permit)
			found := false
			for _, w := range r.Wakes {
				found = found || w.G == 1 && w.By == 0
			}
			assert.True(t, found, "seed %d: g0's Unpark wakes g1", seed)
		}
		for i := 1; i < len(r.Wakes); i++ {
			require.LessOrEqual(t, r.Wakes[i-1].Step, r.Wakes[i].Step)
		}
	}
}

// TestWaitsInArtifact: waits and wakes travel in the artifact, outside its
// trace hash: an artifact without them (an old one) parses and replays.
func TestWaitsInArtifact(t *testing.T) {
	r := sched.Run(3, sched.Random(), sched.Options{}, func(g *sched.G) {
		var a, b *sched.G
		a = g.Go(func(g *sched.G) { g.Park("a waits for b"); g.Unpark(b) })
		b = g.Go(func(g *sched.G) { g.Park("b waits for a"); g.Unpark(a) })
	})
	require.NotNil(t, r.Failure)
	require.Len(t, r.Waits, 2, "both park, for good")
	assert.Empty(t, r.Wakes)
	a := r.Artifact()
	js, err := a.Marshal()
	require.NoError(t, err)
	assert.Contains(t, string(js), `"waits"`)
	assert.NotContains(t, string(js), `"wakes"`, "omitted when empty")
	got, err := sched.ParseArtifact(js, "")
	require.NoError(t, err)
	assert.Equal(t, r.Waits, got.Waits)

	var m map[string]any
	require.NoError(t, json.Unmarshal(js, &m))
	delete(m, "waits")
	old, err := json.Marshal(m)
	require.NoError(t, err)
	got, err = sched.ParseArtifact(old, "random")
	require.NoError(t, err, "an artifact without waits and wakes")
	assert.Nil(t, got.Waits)
	rep := sched.Replay(got, sched.Options{}, func(g *sched.G) {
		var a, b *sched.G
		a = g.Go(func(g *sched.G) { g.Park("a waits for b"); g.Unpark(b) })
		b = g.Go(func(g *sched.G) { g.Park("b waits for a"); g.Unpark(a) })
	})
	require.NotNil(t, rep.Failure)
	assert.Equal(t, sched.Deadlock, rep.Failure.Kind)
	assert.Equal(t, r.Hash, rep.Hash)
	assert.Equal(t, r.Waits, rep.Waits, "a replay records the same waits")
}
