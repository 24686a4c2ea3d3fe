package plot

import (
	"context"
	"fmt"
	"image/color"
	"io"
	"math"
	"sort"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/p4qos/p4qos/allocator"
)

// Limits that keep a big allocation readable.
const (
	maxLegend   = StyleCount // flow groups listed in the legend: each has a style of its own
	maxCurves   = 200        // bandwidth functions drawn
	maxLinkBars = 60         // link bars drawn: the most utilised ones
)

const saturatedTol = 1e-9

var (
	barBlue  = color.RGBA{0x1f, 0x77, 0xb4, 0xff}
	barRed   = color.RGBA{0xd6, 0x27, 0x28, 0xff}
	barGrey  = color.RGBA{0xee, 0xee, 0xee, 0xff}
	edgeGrey = color.RGBA{0x99, 0x99, 0x99, 0xff}
	plotW    = 7.5 * vg.Inch // the plots; the legend column is as wide as its text
	minFuncH = 4.5 * vg.Inch
	minLegW  = 2.8 * vg.Inch
)

// AllocationFile draws the allocation r of p into path, whose extension
// picks the format; a bad extension is an *InputError.
func AllocationFile(path string, p *allocator.Problem, r *allocator.Result) error {
	return writeFile(path, func(w io.Writer, format string) error { return Allocation(w, format, p, r) })
}

// Allocation draws the allocation r of p in format: each link's load
// against its capacity (red when saturated) above each flow group's
// bandwidth function min(B(f), demand) with the fair share where it froze.
func Allocation(w io.Writer, format string, p *allocator.Problem, r *allocator.Result) error {
	lp := linkPlot(r)
	fp, legend, entries := functionPlot(p, r)
	// The legend column fits its longest entry; the link labels, right of
	// the bars, run into it too. The functions' height fits every entry.
	legW := minLegW
	for _, e := range entries {
		legW = max(legW, legend.TextStyle.Width(e)+legend.ThumbnailWidth+vg.Points(24))
	}
	entryH := legend.TextStyle.FontExtents().Height + legend.Padding
	funcH := max(minFuncH, vg.Length(len(entries))*entryH+vg.Points(60))
	linkH := vg.Inch + vg.Length(len(lp.links))*0.26*vg.Inch
	return render(w, format, plotW+legW, linkH+funcH, func(dc draw.Canvas) {
		lp.plot.Draw(draw.Crop(dc, vg.Points(4), -legW, funcH, -vg.Points(6)))
		lower := draw.Crop(dc, 0, 0, 0, -linkH)
		fp.Draw(draw.Crop(lower, vg.Points(4), -legW, vg.Points(4), 0))
		legend.Draw(draw.Crop(lower, plotW+vg.Points(8), 0, 0, -vg.Points(30)))
	})
}

type linkChart struct {
	plot  *plot.Plot
	links []allocator.LinkResult
}

func linkPlot(r *allocator.Result) linkChart {
	mode := r.Mode
	if mode == "" {
		mode = allocator.Split
	}
	links := mostUtilised(r.Links, maxLinkBars)
	p := plot.New()
	p.Title.Text = fmt.Sprintf("p4qos allocation (%s mode): %d flow groups, %d links — link load vs capacity", mode, len(r.FlowGroups), len(r.Links))
	p.X.Label.Text = "rate"
	if len(links) < len(r.Links) {
		p.X.Label.Text += fmt.Sprintf(" (the %d most utilised of %d links shown)", len(links), len(r.Links))
	}
	maxCap := 0.0
	names := make([]string, len(links))
	for i, l := range links {
		maxCap = math.Max(maxCap, l.Capacity)
		names[len(links)-1-i] = l.Name // first link on top
	}
	if maxCap == 0 {
		maxCap = 1
	}
	p.X.Tick.Marker = Ticks{Unit: "bit/s", Max: maxCap}
	p.X.Min, p.X.Max = 0, maxCap*1.02 // the labels run on into the legend column
	if len(names) > 0 {
		p.NominalY(names...)
		p.Y.Min, p.Y.Max = -0.6, float64(len(names))-0.4
	}
	p.Add(&linkBars{links: links})
	return linkChart{plot: p, links: links}
}

func mostUtilised(links []allocator.LinkResult, n int) []allocator.LinkResult {
	if len(links) <= n {
		return links
	}
	util := func(l allocator.LinkResult) float64 {
		if l.Capacity <= 0 {
			return 0
		}
		return l.Load / l.Capacity
	}
	idx := make([]int, len(links))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return util(links[idx[a]]) > util(links[idx[b]]) })
	idx = idx[:n]
	sort.Ints(idx)
	kept := make([]allocator.LinkResult, len(idx))
	for i, k := range idx {
		kept[i] = links[k]
	}
	return kept
}

// linkBars draws, per link, the capacity as a grey bar and the load over
// it, with "load / capacity (utilisation)" to the right.
type linkBars struct{ links []allocator.LinkResult }

