package plot

import (
	"image/color"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

func init() {
	// Sans reads better than gonum's default serif at tick-label sizes.
	plot.DefaultFont = font.Font{Typeface: "Liberation", Variant: "Sans"}
}

// colours are Okabe and Ito's colour-blind safe scheme without its yellow
// (too light on white), then three dark colours of Paul Tol's "muted".
var colours = []color.RGBA{
	{0x00, 0x72, 0xb2, 0xff}, {0xd5, 0x5e, 0x00, 0xff}, {0x00, 0x9e, 0x73, 0xff}, {0xcc, 0x79, 0xa7, 0xff},
	{0xe6, 0x9f, 0x00, 0xff}, {0x56, 0xb4, 0xe9, 0xff}, {0x00, 0x00, 0x00, 0xff}, {0x33, 0x22, 0x88, 0xff},
	{0x88, 0x22, 0x55, 0xff}, {0x99, 0x99, 0x33, 0xff},
}

// dashes changes once the colours are used up, so that len(colours) ×
// len(dashes) = 30 series are drawn in distinct styles.
var dashes = [][]vg.Length{nil, {vg.Points(6), vg.Points(3)}, {vg.Points(1.5), vg.Points(2)}}

// Style returns the line style of series i: distinct for the first
// len(colours)·len(dashes) series.
func Style(i int) draw.LineStyle {
	return draw.LineStyle{
		Color:  colours[i%len(colours)],
		Width:  vg.Points(1.75),
		Dashes: dashes[(i/len(colours))%len(dashes)],
	}
}

// StyleCount is how many series get distinct styles.
const StyleCount = 30

var prefixes = []struct {
	div  float64
	name string
}{{1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "k"}, {1, ""}}

// prefixFor returns the SI prefix for magnitude ref.
func prefixFor(ref float64) (float64, string) {
	a := math.Abs(ref)
	for _, p := range prefixes {
		if a >= p.div {
			return p.div, p.name
		}
	}
	return 1, ""
}

// SI formats v with the SI prefix suited to ref and unit: SI(2.5e9, 3e9,
// "bit/s") is "2.5 Gbit/s". A unit of "" gives "2.5G". Zero is "0".
func SI(v, ref float64, unit string) string {
	if v == 0 {
		return "0"
	}
	if math.IsInf(v, 1) {
		return "unbounded"
	}
	div, p := prefixFor(ref)
	n := strconv.FormatFloat(math.Round(v/div*1000)/1000, 'f', -1, 64)
	if unit == "" {
		return n + p
	}
	return n + " " + p + unit
}

// Rate formats a rate in bits per second: Rate(2.5e9) is "2.5 Gbit/s".
func Rate(bps float64) string { return SI(bps, bps, "bit/s") }

// niceStep rounds a raw tick step up to 1, 2, 2.5 or 5 times a power of ten.
func niceStep(raw float64) float64 {
	if raw <= 0 || math.IsNaN(raw) || math.IsInf(raw, 0) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= raw*(1-1e-12) {
			return m * p
		}
	}
	return 10 * p
}

// Ticks labels an axis with five to eight round values in SI notation with one
// prefix for the whole axis (0, 0.5 Gbit/s, 1 Gbit/s, ...). Max, when
// positive, stops the ticks there even if the axis goes on (room for labels).
type Ticks struct {
	Unit string
	Max  float64
}

// Ticks implements plot.Ticker.
func (t Ticks) Ticks(lo, hi float64) []plot.Tick {
	if t.Max > 0 && t.Max < hi {
		hi = t.Max
	}
	step := niceStep((hi - lo) / 6)
	first := math.Ceil(lo/step-1e-9) * step
	var ticks []plot.Tick
	ref := math.Max(math.Abs(lo), math.Abs(hi))
	for k := 0; ; k++ {
		v := first + float64(k)*step
		if v > hi*(1+1e-9)+1e-12 || k > 50 {
			break
		}
		if math.Abs(v) < step*1e-9 {
			v = 0
		}
		ticks = append(ticks, plot.Tick{Value: v, Label: SI(v, ref, t.Unit)})
		// A minor tick halfway, unlabelled.
		if m := v + step/2; m <= hi {
			ticks = append(ticks, plot.Tick{Value: m})
		}
	}
	return ticks
}
