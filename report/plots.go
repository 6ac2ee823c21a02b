package report

import (
	"bytes"
	"fmt"
	"math"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/nimsync/nimsync/internal/reportkit"
)

// This file draws the report's plots with gonum.org/v1/plot: throughput
// per scenario over time, latency percentiles (P50, P99, P99.9) of each
// scenario over time, goroutines over time and heap over time. A plot with
// no data is left out rather than drawn empty.
//
// Samples of merged shards are concatenated in time order (see [Merge]);
// where shards overlapped in time their lines interleave.

// figure is one chart with the name of its PNG file and its caption.
type figure struct {
	Name    string // file name stem: "throughput", "latency-chan_mpmc"
	Caption string
	Chart   *reportkit.Chart
}

// figHeight is the height of every plot.
const figHeight = 3.5 * vg.Inch

// timeAxis is the unit of the x axis, picked so the soak spans a readable
// range.
type timeAxis struct {
	label string
	div   float64 // seconds per unit
}

// pickTimeAxis returns seconds, minutes or hours depending on the last
// sample time of r.
func pickTimeAxis(r *Report) timeAxis {
	end := r.Elapsed
	for _, s := range r.Runtime {
		end = math.Max(end, s.T)
	}
	for _, sc := range r.Scenarios {
		for _, s := range sc.Samples {
			end = math.Max(end, s.T)
		}
	}
	switch {
	case end >= 3*3600:
		return timeAxis{"time since start (h)", 3600}
	case end >= 180:
		return timeAxis{"time since start (min)", 60}
	default:
		return timeAxis{"time since start (s)", 1}
	}
}

// figures builds every chart of r, in the order the page shows them.
func figures(r *Report) ([]figure, error) {
	ta := pickTimeAxis(r)
	var figs []figure
	add := func(name, caption string, ch *reportkit.Chart, err error) error {
		if err != nil {
			return fmt.Errorf("report: plot %s: %w", name, err)
		}
		if ch != nil {
			figs = append(figs, figure{Name: name, Caption: caption, Chart: ch})
		}
		return nil
	}

	var series []line
	for _, sc := range r.Scenarios {
		xy := make(plotter.XYs, 0, len(sc.Samples))
		for _, s := range sc.Samples {
			xy = append(xy, plotter.XY{X: s.T / ta.div, Y: s.OpsPerSec})
		}
		series = append(series, line{sc.Name, xy})
	}
	ch, err := lineChart("Throughput per scenario", ta, "ops/s", series, false, reportkit.Count)
	if err := add("throughput", "Throughput of each scenario per sampling interval.", ch, err); err != nil {
		return nil, err
	}

	seen := map[string]int{}
	for _, sc := range r.Scenarios {
		var p50, p99, p999 plotter.XYs
		for _, s := range sc.Samples {
			if s.Latency.Count == 0 {
				continue
			}
			x := s.T / ta.div
			p50 = append(p50, plotter.XY{X: x, Y: float64(s.Latency.P50)})
			p99 = append(p99, plotter.XY{X: x, Y: float64(s.Latency.P99)})
			p999 = append(p999, plotter.XY{X: x, Y: float64(s.Latency.P999)})
		}
		series := []line{{"P50", p50}, {"P99", p99}, {"P99.9", p999}}
		ch, err := lineChart("Latency: "+sc.Name, ta, "latency", series, true, reportkit.Nanos)
		name := "latency-" + reportkit.FileStem(sc.Name)
		if seen[name]++; seen[name] > 1 {
			name = fmt.Sprintf("%s-%d", name, seen[name])
		}
		if err := add(name, "Latency percentiles of "+sc.Name+" per sampling interval (log scale).", ch, err); err != nil {
			return nil, err
		}
	}

	// One line per process (shard): a merged report's samples come from
	// several, and one line through them all would zig-zag between them.
	var gs, heap []line
	byShard := map[string]int{}
	var heapMax float64
	for _, s := range r.Runtime {
		i, ok := byShard[s.Shard]
		if !ok {
			i = len(gs)
			byShard[s.Shard] = i
			name := ""
			if s.Shard != "" {
				name = "shard " + s.Shard
			}
			gs, heap = append(gs, line{name: name}), append(heap, line{name: name})
		}
		gs[i].xy = append(gs[i].xy, plotter.XY{X: s.T / ta.div, Y: float64(s.Goroutines)})
		heap[i].xy = append(heap[i].xy, plotter.XY{X: s.T / ta.div, Y: float64(s.HeapBytes)})
		heapMax = math.Max(heapMax, float64(s.HeapBytes))
	}
	if len(gs) == 1 {
		gs[0].name, heap[0].name = "", "" // one process: no legend
	}
	ch, err = lineChart("Goroutines", ta, "goroutines", gs, false, reportkit.Count)
	if err := add("goroutines", "Live goroutines over the soak (one line per shard).", ch, err); err != nil {
		return nil, err
	}
	// Heap in a binary unit, so the ticks fall on round numbers of it.
	unit, div := "bytes", 1.0
	for _, u := range []struct {
		name string
		div  float64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}} {
		if heapMax >= 2*u.div {
			unit, div = u.name, u.div
		}
	}
	for _, l := range heap {
		for i := range l.xy {
			l.xy[i].Y /= div
		}
	}
	ch, err = lineChart("Heap", ta, "heap in use ("+unit+")", heap, false, reportkit.Sig)
	if err := add("heap", "Heap in use after the last GC over the soak (one line per shard).", ch, err); err != nil {
		return nil, err
	}
	return figs, nil
}

