package bench

import (
	"fmt"
	"image/color"
	"math"
	"regexp"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/nimsync/nimsync/internal/reportkit"
)

// This file draws the report's plots with gonum.org/v1/plot:
//
//   - group-<group>.png: per group, horizontal bars of nimsync's advantage
//     over each peer (the median per-round ratio), one row of bars per
//     case, on a log axis centred on a line at 1×, so 2× and 0.5× are
//     equally long; dots mark the single rounds. The cases mix units (items/s,
//     ns/task, bytes), and ratios are what compares across them.
//   - scaling-<case>.png: per case run at several GOMAXPROCS (Row.Procs),
//     each implementation's median against GOMAXPROCS, on a log axis
//     when the values span a decade or more.
//
// A plot with no data is left out rather than drawn empty.

// figure is one plot: its PNG file, caption, the group whose section shows
// it, and the drawing.
type figure struct {
	File    string
	Caption string
	Group   string
	chart   *reportkit.Chart
}

// figures builds every plot of r, in the order report.md shows them.
func figures(r *Report) ([]figure, error) {
	var figs []figure
	seen := map[string]int{}
	add := func(stem, caption, group string, ch *reportkit.Chart, err error) error {
		if err != nil {
			return fmt.Errorf("bench: plot %s: %w", stem, err)
		}
		if ch == nil {
			return nil
		}
		if seen[stem]++; seen[stem] > 1 {
			stem = fmt.Sprintf("%s-%d", stem, seen[stem])
		}
		figs = append(figs, figure{File: stem + ".png", Caption: caption, Group: group, chart: ch})
		return nil
	}
	names, rows := groups(r)
	for _, g := range names {
		ch, err := ratioChart(r, g, rows[g])
		if err := add("group-"+reportkit.FileStem(g), "nimsync vs peers: "+g, g, ch, err); err != nil {
			return nil, err
		}
		for _, c := range scalingCurves(r, rows[g]) {
			ch, err := scalingChart(c)
			caption := fmt.Sprintf("scaling: %s (%s) against GOMAXPROCS", c.name, c.metric)
			if err := add("scaling-"+reportkit.FileStem(c.name), caption, g, ch, err); err != nil {
				return nil, err
			}
		}
	}
	return figs, nil
}

