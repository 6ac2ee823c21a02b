package sched

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// TraceOptions shapes [Artifact.WriteMarkdown]'s and [Artifact.WriteHTML]'s
// traces.
type TraceOptions struct {
	// Title heads the document ("# Title").
	Title string
	// Failure is what failed, in words (a property's verdict); the
	// artifact's Message if empty.
	Failure string
	// Last is how many steps, the last ones, the table shows; 0 means
	// 400. A run of millions of steps (a soak's) shows its end, where it
	// failed.
	Last int
	// History is the run's history of operations, clocked by its steps
	// (a porcupine history's), if it has one: WriteHTML draws each
	// operation in its goroutine's lane from its call to its return;
	// WriteMarkdown names it in the row of its goroutine's steps where it
	// is called and in the one where it returns.
	History []HistoryOp
}

// window returns how many of a's last steps a trace shows (o.Last, else
// 400) and the failure it names (o.Failure, else a's message).
func (o TraceOptions) window(a *Artifact) (last int, failure string) {
	last, failure = o.Last, o.Failure
	if last <= 0 {
		last = 400
	}
	if failure == "" {
		failure = a.Message
	}
	return last, failure
}

// maxLanes is the most goroutines WriteMarkdown gives a column of their
// own; a run with more shows one column with the goroutine's id.
const maxLanes = 8

// WriteMarkdown writes a trace a person can read: what ran, the failure,
// and a table of the run's last steps, one row per step, with the point
// each goroutine stood at when it was chosen (where it ran on from), one
// column per goroutine, and every preemption marked (the goroutine chosen
// took the processor from one that could have gone on). Consecutive steps
// of one goroutine are one row.
func (a *Artifact) WriteMarkdown(w io.Writer, o TraceOptions) error {
	last, failure := o.window(a)
	gs := 0
	for _, g := range a.Decisions {
		gs = max(gs, g+1)
	}
	var b strings.Builder
	if o.Title != "" {
		fmt.Fprintf(&b, "# %s\n\n", o.Title)
	}
	fmt.Fprintf(&b, "Strategy `%s`, seed %d: %d steps, %d goroutines, %d preemptions", a.Strategy, a.Seed, len(a.Decisions), gs, len(a.Preempted))
	if n := len(a.Preempted); n > 0 && n <= 20 {
		fmt.Fprintf(&b, " (at steps %s)", joinInts(a.Preempted))
	}
	fmt.Fprintf(&b, "; trace hash %s.\n\n", a.TraceHash)
	if failure != "" {
		fmt.Fprintf(&b, "**Failure:** %s\n\n", oneLine(failure))
	}
	from := max(0, len(a.Decisions)-last)
	if from > 0 {
		fmt.Fprintf(&b, "The last %d steps of %d. ", len(a.Decisions)-from, len(a.Decisions))
	}
	b.WriteString("Each row is one goroutine's steps in a row: the points it stood at when chosen, each where it ran on from to its next point; ⚡ marks a preemption (it took the processor from a goroutine that could have gone on)")
	if len(o.History) > 0 {
		b.WriteString("; ▸ an operation of the history called in those steps, ◂ one that returned in them, with its steps")
	}
	b.WriteString(".\n\n")
	lanes := gs <= maxLanes
	if lanes {
		b.WriteString("| step |")
		for g := range gs {
			fmt.Fprintf(&b, " g%d |", g)
		}
		b.WriteString("\n| --- |" + strings.Repeat(" --- |", gs) + "\n")
	} else {
		b.WriteString("| step | goroutine | point |\n| --- | --- | --- |\n")
	}
	for i := from; i < len(a.Decisions); {
		g := a.Decisions[i]
		j := i + 1
		for j < len(a.Decisions) && a.Decisions[j] == g && !isPreempted(a.Preempted, j) {
			j++
		}
		cell := pointsCell(a.Points[i:j]) + opsCell(o.History, g, i, j)
		if isPreempted(a.Preempted, i) {
			cell = "⚡ " + cell
		}
		step := fmt.Sprint(i)
		if j-i > 1 {
			step = fmt.Sprintf("%d–%d", i, j-1)
		}
		if lanes {
			fmt.Fprintf(&b, "| %s |%s %s |%s\n", step, strings.Repeat(" |", g), cell, strings.Repeat(" |", gs-g-1))
		} else {
			fmt.Fprintf(&b, "| %s | g%d | %s |\n", step, g, cell)
		}
		i = j
	}
	if failure != "" {
		fmt.Fprintf(&b, "\nThen: %s\n", oneLine(failure))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// opsCell names the operations of goroutine g's history that are called
// (▸) or return (◂) in steps [i, j), with the steps they span.
func opsCell(h []HistoryOp, g, i, j int) string {
	var b strings.Builder
	in := func(s int) bool { return s >= i && s < j }
	for _, op := range h {
		if op.G != g {
			continue
		}
		label := "`" + strings.ReplaceAll(oneLine(op.Label), "|", "\\|") + "`"
		switch {
		case in(op.Call) && in(op.Return):
			fmt.Fprintf(&b, " ▸◂ %s (%d–%d)", label, op.Call, op.Return)
		case in(op.Call):
			fmt.Fprintf(&b, " ▸ %s (%d–%d)", label, op.Call, op.Return)
		case in(op.Return):
			fmt.Fprintf(&b, " ◂ %s (%d–%d)", label, op.Call, op.Return)
		}
	}
	return b.String()
}

// pointsCell shows the points of a goroutine's consecutive steps: all of
// them up to four, else the first and the last.
func pointsCell(points []string) string {
	q := func(p string) string { return "`" + strings.ReplaceAll(p, "|", "\\|") + "`" }
	if len(points) <= 4 {
		cs := make([]string, len(points))
		for i, p := range points {
			cs[i] = q(p)
		}
		return strings.Join(cs, " → ")
	}
	return fmt.Sprintf("%s → … → %s (×%d)", q(points[0]), q(points[len(points)-1]), len(points))
}

func isPreempted(steps []int, i int) bool {
	_, ok := slices.BinarySearch(steps, i)
	return ok
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ", ")
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
