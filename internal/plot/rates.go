package plot

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Series is one line: points (X[i], Y[i]); a point that is not finite is a
// gap.
type Series struct {
	Name string
	X, Y []float64
}

// ReadCSV reads a table whose first column is X and whose other columns are
// series (header row: names). Empty cells are gaps.
func ReadCSV(r io.Reader) ([]Series, error) {
	rows, err := csv.NewReader(r).ReadAll()
	if err != nil {
		return nil, err
	}
	return seriesOf(rows)
}

// seriesOf is ReadCSV on rows already read.
func seriesOf(rows [][]string) ([]Series, error) {
	if len(rows) < 2 || len(rows[0]) < 2 {
		return nil, errors.New("want a header and at least one row, with an X column and one series")
	}
	series := make([]Series, len(rows[0])-1)
	for i := range series {
		series[i].Name = rows[0][i+1]
	}
	for li, row := range rows[1:] {
		if len(row) != len(rows[0]) {
			return nil, fmt.Errorf("line %d has %d columns, the header %d", li+2, len(row), len(rows[0]))
		}
		x, err := strconv.ParseFloat(row[0], 64)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", li+2, err)
		}
		for i := range series {
			y := math.NaN()
			if row[i+1] != "" {
				if y, err = strconv.ParseFloat(row[i+1], 64); err != nil {
					return nil, fmt.Errorf("line %d, column %q: %w", li+2, series[i].Name, err)
				}
			}
			series[i].X = append(series[i].X, x)
			series[i].Y = append(series[i].Y, y)
		}
	}
	return series, nil
}

// LineChart is series against a common X axis. XUnit and YUnit are the SI
// units of the tick labels ("" for plain numbers, "bit/s" for rates).
type LineChart struct {
	Title, XLabel, YLabel string
	XUnit, YUnit          string
	Series                []Series
}

// figure sizes, chosen to fit a report's text width.
const (
	figWidth   = 8 * vg.Inch
	lineHeight = 4.5 * vg.Inch
	legendW    = 1.9 * vg.Inch
)

// Write draws the chart in format ("svg", "png" or "pdf").
func (c *LineChart) Write(w io.Writer, format string) error {
	p := plot.New()
	p.Title.Text = c.Title
	p.X.Label.Text, p.Y.Label.Text = c.XLabel, c.YLabel
	p.X.Tick.Marker, p.Y.Tick.Marker = Ticks{Unit: c.XUnit}, Ticks{Unit: c.YUnit}
	p.Y.Min = 0
	p.Add(plotter.NewGrid())
	legend := plot.NewLegend()
	legend.Top, legend.Left = true, true
	legend.Padding = vg.Points(3)
	n := 0
	for i, s := range c.Series {
		if len(s.X) != len(s.Y) {
			return fmt.Errorf("plot: series %q has %d x and %d y values", s.Name, len(s.X), len(s.Y))
		}
		// A gap splits the line: one plotter.Line per run of finite points.
		var run plotter.XYs
		flush := func() {
			if len(run) == 0 {
				return
			}
			l, err := plotter.NewLine(run)
			if err != nil {
				return
			}
			l.LineStyle = Style(i)
			p.Add(l)
			run = nil
		}
		for j := range s.X {
			if finite(s.X[j]) && finite(s.Y[j]) {
				run = append(run, plotter.XY{X: s.X[j], Y: s.Y[j]})
				n++
			} else {
				flush()
			}
		}
		flush()
		l := &plotter.Line{LineStyle: Style(i)}
		legend.Add(s.Name, l)
	}
	if n == 0 {
		return &InputError{Err: errors.New("no points to draw")}
	}
	if p.Y.Max <= 0 {
		p.Y.Max = 1
	}
	p.Y.Max *= 1.05 // the highest point does not touch the frame
	p.X.Min = math.Min(p.X.Min, 0)
	return render(w, format, figWidth, lineHeight, func(dc draw.Canvas) {
		p.Draw(draw.Crop(dc, vg.Points(4), -legendW, vg.Points(4), -vg.Points(6)))
		legend.Draw(draw.Crop(dc, figWidth-legendW+vg.Points(8), 0, 0, -vg.Points(40)))
	})
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// RatesFile draws the CSV that `p4qos lab record` wrote (time_s, then bit/s
// per class) as rates over time into out, whose extension picks the format.
// Problems with in or out are an *InputError.
func RatesFile(in, out, title string) error { return CSVFile(in, out, title, false) }

// CSVFile draws a CSV of series over time: rates in bit/s (RatesFile), or
// with delay one-way delays in milliseconds (lab 5: each flow's measured
// delay beside its bound, docs/labs/owd.py bins). A CSV with the
// ComparisonHeader (lab 6) is drawn as bars of computed against measured
// rates per objective, whatever delay says.
func CSVFile(in, out, title string, delay bool) error {
	if _, err := FormatOf(out); err != nil {
		return &InputError{Err: fmt.Errorf("%s: %w", out, err)}
	}
	f, err := os.Open(in)
	if err != nil {
		return &InputError{Err: err}
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return &InputError{Err: fmt.Errorf("%s: %w", in, err)}
	}
	if len(rows) > 0 && isComparison(rows[0]) {
		return comparisonFile(in, out, title, rows)
	}
	series, err := seriesOf(rows)
	if err != nil {
		return &InputError{Err: fmt.Errorf("%s: %w", in, err)}
	}
	c := &LineChart{Title: title, XLabel: "time (s)", YLabel: "rate", YUnit: "bit/s", Series: series}
	if delay {
		c.YLabel, c.YUnit = "one-way delay", "ms"
	}
	if c.Title == "" {
		c.Title = "Rate per class (" + filepath.Base(in) + ")"
		if delay {
			c.Title = "One-way delay (" + filepath.Base(in) + ")"
		}
	}
	return writeFile(out, c.Write)
}

// comparisonFile draws the comparison table rows (read from in) into out.
func comparisonFile(in, out, title string, rows [][]string) error {
	c, err := ReadComparison(rows)
	if err != nil {
		return &InputError{Err: fmt.Errorf("%s: %w", in, err)}
	}
	if title == "" {
		title = "Computed and measured rate per objective (" + filepath.Base(in) + ")"
	}
	return writeFile(out, func(w io.Writer, format string) error { return c.Write(w, format, title) })
}
