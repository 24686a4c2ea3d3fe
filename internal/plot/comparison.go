package plot

import (
	"errors"
	"fmt"
	"image/color"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// ComparisonHeader is the header of a table of measured against computed
// rates (lab 6 writes one from its iperf3 results): one row per objective
// and flow, rates in bit/s. `p4qos lab plot` recognises it by this header
// and draws bars instead of lines.
var ComparisonHeader = []string{"objective", "flow", "computed_bps", "measured_bps"}

// Comparison is such a table: Computed[i][j] and Measured[i][j] are flow
// j's rates under objective i, in the order of first appearance. A flow
// missing under an objective is NaN (no bar).
type Comparison struct {
	Objectives, Flows  []string
	Computed, Measured [][]float64
}

// isComparison reports whether header is ComparisonHeader.
func isComparison(header []string) bool {
	if len(header) != len(ComparisonHeader) {
		return false
	}
	for i, h := range header {
		if strings.TrimSpace(h) != ComparisonHeader[i] {
			return false
		}
	}
	return true
}

// ReadComparison parses the rows (header first) of a comparison table.
// Errors name the line.
func ReadComparison(rows [][]string) (*Comparison, error) {
	if len(rows) < 2 || !isComparison(rows[0]) {
		return nil, fmt.Errorf("want the header %s and at least one row", strings.Join(ComparisonHeader, ","))
	}
	c := &Comparison{}
	type key struct{ o, f int }
	vals := map[key][2]float64{}
	index := func(list *[]string, name string) int {
		if i := slices.Index(*list, name); i >= 0 {
			return i
		}
		*list = append(*list, name)
		return len(*list) - 1
	}
	for li, row := range rows[1:] {
		if len(row) != len(ComparisonHeader) {
			return nil, fmt.Errorf("line %d has %d columns, the header %d", li+2, len(row), len(ComparisonHeader))
		}
		var v [2]float64
		for k, col := range []int{2, 3} {
			x, err := strconv.ParseFloat(strings.TrimSpace(row[col]), 64)
			if err != nil || !finite(x) || x < 0 {
				return nil, fmt.Errorf("line %d, column %s: want a rate ≥ 0 in bit/s, got %q", li+2, ComparisonHeader[col], row[col])
			}
			v[k] = x
		}
		if row[0] == "" || row[1] == "" {
			return nil, fmt.Errorf("line %d: empty objective or flow", li+2)
		}
		k := key{index(&c.Objectives, row[0]), index(&c.Flows, row[1])}
		if _, dup := vals[k]; dup {
			return nil, fmt.Errorf("line %d: %s, %s given twice", li+2, row[0], row[1])
		}
		vals[k] = v
	}
	for i := range c.Objectives {
		comp, meas := make([]float64, len(c.Flows)), make([]float64, len(c.Flows))
		for j := range c.Flows {
			v, ok := vals[key{i, j}]
			if !ok {
				v = [2]float64{math.NaN(), math.NaN()}
			}
			comp[j], meas[j] = v[0], v[1]
		}
		c.Computed, c.Measured = append(c.Computed, comp), append(c.Measured, meas)
	}
	return c, nil
}

// lighter mixes c with white: the computed bars are the pale twins of the
// measured ones, so each flow keeps one hue.
func lighter(c color.RGBA) color.RGBA {
	mix := func(v uint8) uint8 { return uint8(255 - (255-int(v))*35/100) }
	return color.RGBA{mix(c.R), mix(c.G), mix(c.B), 0xff}
}

// Write draws, per objective, two bars per flow: computed (pale, outlined)
// and measured (solid), in the flow's colour.
func (c *Comparison) Write(w io.Writer, format, title string) error {
	if len(c.Objectives) == 0 || len(c.Flows) == 0 {
		return &InputError{Err: errors.New("no rates to draw")}
	}
	pl := plot.New()
	pl.Title.Text = title
	pl.Y.Label.Text = "rate"
	pl.Y.Tick.Marker = Ticks{Unit: "bit/s"}
	pl.X.Label.Text = "objective"
	pl.Add(plotter.NewGrid())
	pl.NominalX(c.Objectives...)
	nb := 2 * len(c.Flows)
	width := vg.Points(math.Max(4, math.Min(16, 420/float64(len(c.Objectives)*nb))))
	pl.Legend.Top, pl.Legend.Left = true, false
	pl.Legend.TextStyle.Font.Size = vg.Points(10)
	top := 0.0
	for j, flow := range c.Flows {
		for k, src := range [][][]float64{c.Computed, c.Measured} {
			vals := make(plotter.Values, len(c.Objectives))
			for i := range c.Objectives {
				// A missing value draws no bar (height 0).
				if v := src[i][j]; finite(v) {
					vals[i] = v
					top = max(top, v)
				}
			}
			bars, err := plotter.NewBarChart(vals, width)
			if err != nil {
				return err
			}
			col := colours[j%len(colours)]
			bars.Color = col
			bars.LineStyle = draw.LineStyle{Color: col, Width: vg.Points(0.75)}
			label := flow + " measured"
			if k == 0 {
				bars.Color, label = lighter(col), flow+" computed"
			}
			bars.Offset = width * vg.Length(float64(2*j+k)-float64(nb-1)/2)
			pl.Add(bars)
			pl.Legend.Add(label, bars)
		}
	}
	// Room above the bars for the legend.
	pl.Y.Min, pl.Y.Max = 0, max(top, 1)*(1.25+0.06*float64(nb))
	pl.X.Min, pl.X.Max = -0.6, float64(len(c.Objectives))-0.4
	return render(w, format, figWidth, lineHeight, func(dc draw.Canvas) { pl.Draw(dc) })
}
