package report

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"regexp"
	"strconv"
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
	groupWidth   = 16
	labelChars   = 42
	legendRows   = 2
)

// Colours (a colour-blind-safe pair and neutrals).
var (
	colorPrimary   = color.RGBA{0x1f, 0x5f, 0x99, 0xff} // blue
	colorSecondary = color.RGBA{0xd9, 0x77, 0x06, 0xff} // amber
	colorReference = color.RGBA{0xb9, 0x1c, 0x1c, 0xff} // red
	colorGrid      = color.RGBA{0xdd, 0xdd, 0xdd, 0xff}
	colorLabel     = color.RGBA{0x33, 0x3e, 0x48, 0xff}
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
		w = vg.Points(float64(groupWidth) / float64(len(c.series)))
	}
	for si, s := range c.series {
		// One bar chart per known value, so that an unknown value draws nothing at all.
		offset := w * vg.Length(float64(len(c.series)-1)/2-float64(si)) // series top to bottom
		var first *plotter.BarChart
		for i, v := range s.values {
			if v == nil {
				continue
			}
			bars, err := c.bar(*v, float64(n-1-i), w, offset, s.color)
			if err != nil {
				return "", fmt.Errorf("chart %q: %w", ariaLabel, err)
			}
			p.Add(bars)
			if first == nil {
				first = bars
			}
		}
		if len(c.series) > 1 {
			if first == nil {
				first, _ = c.bar(0, 0, w, 0, s.color)
			}
			p.Legend.Add(s.name, first)
		}
	}
	for _, r := range c.refs {
		if err := addReference(p, r, n); err != nil {
			return "", fmt.Errorf("chart %q: %w", ariaLabel, err)
		}
	}
	if len(c.series) == 1 {
		if err := addValueLabels(p, c.series[0].values, n); err != nil {
			return "", fmt.Errorf("chart %q: %w", ariaLabel, err)
		}
	}
	p.X.Max *= 1.08 // room for the value labels
	p.NominalY(labels...)
	p.Y.Min, p.Y.Max = -0.6, float64(n)-0.4
	p.X.Tick.Marker = plot.TickerFunc(numberTicks)
	rows := n
	if len(c.series) > 1 {
		// The legend goes in two empty rows at the bottom right, below the shortest bars.
		p.Y.Min -= legendRows
		rows += legendRows
		p.Legend.Top, p.Legend.Left = false, false
		p.Legend.XOffs = -vg.Points(8)
		p.Legend.YOffs = vg.Points(4)
		p.Legend.Padding = vg.Points(4)
	}

	height := vg.Points(float64(rows*rowHeight + chartPadding))
	canvas := vgsvg.New(vg.Points(chartWidth), height)
	p.Draw(draw.New(canvas))
	var buf bytes.Buffer
	if _, err := canvas.WriteTo(&buf); err != nil {
		return "", fmt.Errorf("chart %q: %w", ariaLabel, err)
	}
	return inlineSVG(buf.String(), ariaLabel), nil
}

func (c *barChart) bar(v, at float64, w, offset vg.Length, col color.Color) (*plotter.BarChart, error) {
	bars, err := plotter.NewBarChart(plotter.Values{v}, w)
	if err != nil {
		return nil, err
	}
	bars.Horizontal = true
	bars.XMin = at
	bars.Offset = offset
	bars.Color = col
	bars.LineStyle.Width = 0
	return bars, nil
}

// addValueLabels writes each known value just past the end of its bar.
func addValueLabels(p *plot.Plot, values []*float64, n int) error {
	var xys plotter.XYs
	var texts []string
	for i, v := range values {
		if v != nil {
			xys = append(xys, plotter.XY{X: *v, Y: float64(n - 1 - i)})
			texts = append(texts, numberText(math.Round(*v)))
		}
	}
	if len(xys) == 0 {
		return nil
	}
	lab, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: texts})
	if err != nil {
		return err
	}
	for i := range lab.TextStyle {
		lab.TextStyle[i].Font = sansFont(9)
		lab.TextStyle[i].Color = colorLabel
		lab.TextStyle[i].YAlign = draw.YCenter
	}
	lab.Offset = vg.Point{X: vg.Points(3)}
	p.Add(lab)
	return nil
}

// numberTicks are gonum's default ticks labelled as plain numbers with thousands
// separators (250, 1,500, 0.5) instead of a fixed number of decimals.
func numberTicks(min, max float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(min, max)
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = numberText(ticks[i].Value)
		}
	}
	return ticks
}

func numberText(v float64) string {
	s := strconv.FormatFloat(v, 'f', -1, 64)
	whole, frac, hasFrac := strings.Cut(s, ".")
	neg := strings.HasPrefix(whole, "-")
	n, _ := strconv.ParseInt(strings.TrimPrefix(whole, "-"), 10, 64)
	out := Thousands(n)
	if neg {
		out = "-" + out
	}
	if hasFrac {
		out += "." + frac
	}
	return out
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
	// gonum names the font it measured text with; Arial and Helvetica have the same
	// metrics, so labels fit wherever Liberation Sans is not installed.
	svgFont = strings.NewReplacer("font-family:Liberation Sans;", "font-family:'Liberation Sans',Arial,Helvetica,sans-serif;")
)

// inlineSVG makes a standalone SVG document an element of an HTML page: no XML prolog or
// comment, a size that follows the page's width, and an accessible name.
func inlineSVG(doc, ariaLabel string) string {
	s := svgProlog.ReplaceAllString(doc, "<svg")
	s = svgSize.ReplaceAllString(s, `<svg width="100%"`)
	s = svgFont.Replace(s)
	attrs := fmt.Sprintf(` role="img" aria-label="%s" preserveAspectRatio="xMinYMin meet"`, attrEscape(ariaLabel))
	return strings.Replace(s, "<svg", "<svg"+attrs, 1)
}

func attrEscape(s string) string {
	r := strings.NewReplacer(`&`, "&amp;", `"`, "&quot;", `<`, "&lt;", `>`, "&gt;")
	return r.Replace(s)
}