// LinkLabel is the text beside a link's bar.
func LinkLabel(l allocator.LinkResult) string {
	s := Rate(l.Load) + " / " + Rate(l.Capacity)
	if l.Capacity > 0 {
		s += fmt.Sprintf(" (%.1f%%)", 100*l.Load/l.Capacity)
	}
	if saturated(l) {
		s += " saturated"
	}
	return s
}

func saturated(l allocator.LinkResult) bool { return l.Load >= l.Capacity*(1-saturatedTol) }

func (b *linkBars) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	half := vg.Points(6)
	sty := p.Y.Tick.Label
	sty.XAlign, sty.YAlign = draw.XLeft, draw.YCenter
	for i, l := range b.links {
		y := trY(float64(len(b.links) - 1 - i))
		x0, xc, xl := trX(0), trX(l.Capacity), trX(math.Min(l.Load, l.Capacity))
		c.FillPolygon(barGrey, rectPts(x0, xc, y-half, y+half))
		fill := barBlue
		if saturated(l) {
			fill = barRed
		}
		if xl > x0 {
			c.FillPolygon(fill, rectPts(x0, xl, y-half, y+half))
		}
		c.StrokeLines(draw.LineStyle{Color: edgeGrey, Width: vg.Points(0.75)}, append(rectPts(x0, xc, y-half, y+half), vg.Point{X: x0, Y: y - half}))
		c.FillText(sty, vg.Point{X: xc + vg.Points(5), Y: y}, LinkLabel(l))
	}
}

func rectPts(x0, x1, y0, y1 vg.Length) []vg.Point {
	return []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}}
}

func functionPlot(p *allocator.Problem, r *allocator.Result) (*plot.Plot, plot.Legend, []string) {
	fp := plot.New()
	fp.Title.Text = "Bandwidth functions min(B(f), demand); dots: where each flow group froze"
	fp.X.Label.Text, fp.Y.Label.Text = "fair share f", "rate"
	fp.X.Tick.Marker, fp.Y.Tick.Marker = Ticks{}, Ticks{Unit: "bit/s"}
	fp.Add(plotter.NewGrid())
	legend := plot.NewLegend()
	legend.Top, legend.Left = true, true
	legend.Padding = vg.Points(2)
	legend.TextStyle.Font.Size = vg.Points(10)
	var entries []string
	add := func(text string, thumbs ...plot.Thumbnailer) {
		legend.Add(text, thumbs...)
		entries = append(entries, text)
	}
	fmax := shareRange(p, r)
	fp.X.Min, fp.X.Max, fp.Y.Min = 0, fmax, 0
	for i, fg := range r.FlowGroups {
		if i >= maxCurves {
			fp.X.Label.Text += fmt.Sprintf(" (functions of the first %d of %d flow groups shown)", maxCurves, len(r.FlowGroups))
			break
		}
		sty := Style(i)
		pfg := &p.FlowGroups[i]
		xs := []float64{0}
		for _, b := range pfg.Breakpoints() {
			if b > 0 && b < fmax {
				xs = append(xs, b)
			}
		}
		xs = append(xs, fmax)
		pts := make(plotter.XYs, len(xs))
		for k, f := range xs {
			pts[k] = plotter.XY{X: f, Y: pfg.RateAt(f)}
		}
		l := &plotter.Line{XYs: pts, LineStyle: sty}
		fp.Add(l)
		if !math.IsInf(fg.FairShare, 0) && fg.FairShare <= fmax {
			drop := &plotter.Line{XYs: plotter.XYs{{X: fg.FairShare, Y: 0}, {X: fg.FairShare, Y: fg.Rate}},
				LineStyle: draw.LineStyle{Color: sty.Color, Width: vg.Points(0.75), Dashes: []vg.Length{vg.Points(2), vg.Points(2)}}}
			dot, _ := plotter.NewScatter(plotter.XYs{{X: fg.FairShare, Y: fg.Rate}})
			dot.GlyphStyle = draw.GlyphStyle{Color: sty.Color, Radius: vg.Points(3.5), Shape: draw.CircleGlyph{}}
			fp.Add(drop, dot)
		}
		switch {
		case i < maxLegend:
			state := "blocked by " + fg.Bottleneck
			if fg.Satisfied {
				state = "satisfied"
			}
			add(fmt.Sprintf("%s %s at f=%s, %s", fg.Name, Rate(fg.Rate), shortNum(fg.FairShare), state), l)
		case i == maxLegend:
			add(fmt.Sprintf("... and %d more", len(r.FlowGroups)-maxLegend))
		}
	}
	return fp, legend, entries
}

// shareRange is the fair-share axis: a quarter beyond the largest finite
// fair share (or breakpoint, when nothing froze).
func shareRange(p *allocator.Problem, r *allocator.Result) float64 {
	fmax := 0.0
	for _, fg := range r.FlowGroups {
		if !math.IsInf(fg.FairShare, 0) {
			fmax = math.Max(fmax, fg.FairShare)
		}
	}
	if fmax == 0 {
		for i := range p.FlowGroups {
			for _, x := range p.FlowGroups[i].Breakpoints() {
				fmax = math.Max(fmax, x)
			}
		}
	}
	if fmax == 0 {
		fmax = 1
	}
	return fmax * 1.25
}

