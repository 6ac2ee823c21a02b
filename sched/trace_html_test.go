package sched_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nimsync/nimsync/sched"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// inversion is a program with a lock-order inversion: two workers take
// mutexes a and b in opposite orders, and a third goroutine sleeps (a
// timer's wake) and then parks until the workers are done. It
// records a step-clocked history of each worker's critical sections. Some
// schedules deadlock.
type inversion struct {
	history []sched.HistoryOp
}

func (p *inversion) main(g *sched.G) {
	var a, b sched.Mutex
	a.Name, b.Name = "a", "b"
	left := 2
	waiter := g.Go(func(g *sched.G) {
		g.Sleep(time.Millisecond)
		for left > 0 {
			g.Park("chan/park")
		}
	})
	worker := func(first, second *sched.Mutex) func(*sched.G) {
		return func(g *sched.G) {
			for i := range 2 {
				call := g.Step() - 1
				first.Lock(g)
				g.Yield("work")
				second.Lock(g)
				second.Unlock(g)
				first.Unlock(g)
				p.history = append(p.history, sched.HistoryOp{G: g.ID(), Call: call, Return: g.Step() - 1,
					Label: fmt.Sprintf("section %d <%s→%s>", i, first.Name, second.Name)})
			}
			left--
			g.Unpark(waiter)
		}
	}
	g.Go(worker(&a, &b))
	g.Go(worker(&b, &a))
}

// deadlocked returns a run of the inversion that deadlocks, with its
// history.
func deadlocked(t *testing.T) (*sched.Result, []sched.HistoryOp) {
	t.Helper()
	for seed := range uint64(500) {
		p := &inversion{}
		r := sched.Run(seed, sched.Random(), sched.Options{}, p.main)
		if r.Failure != nil && r.Failure.Kind == sched.Deadlock && len(r.Preempted) > 0 && len(p.history) > 0 {
			return r, p.history
		}
	}
	t.Fatal("no seed in 500 deadlocks the lock-order inversion")
	return nil, nil
}

func writeHTML(t *testing.T, a *sched.Artifact, o sched.TraceOptions) string {
	t.Helper()
	var b strings.Builder
	require.NoError(t, a.WriteHTML(&b, o))
	return b.String()
}

// opBars returns the history's bars, [x, x+width], checking that one
// goroutine's do not overlap: one operation follows another, and where one
// returns in the step the next is called in, each has half of it.
func opBars(t *testing.T, page string) [][2]float64 {
	t.Helper()
	var all [][2]float64
	byG := map[string][][2]float64{}
	for _, m := range regexp.MustCompile(`<g class="op" data-g="(\d+)"[^>]*><title>[^<]*</title><rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)"`).FindAllStringSubmatch(page, -1) {
		var x, w float64
		fmt.Sscan(m[2], &x)
		fmt.Sscan(m[3], &w)
		bar := [2]float64{x, x + w}
		if bs := byG[m[1]]; len(bs) > 0 {
			assert.LessOrEqual(t, bs[len(bs)-1][1], bar[0]+0.1, "g%s's operations overlap", m[1])
		}
		byG[m[1]] = append(byG[m[1]], bar)
		all = append(all, bar)
	}
	return all
}

func count(s, re string) int { return len(regexp.MustCompile(re).FindAllStringIndex(s, -1)) }

