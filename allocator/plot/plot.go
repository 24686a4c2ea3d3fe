package plot

import (
	"fmt"
	"image/color"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/p4qos/p4qos/allocator"
	"github.com/p4qos/p4qos/internal/units"
)

// The plot is first laid out as a scene of simple shapes, then rendered to
// SVG or rasterised to PNG, so both formats show the same thing.

type anchor int

const (
	anchorStart anchor = iota
	anchorMiddle
	anchorEnd
)

type shape interface{ isShape() }

type rect struct {
	x, y, w, h   float64
	fill, stroke color.RGBA // zero alpha: none
}

type line struct {
	x1, y1, x2, y2 float64
	c              color.RGBA
	width          float64
	dashed         bool
}

type polyline struct {
	pts   [][2]float64
	c     color.RGBA
	width float64
}

type circle struct {
	x, y, r float64
	c       color.RGBA
}

type text struct {
	x, y   float64 // baseline-left (or -middle/-end per anchor)
	s      string
	c      color.RGBA
	size   int // font scale: 1 small, 2 normal
	anchor anchor
}

func (rect) isShape()     {}
func (line) isShape()     {}
func (polyline) isShape() {}
func (circle) isShape()   {}
func (text) isShape()     {}

type scene struct {
	w, h   int
	shapes []shape
}

func (s *scene) add(sh shape) { s.shapes = append(s.shapes, sh) }

var (
	black     = color.RGBA{0x20, 0x20, 0x20, 0xff}
	grey      = color.RGBA{0x99, 0x99, 0x99, 0xff}
	lightGrey = color.RGBA{0xee, 0xee, 0xee, 0xff}
	red       = color.RGBA{0xd6, 0x27, 0x28, 0xff}
	blue      = color.RGBA{0x1f, 0x77, 0xb4, 0xff}
	palette   = []color.RGBA{
		{0x1f, 0x77, 0xb4, 0xff}, {0xff, 0x7f, 0x0e, 0xff}, {0x2c, 0xa0, 0x2c, 0xff}, {0xd6, 0x27, 0x28, 0xff},
		{0x94, 0x67, 0xbd, 0xff}, {0x8c, 0x56, 0x4b, 0xff}, {0xe3, 0x77, 0xc2, 0xff}, {0x7f, 0x7f, 0x7f, 0xff},
		{0xbc, 0xbd, 0x22, 0xff}, {0x17, 0xbe, 0xcf, 0xff},
	}
)

// Layout constants, in pixels.
const (
	width       = 960
	margin      = 20
	rowH        = 22
	labelW      = 150
	barW        = 460
	chartH      = 320
	legendRowH  = 20
	maxLegend   = 24  // FGs listed; the rest are drawn but summarised
	maxCurves   = 200 // FG functions drawn; more would be an unreadable smear
	maxLinkBars = 60  // link bars drawn: the most utilised ones
	textPx      = 14  // height of size-2 text (7 rows × 2)
	sectionGapY = 36
)

// saturatedTol: a link this close to capacity is drawn as saturated.
const saturatedTol = 1e-9