// shortNum prints a fair share: 3 decimals, SI prefix from a million up.
func shortNum(v float64) string {
	if math.IsInf(v, 1) {
		return "inf"
	}
	if math.Abs(v) >= 1e6 {
		return SI(v, v, "")
	}
	return strconv.FormatFloat(math.Round(v*1000)/1000, 'f', -1, 64)
}

// maxGroupedFGs is how many flow groups a side-by-side plot draws (the
// first ones): beyond that the bars are too thin to read.
const maxGroupedFGs = 40

// AllocationsFile is what `p4qos allocate --plot` draws: with fewer than
// two α, the allocation r of p (AllocationFile); with several (+Inf for
// max-min), each flow group's rate under each α side by side
// (AlphaComparison), each computed here from p.
func AllocationsFile(ctx context.Context, path string, p *allocator.Problem, r *allocator.Result, alphas []float64) error {
	if len(alphas) < 2 {
		return AllocationFile(path, p, r)
	}
	results, err := AllocateEach(ctx, p, alphas)
	if err != nil {
		return err
	}
	return writeFile(path, func(w io.Writer, format string) error { return AlphaComparison(w, format, alphas, results) })
}

// AllocateEach allocates p once per α: α-fair for a finite α, max-min for
// +Inf. p is not changed.
func AllocateEach(ctx context.Context, p *allocator.Problem, alphas []float64) ([]*allocator.Result, error) {
	out := make([]*allocator.Result, len(alphas))
	for i, a := range alphas {
		q := *p
		q.Objective, q.Alpha = allocator.MaxMin, nil
		if !math.IsInf(a, 1) {
			q.Objective, q.Alpha = allocator.AlphaFairObjective, &a
		}
		r, err := allocator.Allocate(ctx, &q)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", AlphaLabel(a), err)
		}
		out[i] = r
	}
	return out, nil
}

// AlphaLabel names an α in a legend: "α = 1", "max-min (α = ∞)".
func AlphaLabel(a float64) string {
	if math.IsInf(a, 1) {
		return "max-min (α = ∞)"
	}
	return "α = " + strconv.FormatFloat(a, 'g', -1, 64)
}

// AlphaComparison draws, for each flow group (the first maxGroupedFGs), one
// bar per α: its rate in results[k] (the allocation for alphas[k]), with the
// total throughput of each α in the legend.
func AlphaComparison(w io.Writer, format string, alphas []float64, results []*allocator.Result) error {
	if len(results) == 0 || len(results) != len(alphas) {
		return fmt.Errorf("plot: %d allocations for %d values of α", len(results), len(alphas))
	}
	n := min(len(results[0].FlowGroups), maxGroupedFGs)
	pl := plot.New()
	pl.Title.Text = "Flow group rates by fairness objective"
	pl.Y.Label.Text = "rate"
	pl.Y.Tick.Marker = Ticks{Unit: "bit/s"}
	pl.X.Label.Text = "flow group"
	if n < len(results[0].FlowGroups) {
		pl.X.Label.Text += fmt.Sprintf(" (the first %d of %d)", n, len(results[0].FlowGroups))
	}
	pl.Add(plotter.NewGrid())
	names := make([]string, n)
	for i := range names {
		names[i] = results[0].FlowGroups[i].Name
	}
	pl.NominalX(names...)
	width := vg.Points(math.Max(4, math.Min(18, 360/float64(n*len(alphas)))))
	pl.Legend.Top, pl.Legend.Left = true, false
	pl.Legend.TextStyle.Font.Size = vg.Points(10)
	top := 0.0
	for k, r := range results {
		vals := make(plotter.Values, n)
		total := 0.0
		for i, g := range r.FlowGroups {
			total += g.Rate
			if i < n {
				vals[i] = g.Rate
				top = max(top, g.Rate)
			}
		}
		bars, err := plotter.NewBarChart(vals, width)
		if err != nil {
			return err
		}
		bars.Color = Style(k).Color
		bars.LineStyle = draw.LineStyle{Width: 0}
		bars.Offset = width * vg.Length(float64(k)-float64(len(results)-1)/2)
		pl.Add(bars)
		pl.Legend.Add(fmt.Sprintf("%s: total %s", AlphaLabel(alphas[k]), Rate(total)), bars)
	}
	// Room above the bars for the legend, and beside the outer groups for
	// their outer bars.
	pl.Y.Min, pl.Y.Max = 0, max(top, 1)*(1.15+0.07*float64(len(results)))
	pl.X.Min, pl.X.Max = -0.6, float64(n)-0.4
	wd := max(6*vg.Inch, vg.Length(n*len(alphas))*width+2*vg.Inch)
	return render(w, format, wd, 4.5*vg.Inch, func(dc draw.Canvas) { pl.Draw(dc) })
}