// ratioChart draws the group's ratio bars; nil when no row has a peer.
func ratioChart(r *Report, group string, idx []int) (*reportkit.Chart, error) {
	type bar struct {
		peer   string
		ratio  float64
		rounds []float64
	}
	var labels []string
	var cats [][]bar
	var peers []string
	for _, i := range idx {
		row := &r.Rows[i]
		var bars []bar
		for k := 1; k < len(row.Impls); k++ {
			v := peerRatio(row, k)
			if !(v > 0) || math.IsInf(v, 0) {
				continue
			}
			rounds := pairedRatios(row.Higher, row.Impls[0].Samples, row.Impls[k].Samples)
			if k == 1 && len(row.Ratios) > 0 {
				rounds = row.Ratios
			}
			name := row.Impls[k].Name
			bars = append(bars, bar{name, v, rounds})
			if !slices.Contains(peers, name) {
				peers = append(peers, name)
			}
		}
		if len(bars) > 0 {
			labels = append(labels, caseLabel(row))
			cats = append(cats, bars)
		}
	}
	if len(cats) == 0 {
		return nil, nil
	}
	maxBars := 1
	for _, c := range cats {
		maxBars = max(maxBars, len(c))
	}
	perCat := max(0.4*vg.Inch, vg.Length(maxBars)*0.2*vg.Inch)
	h := 1.3*vg.Inch + vg.Length(len(cats))*perCat
	ch := reportkit.NewChart("nimsync vs peers: "+group, "nimsync's advantage (log scale; > 1× = nimsync better)", "", reportkit.FigWidth, h)
	p := ch.Plot
	p.Add(plotter.NewGrid())

	// The category axis runs bottom-up; put the first case on top.
	n := len(cats)
	rev := slices.Clone(labels)
	slices.Reverse(rev)
	p.NominalY(rev...)
	p.Y.Min, p.Y.Max = -0.6, float64(n)-0.4

	lo, hi := -0.18, 0.18 // log10 units; at least 0.66× to 1.5×
	slot := 0.8 / float64(maxBars)
	barW := (h - 1.0*vg.Inch) / vg.Length(n) * vg.Length(slot)
	legendDone := map[string]bool{}
	for ci, bars := range cats {
		y := float64(n - 1 - ci)
		for k, b := range bars {
			pos := y + (float64(len(bars)-1)/2-float64(k))*slot
			lv := math.Log10(b.ratio)
			bc, err := plotter.NewBarChart(plotter.Values{lv}, barW)
			if err != nil {
				return nil, err
			}
			bc.Horizontal, bc.XMin = true, pos
			bc.Color = plotutil.Color(slices.Index(peers, b.peer))
			bc.LineStyle.Width = 0
			p.Add(bc)
			lo, hi = math.Min(lo, lv), math.Max(hi, lv)
			if !legendDone[b.peer] {
				ch.AddLegend("vs "+b.peer, bc)
				legendDone[b.peer] = true
			}
			var dots plotter.XYs
			for _, v := range b.rounds {
				if v > 0 && !math.IsInf(v, 0) {
					dots = append(dots, plotter.XY{X: math.Log10(v), Y: pos})
					lo, hi = math.Min(lo, math.Log10(v)), math.Max(hi, math.Log10(v))
				}
			}
			if len(dots) > 0 {
				sc, err := plotter.NewScatter(dots)
				if err != nil {
					return nil, err
				}
				sc.GlyphStyle.Radius = vg.Points(1.8)
				sc.GlyphStyle.Color = color.Gray{Y: 40}
				p.Add(sc)
			}
		}
	}
	pad := 0.05 * (hi - lo)
	p.X.Min, p.X.Max = lo-pad, hi+pad
	p.X.Tick.Marker = ratioTicks{}
	one, err := plotter.NewLine(plotter.XYs{{X: 0, Y: p.Y.Min}, {X: 0, Y: p.Y.Max}})
	if err != nil {
		return nil, err
	}
	one.Width = vg.Points(1.2)
	one.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	p.Add(one)
	ch.AddLegend("1× (par)", one)
	return ch, nil
}

// ratioTicks is a [plot.Ticker] for an axis holding log10 of ratios: a
// tick at every m·10^k (and at 1.2 and 1.5·10^k when the axis spans less
// than a decade), labelled as the ratio ("0.5×", "1×", "2×") at 1, 2
// and 5·10^k, and at every tick when fewer than three would be labelled.
type ratioTicks struct{}

// Ticks implements [plot.Ticker].
func (ratioTicks) Ticks(lo, hi float64) []plot.Tick {
	mults := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9}
	if hi-lo < 1 {
		mults = []float64{1, 1.2, 1.5, 2, 3, 4, 5, 6, 7, 8, 9}
	}
	var ticks []plot.Tick
	var labels []string
	labelled := 0
	for e := math.Floor(lo); e <= math.Ceil(hi); e++ {
		for _, m := range mults {
			lv := math.Log10(m) + e
			if lv < lo || lv > hi {
				continue
			}
			v, _ := strconv.ParseFloat(strconv.FormatFloat(m*math.Pow(10, e), 'g', 6, 64), 64)
			label := strconv.FormatFloat(v, 'f', -1, 64) + "×"
			t := plot.Tick{Value: lv}
			if m == 1 || m == 2 || m == 5 {
				t.Label = label
				labelled++
			}
			ticks, labels = append(ticks, t), append(labels, label)
		}
	}
	if labelled < 3 {
		for i := range ticks {
			ticks[i].Label = labels[i]
		}
	}
	return ticks
}

// curve is one case run at several GOMAXPROCS.
type curve struct {
	name, metric string
	higher       bool
	procs        []int
	impls        []string
	values       map[string]plotter.XYs
}

