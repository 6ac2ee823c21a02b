package sched

import (
	"fmt"
	"html"
	"io"
	"slices"
	"strings"
	"unicode/utf8"
)

// HistoryOp is one operation of a history clocked by the run's steps (a
// porcupine history whose clock is the step count): goroutine G called it
// during step Call and it returned during step Return (Return ≥ Call). A
// step during which G runs is one G was picked at: while G runs,
// [G.Step]()−1.
type HistoryOp struct {
	G            int
	Call, Return int
	Label        string // what it did, e.g. "Send(3) → nil"
}

// The HTML trace's geometry, in pixels. Text is 11 px monospace; a
// character is about 0.6 em wide.
const (
	hCharW   = 6.7
	hMinStep = 22.0  // the narrowest step box
	hMaxText = 40    // a point longer than this is cut (the tooltip has it all)
	hAxisH   = 40.0  // the step axis above the lanes
	hLaneH   = 40.0  // a lane without a history row
	hOpRowH  = 22.0  // the history row under a lane's steps
	hBoxH    = 22.0  // a step box
	hBoxTop  = 9.0   // from a lane's top to its boxes
	hEndW    = 300.0 // the column after the last step: the failure mark, what still waits
	hNamesW  = 56.0  // the lane names' column
	hLeftPad = 8.0
)

// hBolt is the preemption mark, a lightning bolt 11 px tall drawn from
// its top left corner (after an "M x,y").
const hBolt = "l5,0 l-2,4 l3,0 l-6,7 l1.5,-5 l-3,0 z"

// hColors are the step boxes' fills, by goroutine id.
var hColors = [...]string{"#cfe2ff", "#d1f0d8", "#ffe8c2", "#ead7f7", "#cdeff2", "#f9d6dc", "#e6ecc4", "#e3e3e3"}

// hSeg is a run of steps of one goroutine at one point: one box.
type hSeg struct {
	g, from, to int // steps [from, to)
	x, w        float64
	point       string
}