// TestWriteHTML: a lane per goroutine, a box per step (or run of steps at
// one point), a mark per preemption, an arrow per wake, a dashed line per
// wait, the history's bars, and the failure at the end; deterministic.
func TestWriteHTML(t *testing.T) {
	r, hist := deadlocked(t)
	a := r.Artifact()
	require.NotEmpty(t, a.Wakes)
	page := writeHTML(t, a, sched.TraceOptions{Title: "lock-order inversion", History: hist})
	assert.True(t, strings.HasPrefix(page, "<!DOCTYPE html>\n"))
	assert.Contains(t, page, "<title>lock-order inversion — trace</title>")
	assert.Contains(t, page, "Strategy <code>random</code>")
	for g := range 4 {
		assert.Contains(t, page, fmt.Sprintf(`<g class="lane" data-g="%d">`, g))
		assert.Regexp(t, fmt.Sprintf(`class="lane-name"[^>]*>g%d<`, g), page)
	}
	assert.Equal(t, 4, count(page, `class="lane-name"`))

	steps := 0
	for _, m := range regexp.MustCompile(`data-steps="(\d+)"`).FindAllStringSubmatch(page, -1) {
		var k int
		fmt.Sscan(m[1], &k)
		steps += k
	}
	assert.Equal(t, len(a.Decisions), steps, "the boxes cover every step once")
	assert.Equal(t, len(a.Preempted), count(page, `class="preempt"`), "a mark per preemption")
	for _, s := range a.Preempted {
		assert.Contains(t, page, fmt.Sprintf(`class="step preempting" data-g="%d" data-step="%d"`, a.Decisions[s], s))
	}
	assert.Equal(t, len(a.Wakes), count(page, `<path class="wake`), "an arrow per wake")
	clock := 0
	for _, w := range a.Wakes {
		if w.By < 0 {
			clock++
			continue
		}
		assert.Contains(t, page, fmt.Sprintf(`<path class="wake" data-by="%d" data-g="%d" data-step="%d"`, w.By, w.G, w.Step))
	}
	assert.Equal(t, 1, clock, "the sleeper's timer")
	assert.Equal(t, clock, count(page, `class="wake clock"`))
	assert.Equal(t, len(a.Waits), count(page, `<line class="wait"`), "a dashed line per wait")
	assert.Equal(t, len(r.Failure.Blocked), count(page, `class="still-waits"`), "each deadlocked goroutine still waits at the end")
	assert.Equal(t, len(hist), count(page, `<g class="op"`), "a bar per operation")
	assert.Contains(t, page, "section 0 &lt;a→b&gt;", "history labels escaped")
	assert.Len(t, opBars(t, page), len(hist))

	msg := r.Failure.Error()
	last := len(a.Decisions) - 1
	assert.Contains(t, page, fmt.Sprintf(`<g id="end" class="end failed" data-step="%d">`, last))
	assert.Contains(t, page, fmt.Sprintf("✗ failed after step %d", last))
	esc := strings.NewReplacer(`"`, "&#34;").Replace(msg)
	assert.Contains(t, page, fmt.Sprintf("<pre id=\"failure\">%s</pre>", esc), "the failure at the end")
	assert.Contains(t, page, "All "+fmt.Sprint(len(a.Decisions))+" steps.")
	assert.Less(t, strings.Index(page, `class="steps"`), strings.Index(page, `id="failure"`))
	assert.NotContains(t, page, "http://www.w3.org/1999", "no link but the SVG namespace")
	assert.NotRegexp(t, `(src|href)=`, page, "nothing to fetch")
	assert.NotContains(t, page, "@import")

	assert.Equal(t, page, writeHTML(t, a, sched.TraceOptions{Title: "lock-order inversion", History: hist}), "deterministic")
	js, err := a.Marshal()
	require.NoError(t, err)
	b, err := sched.ParseArtifact(js, "")
	require.NoError(t, err)
	assert.Equal(t, page, writeHTML(t, b, sched.TraceOptions{Title: "lock-order inversion", History: hist}), "the same from the parsed artifact")
}

// TestWriteHTMLEscapes: titles, points, failures and labels are text.
func TestWriteHTMLEscapes(t *testing.T) {
	r := sched.Run(1, sched.Random(), sched.Options{}, func(g *sched.G) {
		g.Go(func(g *sched.G) { g.Park(`<script>alert("p")</script>`) })
		g.Yield(`a & b`)
	})
	require.NotNil(t, r.Failure)
	page := writeHTML(t, r.Artifact(), sched.TraceOptions{Title: `<b>t</b>`, Failure: `<img onerror=x> & "q"`,
		History: []sched.HistoryOp{{G: 0, Call: 0, Return: 1, Label: `</text><script>`}}})
	assert.NotContains(t, page, "<script>alert")
	assert.NotContains(t, page, "<b>t</b>")
	assert.NotContains(t, page, "<img")
	assert.NotContains(t, page, "</text><script>")
	assert.Contains(t, page, "&lt;script&gt;alert(&#34;p&#34;)&lt;/script&gt;")
	assert.Contains(t, page, "a &amp; b")
	assert.Contains(t, page, "&lt;img onerror=x&gt; &amp; &#34;q&#34;")
	assert.Equal(t, 1, strings.Count(page, "<script>"), "the page's own script only")
}