// layout builds the scene for an allocation of p.
func layout(p *allocator.Problem, r *allocator.Result) *scene {
	s := &scene{w: width}
	y := float64(margin) + textPx
	mode := r.Mode
	if mode == "" {
		mode = allocator.Split
	}
	s.add(text{x: margin, y: y, s: fmt.Sprintf("p4qos allocation (%s mode): %d flow groups, %d links", mode, len(r.FlowGroups), len(r.Links)), c: black, size: 2})
	y += sectionGapY

	// Links: one bar per link, lengths proportional to capacity, filled to
	// the load; red when saturated.
	s.add(text{x: margin, y: y, s: "Link load vs capacity", c: black, size: 2})
	y += 12
	links := r.Links
	if len(links) > maxLinkBars {
		// Keep the most utilised links (saturated first), in input order.
		idx := make([]int, len(links))
		for i := range idx {
			idx[i] = i
		}
		util := func(l allocator.LinkResult) float64 {
			if l.Capacity <= 0 {
				return 0
			}
			return l.Load / l.Capacity
		}
		sort.SliceStable(idx, func(a, b int) bool { return util(links[idx[a]]) > util(links[idx[b]]) })
		idx = idx[:maxLinkBars]
		sort.Ints(idx)
		kept := make([]allocator.LinkResult, len(idx))
		for i, k := range idx {
			kept[i] = links[k]
		}
		links = kept
	}
	maxCap := 0.0
	for _, l := range links {
		maxCap = math.Max(maxCap, l.Capacity)
	}
	nameW := labelW
	for _, l := range links {
		nameW = max(nameW, len([]rune(l.Name))*glyphAdvance*2+16)
	}
	barX := float64(margin + nameW)
	for _, l := range links {
		capW, loadW := 0.0, 0.0
		if maxCap > 0 {
			capW = barW * l.Capacity / maxCap
			loadW = barW * math.Min(l.Load, l.Capacity) / maxCap
		}
		sat := l.Load >= l.Capacity*(1-saturatedTol)
		fill := blue
		if sat {
			fill = red
		}
		s.add(text{x: margin, y: y + 15, s: l.Name, c: black, size: 2})
		s.add(rect{x: barX, y: y + 3, w: capW, h: rowH - 6, fill: lightGrey, stroke: grey})
		if loadW > 0 {
			s.add(rect{x: barX, y: y + 3, w: loadW, h: rowH - 6, fill: fill})
		}
		util := ""
		if l.Capacity > 0 {
			util = fmt.Sprintf(" (%.1f%%)", 100*l.Load/l.Capacity)
		}
		label := fmt.Sprintf("%s / %s%s", units.FormatBitrate(l.Load), units.FormatBitrate(l.Capacity), util)
		if sat {
			label += " saturated"
		}
		s.add(text{x: barX + barW + 10, y: y + 15, s: label, c: black, size: 2})
		y += rowH
	}
	if len(links) < len(r.Links) {
		s.add(text{x: margin, y: y + 15, s: fmt.Sprintf("... %d less utilised links not shown", len(r.Links)-len(links)), c: grey, size: 2})
		y += rowH
	}
	y += sectionGapY

	// Bandwidth functions: min(B(f), demand) per FG against the common
	// fair share, with a dot where the FG froze.
	s.add(text{x: margin, y: y, s: "Bandwidth functions min(B(f), demand) and where each flow group froze", c: black, size: 2})
	y += 16
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
	fmax *= 1.25
	ymax := 0.0
	for i := range p.FlowGroups {
		ymax = math.Max(ymax, p.FlowGroups[i].RateAt(fmax))
	}
	if ymax == 0 {
		ymax = 1
	}
	ymax *= 1.05
	const axisLabelW = 90
	x0, y0 := float64(margin+axisLabelW), y+chartH
	cw := float64(barW + labelW - axisLabelW)
	px := func(f float64) float64 { return x0 + cw*f/fmax }
	py := func(v float64) float64 { return y0 - chartH*v/ymax }
	// Grid and ticks at round numbers.
	fstep, ystep := niceStep(fmax/5), niceStep(ymax/5)
	for k := 0; float64(k)*fstep <= fmax*(1+1e-9); k++ {
		fx := float64(k) * fstep
		s.add(line{x1: px(fx), y1: y, x2: px(fx), y2: y0, c: lightGrey, width: 1})
		s.add(text{x: px(fx), y: y0 + 18, s: shortNum(fx), c: black, size: 2, anchor: anchorMiddle})
	}
	for k := 0; float64(k)*ystep <= ymax*(1+1e-9); k++ {
		vy := float64(k) * ystep
		s.add(line{x1: x0, y1: py(vy), x2: x0 + cw, y2: py(vy), c: lightGrey, width: 1})
		s.add(text{x: x0 - 6, y: py(vy) + 5, s: units.FormatBitrate(vy), c: black, size: 2, anchor: anchorEnd})
	}
	s.add(line{x1: x0, y1: y, x2: x0, y2: y0, c: black, width: 1.5})
	s.add(line{x1: x0, y1: y0, x2: x0 + cw, y2: y0, c: black, width: 1.5})
	s.add(text{x: x0 + cw/2, y: y0 + 38, s: "fair share f", c: black, size: 2, anchor: anchorMiddle})

	legendX := x0 + cw + 30
	ly := y + 10
	for i, fg := range r.FlowGroups {
		if i >= maxCurves {
			s.add(text{x: x0 + 10, y: y + 16, s: fmt.Sprintf("functions of the first %d of %d flow groups shown", maxCurves, len(r.FlowGroups)), c: grey, size: 2})
			break
		}
		col := palette[i%len(palette)]
		pfg := &p.FlowGroups[i]
		// Vertices: every breakpoint in range plus the ends.
		xs := []float64{0}
		for _, b := range pfg.Breakpoints() {
			if b > 0 && b < fmax {
				xs = append(xs, b)
			}
		}
		xs = append(xs, fmax)
		pts := make([][2]float64, 0, len(xs))
		for _, f := range xs {
			pts = append(pts, [2]float64{px(f), py(pfg.RateAt(f))})
		}
		s.add(polyline{pts: pts, c: col, width: 2})
		if !math.IsInf(fg.FairShare, 0) && fg.FairShare <= fmax {
			s.add(line{x1: px(fg.FairShare), y1: py(fg.Rate), x2: px(fg.FairShare), y2: y0, c: col, width: 1, dashed: true})
			s.add(circle{x: px(fg.FairShare), y: py(fg.Rate), r: 4, c: col})
		}
		if i < maxLegend {
			state := "blocked by " + fg.Bottleneck
			if fg.Satisfied {
				state = "satisfied"
			}
			s.add(rect{x: legendX, y: ly - 10, w: 12, h: 12, fill: col})
			s.add(text{x: legendX + 18, y: ly, s: fmt.Sprintf("%s %s at f=%s", fg.Name, units.FormatBitrate(fg.Rate), shortNum(fg.FairShare)), c: black, size: 2})
			s.add(text{x: legendX + 18, y: ly + 17, s: state, c: grey, size: 2})
			ly += legendRowH + 18
		} else if i == maxLegend {
			s.add(text{x: legendX, y: ly, s: fmt.Sprintf("... and %d more", len(r.FlowGroups)-maxLegend), c: grey, size: 2})
			ly += legendRowH
		}
	}
	// Wide enough for the widest label in the PNG font (SVG text is narrower).
	right := legendX + 360
	for _, sh := range s.shapes {
		if t, ok := sh.(text); ok && t.anchor == anchorStart {
			right = math.Max(right, t.x+float64(len([]rune(t.s))*glyphAdvance*t.size)+margin)
		}
	}
	s.w = int(math.Max(width, right))
	s.h = int(math.Max(y0+60, ly+20))
	return s
}

// niceStep is the smallest of 1, 2, 2.5, 5 × 10^k that is ≥ x.
func niceStep(x float64) float64 {
	if x <= 0 || math.IsNaN(x) || math.IsInf(x, 0) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(x)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= x*(1-1e-12) {
			return m * p
		}
	}
	return 10 * p
}

// shortNum formats a fair share compactly.
func shortNum(v float64) string {
	if math.IsInf(v, 1) {
		return "inf"
	}
	a := math.Abs(v)
	if a != 0 && (a >= 1e6 || a < 1e-3) {
		return strings.Replace(strconv.FormatFloat(v, 'e', 3, 64), "e+", "e", 1)
	}
	s := strconv.FormatFloat(v, 'f', 3, 64)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}