// WriteHTML writes the trace as a self-contained HTML page (inline CSS,
// an inline SVG drawing and one line of script that scrolls it to its end;
// no network, no external font): one lane per goroutine, the run's last
// steps along a shared horizontal axis, each step a box in the lane of the
// goroutine that ran it, labelled with the point it ran on from (a
// goroutine's steps in a row at one point are one box, "×n"); ⚡ marks a
// preemption; an arrow goes from the step after which a waiting goroutine
// became runnable to its lane (Artifact.Wakes: an Unpark, a condition made
// true, a mutex released; from the axis when a timer fired); a dashed line
// is a goroutine waiting (Artifact.Waits), a thin line one runnable but not
// running; o.History's operations are bars under their goroutine's steps,
// from the call's step to the return's; the failure ends the drawing and
// the page. It shows the last o.Last steps (default 400) and says so. The
// page is a function of a and o alone.
func (a *Artifact) WriteHTML(w io.Writer, o TraceOptions) error {
	last, failure := o.window(a)
	esc := html.EscapeString
	n := len(a.Decisions)
	from := max(0, n-last)
	gs := 0
	for _, g := range a.Decisions {
		gs = max(gs, g+1)
	}

	// The boxes, and where each step is along the axis.
	var segs []hSeg
	x := hLeftPad
	for i := from; i < n; {
		g, p := a.Decisions[i], a.point(i)
		j := i + 1
		for j < n && a.Decisions[j] == g && a.point(j) == p {
			j++
		}
		s := hSeg{g: g, from: i, to: j, x: x, point: p}
		s.w = max(hMinStep, textW(s.label())+12)
		segs = append(segs, s)
		x += s.w
		i = j
	}
	endX := x
	width := endX + hEndW
	seg := func(step int) *hSeg { // the box of a step in the window
		k, _ := slices.BinarySearchFunc(segs, step, func(s hSeg, step int) int {
			switch {
			case s.to <= step:
				return -1
			case s.from > step:
				return 1
			}
			return 0
		})
		return &segs[k]
	}
	left := func(step int) float64 { // a step's left edge; past the window's ends, its edges
		switch {
		case step < from:
			return 0
		case step >= n:
			return endX
		}
		s := seg(step)
		return s.x + s.w*float64(step-s.from)/float64(s.to-s.from)
	}
	right := func(step int) float64 { return left(step + 1) }

	// The lanes: every goroutine with something in the window, by id.
	inWin := func(step int) bool { return step >= from && step < n }
	has := map[int]bool{}
	for _, s := range segs {
		has[s.g] = true
	}
	var waits []hWait // those that end in the window or after it
	for _, iv := range a.waitIntervals() {
		if iv.to >= from {
			waits = append(waits, iv)
			has[iv.g] = true
		}
	}
	for _, wk := range a.Wakes {
		if inWin(wk.Step) {
			has[wk.G] = true
			if wk.By >= 0 {
				has[wk.By] = true
			}
		}
	}
	var ops []HistoryOp
	for _, op := range o.History {
		if op.Return >= from && op.Call < n && op.G >= 0 {
			ops = append(ops, op)
			has[op.G] = true
		}
	}
	var lanes []int
	for g := range has {
		lanes = append(lanes, g)
	}
	slices.Sort(lanes)
	laneH := hLaneH
	if len(ops) > 0 {
		laneH += hOpRowH
	}
	laneOf := make(map[int]int, len(lanes))
	for k, g := range lanes {
		laneOf[g] = k
	}
	laneTop := func(g int) float64 { return hAxisH + float64(laneOf[g])*laneH }
	boxMid := func(g int) float64 { return laneTop(g) + hBoxTop + hBoxH/2 }
	height := hAxisH + float64(len(lanes))*laneH + 12

	var b strings.Builder
	title := o.Title
	if title == "" {
		title = "Serialized run"
	}
	fmt.Fprintf(&b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>%s — trace</title>\n<style>\n%s</style>\n</head>\n<body>\n", esc(title), htmlCSS)
	fmt.Fprintf(&b, "<h1>%s</h1>\n", esc(title))
	fmt.Fprintf(&b, "<p class=\"summary\">Strategy <code>%s</code>, seed %d: %d steps, %d goroutines, %d preemptions", esc(a.Strategy), a.Seed, n, gs, len(a.Preempted))
	if k := len(a.Preempted); k > 0 && k <= 20 {
		fmt.Fprintf(&b, " (at steps %s)", joinInts(a.Preempted))
	}
	fmt.Fprintf(&b, "; trace hash <code>%s</code>.</p>\n", esc(a.TraceHash))
	if failure != "" {
		fmt.Fprintf(&b, "<p class=\"failure-top\"><b>Failure:</b> %s</p>\n", esc(cut(oneLine(failure), 400)))
	}
	if from > 0 {
		fmt.Fprintf(&b, "<p class=\"window\">The last %d steps of %d (steps %d–%d); the %d before them are in the artifact's decisions.</p>\n", n-from, n, from, n-1, from)
	} else {
		fmt.Fprintf(&b, "<p class=\"window\">All %d steps.</p>\n", n)
	}
	b.WriteString(htmlLegend)
	if a.Waits == nil && a.Wakes == nil && n > 0 {
		b.WriteString("<p class=\"note\">No waits or wakes recorded: no goroutine waited, or the artifact predates their recording (no arrows then).</p>\n")
	}

	// The lane names, a column that stays while the drawing scrolls.
	fmt.Fprintf(&b, "<div class=\"trace\">\n<svg class=\"names\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\">\n", hNamesW, height, hNamesW, height)
	fmt.Fprintf(&b, "<text class=\"axis-name\" x=\"6\" y=\"%.1f\">step</text>\n", hAxisH-14)
	for _, g := range lanes {
		fmt.Fprintf(&b, "<text class=\"lane-name\" x=\"8\" y=\"%.1f\">g%d</text>\n", boxMid(g)+4, g)
		if len(ops) > 0 {
			fmt.Fprintf(&b, "<text class=\"ops-name\" x=\"8\" y=\"%.1f\">ops</text>\n", laneTop(g)+hLaneH+hOpRowH/2+2)
		}
	}
	b.WriteString("</svg>\n")

	fmt.Fprintf(&b, "<div class=\"scroll\" id=\"scroll\">\n<svg class=\"lanes\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\">\n", width, height, width, height)
	b.WriteString("<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#1f5fbf\"/></marker>" +
		"<marker id=\"arrow-clock\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#c26a00\"/></marker></defs>\n")
	for k, g := range lanes {
		odd := ""
		if k%2 == 1 {
			odd = " odd"
		}
		fmt.Fprintf(&b, "<g class=\"lane\" data-g=\"%d\"><rect class=\"lane-bg%s\" x=\"0\" y=\"%.1f\" width=\"%.0f\" height=\"%.1f\"/></g>\n",
			g, odd, laneTop(g), width, laneH)
	}

	// The axis: a step number at a box's left edge where there is room.
	fmt.Fprintf(&b, "<g class=\"axis\"><line x1=\"0\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", hAxisH-1, endX, hAxisH-1)
	if from > 0 {
		fmt.Fprintf(&b, "<text class=\"earlier\" x=\"2\" y=\"%.1f\">◂ %d earlier</text>\n", hAxisH-26, from)
	}
	next := -1e9
	for _, s := range segs {
		fmt.Fprintf(&b, "<line class=\"tick\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", s.x, hAxisH-6, s.x, hAxisH-1)
		if s.x >= next {
			fmt.Fprintf(&b, "<text class=\"tick-label\" x=\"%.1f\" y=\"%.1f\">%d</text>", s.x+1, hAxisH-10, s.from)
			next = s.x + textW(fmt.Sprint(s.from)) + 10
		}
		b.WriteByte('\n')
	}
	b.WriteString("</g>\n")

	// What each goroutine did between its boxes: runnable (a thin line),
	// then waiting (dashed) from a wait to its wake.
	b.WriteString("<g class=\"states\">\n")
	lastSeg := map[int]*hSeg{}
	for k := range segs {
		s := &segs[k]
		if p := lastSeg[s.g]; p != nil && p.to < s.from {
			y := boxMid(s.g)
			fmt.Fprintf(&b, "<line class=\"runnable\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", p.x+p.w, y, s.x, y)
		}
		lastSeg[s.g] = s
	}
	for _, wk := range a.Wakes { // runnable from a wake to its goroutine's next step or wait
		if !inWin(wk.Step) {
			continue
		}
		end := endX
		k, _ := slices.BinarySearchFunc(segs, wk.Step+1, func(s hSeg, step int) int { return s.from - step })
		for ; k < len(segs); k++ {
			if segs[k].g == wk.G {
				end = segs[k].x
				break
			}
		}
		for _, iv := range waits {
			if iv.g == wk.G && iv.from > wk.Step {
				end = min(end, right(iv.from))
				break
			}
		}
		y := boxMid(wk.G)
		fmt.Fprintf(&b, "<line class=\"runnable\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", right(wk.Step), y, end, y)
	}
	for _, iv := range waits {
		x1, y := right(iv.from), boxMid(iv.g)
		x2 := endX + 12
		if iv.woken {
			x2 = right(iv.to)
		}
		fmt.Fprintf(&b, "<line class=\"wait\" data-g=\"%d\" data-step=\"%d\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"><title>g%d waits at %s from step %d</title></line>\n",
			iv.g, iv.from, x1, y, x2, y, iv.g, esc(iv.point), iv.from+1)
		if !iv.woken {
			fmt.Fprintf(&b, "<text class=\"still-waits\" x=\"%.1f\" y=\"%.1f\">waits at %s</text>\n", endX+16, y+4, esc(cut(iv.point, hMaxText)))
		}
	}
	b.WriteString("</g>\n")

	// History operations, under their goroutine's steps.
	if len(ops) > 0 {
		b.WriteString("<g class=\"history\">\n")
		// One goroutine's operations follow one another: where one
		// returns in the step the next is called in, each has half of it.
		ends := map[[2]int]bool{} // (goroutine, step) a call shares with a return
		for _, op := range ops {
			ends[[2]int{op.G, op.Return}] = true
		}
		calls := map[[2]int]bool{}
		for _, op := range ops {
			calls[[2]int{op.G, op.Call}] = true
		}
		for _, op := range ops {
			x1, x2 := left(op.Call), right(max(op.Return, op.Call))
			if ends[[2]int{op.G, op.Call}] && op.Call >= from {
				x1 = (left(op.Call) + right(op.Call)) / 2
			}
			if calls[[2]int{op.G, op.Return}] && op.Return > op.Call && op.Return < n {
				x2 = (left(op.Return) + right(op.Return)) / 2
			}
			y := laneTop(op.G) + hLaneH - 2
			wd := max(x2-x1, 3)
			label := op.Label
			if op.Call < from {
				label = "◂ " + label
			}
			fmt.Fprintf(&b, "<g class=\"op\" data-g=\"%d\" data-call=\"%d\" data-return=\"%d\"><title>g%d %s: called in step %d, returned in step %d</title><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" rx=\"3\"/>",
				op.G, op.Call, op.Return, op.G, esc(op.Label), op.Call, op.Return, x1, y, wd, hOpRowH-6)
			if fit := int((wd - 6) / hCharW); fit >= 2 {
				fmt.Fprintf(&b, "<text x=\"%.1f\" y=\"%.1f\">%s</text>", x1+3, y+hOpRowH/2, esc(cut(label, fit)))
			}
			b.WriteString("</g>\n")
		}
		b.WriteString("</g>\n")
	}

	// The steps.
	b.WriteString("<g class=\"steps\">\n")
	for _, s := range segs {
		y := laneTop(s.g) + hBoxTop
		pre := isPreempted(a.Preempted, s.from)
		cls := "step"
		if pre {
			cls += " preempting"
		}
		steps := fmt.Sprint(s.from)
		if s.to-s.from > 1 {
			steps = fmt.Sprintf("%d–%d", s.from, s.to-1)
		}
		tip := fmt.Sprintf("step %s: g%d ran on from %s", steps, s.g, s.point)
		if pre {
			tip += " (a preemption: it took the processor from a goroutine that could have gone on)"
		}
		fmt.Fprintf(&b, "<g class=\"%s\" data-g=\"%d\" data-step=\"%d\" data-steps=\"%d\"><title>%s</title><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" rx=\"4\" fill=\"%s\"/><text x=\"%.1f\" y=\"%.1f\">%s</text></g>",
			cls, s.g, s.from, s.to-s.from, esc(tip), s.x+1, y, s.w-2, hBoxH, hColors[s.g%len(hColors)], s.x+6, y+hBoxH/2+4, esc(s.label()))
		if pre {
			fmt.Fprintf(&b, "<path class=\"preempt\" data-step=\"%d\" d=\"M%.1f,%.1f %s\"/>", s.from, s.x+2, y-9, hBolt)
		}
		b.WriteByte('\n')
	}
	b.WriteString("</g>\n")

	// The wakes: from the waker's step to the lane of the one it woke, at
	// the end of that step; from the axis when the clock woke it.
	b.WriteString("<g class=\"wakes\">\n")
	for _, wk := range a.Wakes {
		if !inWin(wk.Step) || wk.By == wk.G {
			continue
		}
		x2 := right(wk.Step)
		gy := boxMid(wk.G)
		if wk.By < 0 {
			fmt.Fprintf(&b, "<path class=\"wake clock\" data-by=\"-1\" data-g=\"%d\" data-step=\"%d\" d=\"M%.1f,%.1f L%.1f,%.1f\" marker-end=\"url(#arrow-clock)\"><title>a timer woke g%d after step %d</title></path><g class=\"clock-mark\"><circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\"/><path d=\"M%.1f,%.1f v-3.5 M%.1f,%.1f h2.5\"/></g>\n",
				wk.G, wk.Step, x2, hAxisH+5, x2, gy-hBoxH/2, wk.G, wk.Step, x2, hAxisH+1, x2, hAxisH+1, x2, hAxisH+1)
			continue
		}
		s := seg(wk.Step)
		x1 := left(wk.Step) + (right(wk.Step)-left(wk.Step))/2
		if s.to-s.from == 1 {
			x1 = s.x + s.w*0.6
		}
		y1, y2 := boxMid(wk.By), gy
		if y2 > y1 {
			y1, y2 = y1+hBoxH/2, y2-hBoxH/2
		} else {
			y1, y2 = y1-hBoxH/2, y2+hBoxH/2
		}
		x2 += 4
		mid := (y1 + y2) / 2
		fmt.Fprintf(&b, "<path class=\"wake\" data-by=\"%d\" data-g=\"%d\" data-step=\"%d\" d=\"M%.1f,%.1f C%.1f,%.1f %.1f,%.1f %.1f,%.1f\" marker-end=\"url(#arrow)\"><title>g%d's step %d woke g%d</title></path>\n",
			wk.By, wk.G, wk.Step, x1, y1, x1, mid, x2, mid, x2, y2, wk.By, wk.Step, wk.G)
	}
	b.WriteString("</g>\n")

	// The end: the failure, after the last step.
	if n > 0 {
		mark, cls := "✓ the end", "end"
		if failure != "" {
			mark, cls = "✗ failed", "end failed"
		}
		fmt.Fprintf(&b, "<g id=\"end\" class=\"%s\" data-step=\"%d\"><line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/><text x=\"%.1f\" y=\"%.1f\">%s after step %d</text></g>\n",
			cls, n-1, endX+4, 4.0, endX+4, height-4, endX+10, 16.0, mark, n-1)
	}
	b.WriteString("</svg>\n</div>\n</div>\n")
	if failure != "" {
		fmt.Fprintf(&b, "<h2>Then, after step %d: the failure</h2>\n<pre id=\"failure\">%s</pre>\n", n-1, esc(failure))
	}
	b.WriteString("<script>var s=document.getElementById(\"scroll\");s.scrollLeft=s.scrollWidth;</script>\n</body>\n</html>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// point is step i's point, "" if the artifact has none.
func (a *Artifact) point(i int) string {
	if i < len(a.Points) {
		return a.Points[i]
	}
	return ""
}

func (s *hSeg) label() string {
	l := cut(s.point, hMaxText)
	if k := s.to - s.from; k > 1 {
		l += fmt.Sprintf(" ×%d", k)
	}
	return l
}

// hWait is a goroutine waiting from the step after from (at point) until
// the one after to, when it was woken (woken), or to the end.
type hWait struct {
	g, from, to int
	point       string
	woken       bool
}

// waitIntervals pairs each wait with its goroutine's next wake, in the
// waits' order.
func (a *Artifact) waitIntervals() []hWait {
	var out []hWait
	open := map[int]int{} // goroutine → its interval in out
	wi, ki := 0, 0
	for wi < len(a.Waits) || ki < len(a.Wakes) {
		if wi < len(a.Waits) && (ki == len(a.Wakes) || a.Waits[wi].Step < a.Wakes[ki].Step) {
			w := a.Waits[wi]
			wi++
			open[w.G] = len(out)
			out = append(out, hWait{g: w.G, from: w.Step, to: len(a.Decisions), point: w.Point})
			continue
		}
		k := a.Wakes[ki]
		ki++
		if j, ok := open[k.G]; ok {
			out[j].to, out[j].woken = k.Step, true
			delete(open, k.G)
		}
	}
	return out
}

// textW is the width of s in the trace's monospace font, about.
func textW(s string) float64 { return float64(utf8.RuneCountInString(s)) * hCharW }

// cut shortens s to at most n runes, ending with "…" if it did.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:max(n-1, 0)]) + "…"
}

const htmlCSS = `body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d2430; background: #fff; margin: 18px 22px; }
h1 { font-size: 20px; margin: 0 0 6px; }
h2 { font-size: 16px; margin: 18px 0 6px; color: #9b1c1c; }
code, pre, svg text { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", monospace; }
.summary, .window, .note { margin: 4px 0; }
.failure-top { margin: 6px 0; padding: 6px 10px; background: #fdecec; border-left: 4px solid #c62828; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 18px; margin: 8px 0 10px; font-size: 13px; color: #404a5a; }
.legend svg { vertical-align: middle; margin-right: 4px; }
.trace { display: flex; border: 1px solid #c9d1dc; border-radius: 4px; }
.names { flex: none; background: #f4f6f9; border-right: 1px solid #c9d1dc; }
.scroll { overflow-x: auto; flex: 1; }
svg text { font-size: 11px; fill: #1d2430; }
.lane-name { font-size: 13px; font-weight: 600; }
.axis-name, .ops-name { fill: #6b7686; }
.lane-bg { fill: #fff; }
.lane-bg.odd { fill: #f7f9fb; }
.axis line { stroke: #8a94a3; stroke-width: 1; }
.tick-label { fill: #4a5566; font-size: 10px; }
.earlier { fill: #6b7686; font-size: 10px; }
.step rect { stroke: #5b6a80; stroke-width: 0.8; }
.step:hover rect { stroke: #000; stroke-width: 1.6; }
.step.preempting rect { stroke: #d32f2f; stroke-width: 2; }
.preempt { fill: #e53935; stroke: #8e0000; stroke-width: 0.6; }
.clock-mark circle { fill: #fff3e0; stroke: #c26a00; stroke-width: 1.4; }
.clock-mark path { stroke: #c26a00; stroke-width: 1.2; fill: none; }
.runnable { stroke: #9aa5b4; stroke-width: 1.2; }
.wait { stroke: #b26b00; stroke-width: 2; stroke-dasharray: 5 3; }
.still-waits { fill: #8a5200; font-style: italic; }
.wake { fill: none; stroke: #1f5fbf; stroke-width: 1.4; opacity: 0.85; }
.wake:hover { stroke-width: 2.6; opacity: 1; }
.wake.clock { stroke: #c26a00; stroke-dasharray: 3 2; }
.op rect { fill: #b9e4c9; stroke: #2e7d4f; stroke-width: 0.8; }
.op text { font-size: 10px; fill: #174d2e; }
.end line { stroke: #2e7d4f; stroke-width: 2; }
.end text { fill: #2e7d4f; font-weight: 700; font-size: 12px; }
.end.failed line { stroke: #c62828; stroke-width: 3; }
.end.failed text { fill: #c62828; }
#failure { white-space: pre-wrap; background: #fdecec; border: 1px solid #e9b4b4; padding: 8px 10px; border-radius: 4px; font-size: 12.5px; max-height: 40em; overflow: auto; }
`

const htmlLegend = `<div class="legend">
<span><svg width="34" height="16"><rect x="1" y="2" width="32" height="12" rx="3" fill="#cfe2ff" stroke="#5b6a80" stroke-width="0.8"/></svg>a step, labelled with the point its goroutine ran on from (×n: n steps there in a row)</span>
<span><svg width="12" height="16"><path d="M4,1 ` + hBolt + `" fill="#e53935" stroke="#8e0000" stroke-width="0.6"/></svg>a preemption: it took the processor from a goroutine that could have gone on</span>
<span><svg width="34" height="16"><path d="M2,4 C16,4 16,12 30,12" fill="none" stroke="#1f5fbf" stroke-width="1.4"/></svg>a wake: the step that made a waiting goroutine runnable</span>
<span><svg width="34" height="16"><circle cx="7" cy="8" r="5" fill="#fff3e0" stroke="#c26a00" stroke-width="1.4"/><line x1="12" y1="8" x2="32" y2="8" stroke="#c26a00" stroke-width="1.4" stroke-dasharray="3 2"/></svg>woken by a timer</span>
<span><svg width="34" height="16"><line x1="2" y1="8" x2="32" y2="8" stroke="#b26b00" stroke-width="2" stroke-dasharray="5 3"/></svg>waiting</span>
<span><svg width="34" height="16"><line x1="2" y1="8" x2="32" y2="8" stroke="#9aa5b4" stroke-width="1.2"/></svg>runnable, not running</span>
<span><svg width="34" height="16"><rect x="1" y="3" width="32" height="10" rx="3" fill="#b9e4c9" stroke="#2e7d4f" stroke-width="0.8"/></svg>an operation of the history, from its call's step to its return's</span>
</div>
`