// TestWriteHTMLLast: a long run shows its last steps, says so, and draws
// only what is in that window.
func TestWriteHTMLLast(t *testing.T) {
	r := sched.Run(5, sched.Random(), sched.Options{MaxSteps: 3000}, func(g *sched.G) {
		turn := 0
		for i := range 3 {
			g.Go(func(g *sched.G) {
				for {
					g.Block("turn", func() bool { return turn == i })
					turn = (i + 1) % 3
				}
			})
		}
	})
	require.NotNil(t, r.Failure)
	require.Equal(t, sched.Livelock, r.Failure.Kind)
	a := r.Artifact()
	n := len(a.Decisions)
	page := writeHTML(t, a, sched.TraceOptions{})
	assert.Contains(t, page, fmt.Sprintf("The last 400 steps of %d (steps %d–%d)", n, n-400, n-1))
	assert.Contains(t, page, fmt.Sprintf("◂ %d earlier", n-400))
	page = writeHTML(t, a, sched.TraceOptions{Last: 30})
	assert.Contains(t, page, fmt.Sprintf("The last 30 steps of %d (steps %d–%d)", n, n-30, n-1))
	steps := 0
	for _, m := range regexp.MustCompile(`class="step[^"]*" data-g="\d+" data-step="(\d+)" data-steps="(\d+)"`).FindAllStringSubmatch(page, -1) {
		var s, k int
		fmt.Sscan(m[1], &s)
		fmt.Sscan(m[2], &k)
		assert.GreaterOrEqual(t, s, n-30)
		steps += k
	}
	assert.Equal(t, 30, steps)
	wakes := 0
	for _, w := range a.Wakes {
		if w.Step >= n-30 {
			wakes++
		}
	}
	assert.Positive(t, wakes)
	assert.Equal(t, wakes, count(page, `<path class="wake`), "only the window's wakes")
	assert.Equal(t, 3, count(page, `class="lane-name"`), "g0 returned long before the window")
	assert.Contains(t, page, "livelock")

	// A history of g1: an operation from each of its steps to its next,
	// one after the other; those that end in the window are drawn.
	var hist []sched.HistoryOp
	prev, want := -1, 0
	for i, g := range a.Decisions {
		if g != 1 {
			continue
		}
		if prev >= 0 {
			hist = append(hist, sched.HistoryOp{G: 1, Call: prev, Return: i, Label: fmt.Sprint("op ", len(hist))})
			if i >= n-30 {
				want++
			}
		}
		prev = i
	}
	page = writeHTML(t, a, sched.TraceOptions{Last: 30, History: hist})
	require.Positive(t, want)
	assert.Len(t, opBars(t, page), want)
	assert.Contains(t, page, "◂ op ", "an operation called before the window")
	assert.Equal(t, 3, count(page, `class="ops-name"`), "each lane has its history row")
}

// TestWriteHTMLOldArtifact: an artifact without waits and wakes (written
// before they were recorded) still draws, and says why it has no arrows.
func TestWriteHTMLOldArtifact(t *testing.T) {
	r, _ := deadlocked(t)
	js, err := r.Artifact().Marshal()
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(js, &m))
	delete(m, "waits")
	delete(m, "wakes")
	old, err := json.Marshal(m)
	require.NoError(t, err)
	a, err := sched.ParseArtifact(old, "")
	require.NoError(t, err)
	page := writeHTML(t, a, sched.TraceOptions{})
	assert.Contains(t, page, "No waits or wakes recorded")
	assert.Zero(t, count(page, `<path class="wake`))
	assert.Equal(t, 4, count(page, `class="lane-name"`))
}