// line is one named series of a chart.
type line struct {
	name string
	xy   plotter.XYs
}

// lineChart draws series against time. Points that are not finite (or not
// positive, on a log scale) are dropped; it returns nil when no point is
// left. Y tick labels are formatted by yfmt.
func lineChart(title string, ta timeAxis, ylabel string, series []line, logY bool, yfmt func(float64) string) (*reportkit.Chart, error) {
	ch := reportkit.NewChart(title, ta.label, ylabel, reportkit.FigWidth, figHeight)
	p := ch.Plot
	p.Add(plotter.NewGrid())

	lo, hi, points := math.Inf(1), math.Inf(-1), 0
	for i, s := range series {
		xy := make(plotter.XYs, 0, len(s.xy))
		for _, pt := range s.xy {
			if math.IsNaN(pt.X) || math.IsInf(pt.X, 0) || math.IsNaN(pt.Y) || math.IsInf(pt.Y, 0) || (logY && pt.Y <= 0) {
				continue
			}
			xy = append(xy, pt)
			lo, hi = math.Min(lo, pt.Y), math.Max(hi, pt.Y)
		}
		if len(xy) == 0 {
			continue
		}
		points += len(xy)
		l, err := plotter.NewLine(xy)
		if err != nil {
			return nil, err
		}
		l.Color = plotutil.Color(i)
		l.Width = vg.Points(1.2)
		p.Add(l)
		if s.name != "" {
			ch.AddLegend(s.name, l)
		}
		if len(xy) == 1 { // a lone point draws no line; mark it
			sc, err := plotter.NewScatter(xy)
			if err != nil {
				return nil, err
			}
			sc.Color = l.Color
			p.Add(sc)
		}
	}
	if points == 0 {
		return nil, nil
	}
	if logY {
		// 1.6 on each side makes the range wider than 2.5, the largest
		// gap between labelled log ticks, so some tick gets a label.
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = reportkit.LogTicks{Format: yfmt}
		p.Y.Min, p.Y.Max = lo/1.6, hi*1.6
	} else {
		p.Y.Tick.Marker = reportkit.Relabel{Ticker: plot.DefaultTicks{}, Format: yfmt}
		p.Y.Min = math.Min(0, lo)
		if hi <= p.Y.Min {
			hi = p.Y.Min + 1
		}
		p.Y.Max = hi * 1.1
	}
	return ch, nil
}

// svgFont names fonts a browser has when it lacks the Liberation fonts
// gonum/plot measures its text with (Liberation Serif is metric-compatible
// with Times New Roman).
var svgFont = strings.NewReplacer(
	"font-family:Liberation Serif;", "font-family:'Liberation Serif','Times New Roman',Times,serif;",
	"font-family:Liberation Sans;", "font-family:'Liberation Sans',Arial,Helvetica,sans-serif;",
	"font-family:Liberation Mono;", "font-family:'Liberation Mono','Courier New',monospace;",
)

// svgOf renders ch as an <svg> element for inline use in HTML: the XML
// prolog is dropped and fonts get fallbacks.
func svgOf(ch *reportkit.Chart) (string, error) {
	c := vgsvg.New(ch.W, ch.H)
	ch.Draw(draw.New(c))
	var b bytes.Buffer
	if _, err := c.WriteTo(&b); err != nil {
		return "", err
	}
	s := b.String()
	i := strings.Index(s, "<svg")
	if i < 0 {
		return "", fmt.Errorf("report: plot %q: no <svg> element in output", ch.Title)
	}
	return svgFont.Replace(s[i:]), nil
}

// WritePlots writes each plot of r as a PNG file into dir (created if
// missing): throughput.png, latency-<scenario>.png (the scenario name with
// characters other than letters, digits, '.', '_' and '-' replaced by '_'),
// goroutines.png and heap.png. Plots without data are not written. Each
// file is written to a temporary file and renamed, so none is ever
// half-written; it returns the paths written. It costs tens of
// milliseconds per plot and may be called concurrently for different dirs.
func WritePlots(dir string, r *Report) ([]string, error) {
	if r == nil {
		return nil, fmt.Errorf("report: WritePlots %s: nil report", dir)
	}
	figs, err := figures(r)
	if err != nil {
		return nil, err
	}
	files := make([]file, 0, len(figs))
	for _, f := range figs {
		b, err := f.Chart.PNG()
		if err != nil {
			return nil, fmt.Errorf("report: plot %s: %w", f.Name, err)
		}
		files = append(files, file{Name: f.Name + ".png", Data: b})
	}
	if err := writeFiles(dir, files); err != nil {
		return nil, err
	}
	paths := make([]string, len(files))
	for i, f := range files {
		paths[i] = filepath.Join(dir, f.Name)
	}
	return paths, nil
}
