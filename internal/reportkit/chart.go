package reportkit

import (
	"bytes"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Plot geometry shared by the reports.
const (
	FigWidth  = 9 * vg.Inch   // the width of every figure
	PNGDPI    = 144           // the resolution of the PNG files
	legendGap = vg.Length(10) // between the plot and its legend, in points
)

// Chart is a gonum plot with its legend, drawn in a column to the right of
// the plot so that it never covers a bar or a line. W and H are the size
// of the whole figure. A Chart is not safe for concurrent use.
type Chart struct {
	Title   string
	Plot    *plot.Plot
	Legend  plot.Legend
	W, H    vg.Length
	legendW vg.Length // the widest legend entry; 0 for no legend
}

// NewChart returns an empty chart of size w × h with the given title and
// axis labels, its legend at the top left of the legend column.
func NewChart(title, xlabel, ylabel string, w, h vg.Length) *Chart {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	ch := &Chart{Title: title, Plot: p, Legend: plot.NewLegend(), W: w, H: h}
	ch.Legend.Top, ch.Legend.Left = true, true
	ch.Legend.Padding = vg.Points(3)
	ch.Legend.YOffs = -p.Title.TextStyle.Rectangle(title).Size().Y - p.Title.Padding
	return ch
}

// AddLegend adds a legend entry, and widens the legend column to fit it.
func (ch *Chart) AddLegend(name string, thumb ...plot.Thumbnailer) {
	ch.Legend.Add(name, thumb...)
	w := ch.Legend.ThumbnailWidth + ch.Legend.TextStyle.Rectangle(" "+name).Max.X
	ch.legendW = max(ch.legendW, w)
}

// Draw draws ch on c: the plot, and its legend (if any) to the right.
func (ch *Chart) Draw(c draw.Canvas) {
	if ch.legendW == 0 {
		ch.Plot.Draw(c)
		return
	}
	w := ch.legendW + 2*legendGap
	ch.Plot.Draw(draw.Crop(c, 0, -w, 0, 0))
	ch.Legend.Draw(draw.Crop(c, c.Size().X-w+legendGap, 0, 0, 0))
}

// PNG renders ch as a PNG image at [PNGDPI] on a white background.
func (ch *Chart) PNG() ([]byte, error) {
	c := vgimg.NewWith(vgimg.UseWH(ch.W, ch.H), vgimg.UseDPI(PNGDPI), vgimg.UseBackgroundColor(color.White))
	ch.Draw(draw.New(c))
	var b bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
