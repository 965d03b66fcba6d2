package report

import (
	"bytes"
	"fmt"
	"image/color"
	"regexp"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Chart geometry, in points.
const (
	chartWidth   = 720
	rowHeight    = 20
	chartPadding = 90
	barWidth     = 13
	labelChars   = 42
)

// Colours (a colour-blind-safe pair and neutrals).
var (
	colorPrimary   = color.RGBA{0x1f, 0x5f, 0x99, 0xff} // blue
	colorSecondary = color.RGBA{0xd9, 0x77, 0x06, 0xff} // amber
	colorReference = color.RGBA{0xb9, 0x1c, 0x1c, 0xff} // red
	colorGrid      = color.RGBA{0xdd, 0xdd, 0xdd, 0xff}
	colorMissing   = color.RGBA{0x9c, 0xa3, 0xaf, 0xff}
)

// series is one set of bars of a horizontal bar chart; a nil value is drawn as no bar.
type series struct {
	name   string
	values []*float64
	color  color.Color
}

// reference is a vertical reference line, such as the 250 students per counselor standard.
type reference struct {
	at    float64
	label string
}

// barChart is a horizontal bar chart: one row per label (the first label at the top),
// one bar per series in each row, and optional reference lines.
type barChart struct {
	labels []string
	series []series
	refs   []reference
	xLabel string
}

// svg renders the chart as an SVG element labelled for screen readers.
func (c *barChart) svg(ariaLabel string) (string, error) {
	n := len(c.labels)
	if n == 0 {
		return "", fmt.Errorf("chart %q has no rows", ariaLabel)
	}
	p := plot.New()
	sans(p)
	p.X.Label.Text = c.xLabel
	p.X.Min = 0
	p.Y.Padding = 0
	grid := plotter.NewGrid()
	grid.Horizontal.Width = 0
	grid.Vertical.Color = colorGrid
	p.Add(grid)

	// gonum puts category 0 at the bottom: reverse so that the first label is on top.
	labels := make([]string, n)
	for i, l := range c.labels {
		labels[n-1-i] = shorten(l)
	}
	w := vg.Points(barWidth)
	if len(c.series) > 1 {
		w = vg.Points(float64(barWidth*2) / float64(len(c.series)) * 0.8)
	}
	for si, s := range c.series {
		vals := make(plotter.Values, n)
		for i, v := range s.values {
			if v != nil {
				vals[n-1-i] = *v
			}
		}
		bars, err := plotter.NewBarChart(vals, w)
		if err != nil {
			return "", fmt.Errorf("chart %q: %w", ariaLabel, err)
		}
		bars.Horizontal = true
		bars.Color = s.color
		bars.LineStyle.Width = 0
		// Series in a row from top to bottom.
		bars.Offset = w * vg.Length(float64(len(c.series)-1)/2-float64(si))
		p.Add(bars)
		if len(c.series) > 1 {
			p.Legend.Add(s.name, bars)
		}
	}
	for _, r := range c.refs {
		if err := addReference(p, r, n); err != nil {
			return "", fmt.Errorf("chart %q: %w", ariaLabel, err)
		}
	}
	p.NominalY(labels...)
	p.Y.Min, p.Y.Max = -0.6, float64(n)-0.4
	p.Legend.Top = true
	p.Legend.Left = false
	p.Legend.YOffs = vg.Points(rowHeight + 6)

	height := vg.Points(float64(n*rowHeight + chartPadding))
	canvas := vgsvg.New(vg.Points(chartWidth), height)
	p.Draw(draw.New(canvas))
	var buf bytes.Buffer
	if _, err := canvas.WriteTo(&buf); err != nil {
		return "", fmt.Errorf("chart %q: %w", ariaLabel, err)
	}
	return inlineSVG(buf.String(), ariaLabel), nil
}

// addReference draws a dashed vertical line across every row, labelled at the top.
func addReference(p *plot.Plot, r reference, rows int) error {
	top := float64(rows) - 0.4
	line, err := plotter.NewLine(plotter.XYs{{X: r.at, Y: -0.6}, {X: r.at, Y: top}})
	if err != nil {
		return err
	}
	line.Color = colorReference
	line.Width = vg.Points(1.5)
	line.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
	p.Add(line)
	lab, err := plotter.NewLabels(plotter.XYLabels{XYs: plotter.XYs{{X: r.at, Y: top}}, Labels: []string{r.label}})
	if err != nil {
		return err
	}
	for i := range lab.TextStyle {
		lab.TextStyle[i].Color = colorReference
		lab.TextStyle[i].Font = sansFont(9)
		lab.TextStyle[i].YAlign = draw.YBottom
		lab.TextStyle[i].XAlign = draw.XCenter
	}
	p.Add(lab)
	if p.X.Max < r.at*1.1 {
		p.X.Max = r.at * 1.1
	}
	return nil
}

func sansFont(size float64) font.Font {
	return font.Font{Typeface: "Liberation", Variant: "Sans", Size: vg.Points(size)}
}

// sans sets every text of p in Liberation Sans (metric-compatible with Arial).
func sans(p *plot.Plot) {
	for _, st := range []*text.Style{
		&p.Title.TextStyle, &p.X.Label.TextStyle, &p.Y.Label.TextStyle,
		&p.X.Tick.Label, &p.Y.Tick.Label, &p.Legend.TextStyle,
	} {
		st.Font.Variant = "Sans"
	}
	p.X.Label.TextStyle.Font.Size = vg.Points(11)
	p.X.Tick.Label.Font.Size = vg.Points(10)
	p.Y.Tick.Label.Font.Size = vg.Points(10)
	p.Legend.TextStyle.Font.Size = vg.Points(10)
}

func shorten(s string) string {
	r := []rune(s)
	if len(r) <= labelChars {
		return s
	}
	return string(r[:labelChars-1]) + "…"
}

var (
	svgProlog = regexp.MustCompile(`(?s)^.*?<svg`)
	svgSize   = regexp.MustCompile(`^<svg width="[^"]*" height="[^"]*"`)
)

// inlineSVG makes a standalone SVG document an element of an HTML page: no XML prolog or
// comment, a size that follows the page's width, and an accessible name.
func inlineSVG(doc, ariaLabel string) string {
	s := svgProlog.ReplaceAllString(doc, "<svg")
	s = svgSize.ReplaceAllString(s, `<svg width="100%"`)
	attrs := fmt.Sprintf(` role="img" aria-label="%s" preserveAspectRatio="xMinYMin meet"`, attrEscape(ariaLabel))
	return strings.Replace(s, "<svg", "<svg"+attrs, 1)
}

func attrEscape(s string) string {
	r := strings.NewReplacer(`&`, "&amp;", `"`, "&quot;", `<`, "&lt;", `>`, "&gt;")
	return r.Replace(s)
}