// procsKey matches the "/procs=N" key of a case name, which a curve's
// name leaves out.
var procsKey = regexp.MustCompile(`/procs=[0-9]+`)

// scalingCurves collects the rows of idx that ran at a set GOMAXPROCS into
// one curve per case name (without its "/procs=N" key), placement and
// metric, with at least two points.
func scalingCurves(r *Report, idx []int) []curve {
	var out []curve
	at := map[string]int{}
	for _, i := range idx {
		row := &r.Rows[i]
		if row.Procs == 0 {
			continue
		}
		name := procsKey.ReplaceAllString(row.Name, "") + placeLabel(row.Place)
		key := name + "\x00" + row.Metric
		ci, ok := at[key]
		if !ok {
			ci = len(out)
			at[key] = ci
			out = append(out, curve{name: name, metric: row.Metric, higher: row.Higher, values: map[string]plotter.XYs{}})
		}
		c := &out[ci]
		if !slices.Contains(c.procs, row.Procs) {
			c.procs = append(c.procs, row.Procs)
		}
		for _, im := range row.Impls {
			if len(im.Samples) == 0 && im.Median == 0 {
				continue
			}
			if !slices.Contains(c.impls, im.Name) {
				c.impls = append(c.impls, im.Name)
			}
			c.values[im.Name] = append(c.values[im.Name], plotter.XY{X: float64(row.Procs), Y: im.Median})
		}
	}
	return slices.DeleteFunc(out, func(c curve) bool { return len(c.procs) < 2 })
}

// scalingChart draws a curve: one line per implementation.
func scalingChart(c curve) (*reportkit.Chart, error) {
	better := "higher is better"
	if !c.higher {
		better = "lower is better"
	}
	ch := reportkit.NewChart("scaling: "+c.name, "GOMAXPROCS", fmt.Sprintf("%s (%s)", c.metric, better), reportkit.FigWidth, 3.5*vg.Inch)
	p := ch.Plot
	p.Add(plotter.NewGrid())
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, xy := range c.values {
		for _, pt := range xy {
			lo, hi = math.Min(lo, pt.Y), math.Max(hi, pt.Y)
		}
	}
	logY := lo > 0 && hi/lo >= 10
	for i, name := range c.impls {
		xy := slices.Clone(c.values[name])
		slices.SortFunc(xy, func(a, b plotter.XY) int { return int(a.X - b.X) })
		xy = slices.DeleteFunc(xy, func(pt plotter.XY) bool {
			return math.IsNaN(pt.Y) || math.IsInf(pt.Y, 0) || (logY && pt.Y <= 0)
		})
		if len(xy) == 0 {
			continue
		}
		l, pts, err := plotter.NewLinePoints(xy)
		if err != nil {
			return nil, err
		}
		l.Color, pts.Color = plotutil.Color(i), plotutil.Color(i)
		pts.Shape = plotutil.Shape(i)
		l.Width = vg.Points(1.4)
		p.Add(l, pts)
		ch.AddLegend(name, l, pts)
	}
	yfmt := func(v float64) string { return reportkit.Value(c.metric, v) }
	if logY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = reportkit.Relabel{Ticker: plot.LogTicks{Prec: -1}, Format: yfmt}
		p.Y.Min, p.Y.Max = lo/1.6, hi*1.6
	} else {
		p.Y.Tick.Marker = reportkit.Relabel{Ticker: plot.DefaultTicks{}, Format: yfmt}
		p.Y.Min, p.Y.Max = math.Min(0, lo), math.Max(hi*1.1, math.Min(0, lo)+1e-9)
	}
	procs := slices.Clone(c.procs)
	slices.Sort(procs)
	ticks := make([]plot.Tick, len(procs))
	for i, n := range procs {
		ticks[i] = plot.Tick{Value: float64(n), Label: fmt.Sprint(n)}
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	pad := 0.05 * float64(procs[len(procs)-1]-procs[0])
	p.X.Min, p.X.Max = float64(procs[0])-pad, float64(procs[len(procs)-1])+pad
	return ch, nil
}
