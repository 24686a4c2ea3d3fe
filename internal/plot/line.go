package plot

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"html"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Series is one line: points (X[i], Y[i]).
type Series struct {
	Name string
	X, Y []float64
}

// LineChart is a plot of series against a common X axis.
type LineChart struct {
	Title, XLabel, YLabel string
	Series                []Series
}

// palette is colour-blind friendly (Okabe & Ito).
var palette = []string{"#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000", "#f0e442"}

const (
	width, height            = 800, 450
	left, right, top, bottom = 70, 170, 40, 50
)

// SVG writes the chart as a standalone SVG document. Points that are not
// finite are skipped (a gap is not drawn as zero).
func (c *LineChart) SVG(w io.Writer) error {
	xmin, xmax, ymax := math.Inf(1), math.Inf(-1), 0.0
	n := 0
	for _, s := range c.Series {
		if len(s.X) != len(s.Y) {
			return fmt.Errorf("plot: series %q has %d x and %d y values", s.Name, len(s.X), len(s.Y))
		}
		for i := range s.X {
			if !finite(s.X[i]) || !finite(s.Y[i]) {
				continue
			}
			xmin, xmax, ymax = math.Min(xmin, s.X[i]), math.Max(xmax, s.X[i]), math.Max(ymax, s.Y[i])
			n++
		}
	}
	if n == 0 {
		return errors.New("plot: no points")
	}
	if xmax == xmin {
		xmax = xmin + 1
	}
	ystep := NiceStep(ymax / 5)
	if ymax <= 0 {
		ystep = 1
	}
	ytop := math.Ceil(ymax/ystep) * ystep
	if ytop <= 0 {
		ytop = ystep
	}
	xstep := NiceStep((xmax - xmin) / 8)
	pw, ph := float64(width-left-right), float64(height-top-bottom)
	px := func(x float64) float64 { return left + (x-xmin)/(xmax-xmin)*pw }
	py := func(y float64) float64 { return top + ph - y/ytop*ph }

	b := bufio.NewWriter(w)
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	fmt.Fprintf(b, `<rect width="100%%" height="100%%" fill="#ffffff"/>`+"\n")
	fmt.Fprintf(b, `<text x="%d" y="24" font-size="15" font-weight="bold">%s</text>`+"\n", left, esc(c.Title))
	for y := 0.0; y <= ytop+ystep/2; y += ystep {
		fmt.Fprintf(b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#dddddd"/>`+"\n", left, py(y), width-right, py(y))
		fmt.Fprintf(b, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", left-6, py(y)+4, trim(y))
	}
	for x := math.Ceil(xmin/xstep) * xstep; x <= xmax+xstep/1e6; x += xstep {
		fmt.Fprintf(b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#eeeeee"/>`+"\n", px(x), top, px(x), height-bottom)
		fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", px(x), height-bottom+16, trim(x))
	}
	fmt.Fprintf(b, `<rect x="%d" y="%d" width="%.0f" height="%.0f" fill="none" stroke="#333333"/>`+"\n", left, top, pw, ph)
	fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", left+pw/2, height-12, esc(c.XLabel))
	fmt.Fprintf(b, `<text transform="translate(18 %.1f) rotate(-90)" text-anchor="middle">%s</text>`+"\n", top+ph/2, esc(c.YLabel))
	for i, s := range c.Series {
		col := palette[i%len(palette)]
		var pts []string
		for j := range s.X {
			if finite(s.X[j]) && finite(s.Y[j]) {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", px(s.X[j]), py(s.Y[j])))
			}
		}
		fmt.Fprintf(b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"><title>%s</title></polyline>`+"\n", col, strings.Join(pts, " "), esc(s.Name))
		ly := top + 10 + 20*i
		fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="3"/>`+"\n", width-right+12, ly, width-right+32, ly, col)
		fmt.Fprintf(b, `<text x="%d" y="%d">%s</text>`+"\n", width-right+38, ly+4, esc(s.Name))
	}
	fmt.Fprintln(b, "</svg>")
	return b.Flush()
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func esc(s string) string { return html.EscapeString(s) }

func trim(v float64) string { return strconv.FormatFloat(math.Round(v*1e6)/1e6, 'g', 6, 64) }

// NiceStep rounds a raw tick step up to 1, 2 or 5 times a power of ten.
func NiceStep(raw float64) float64 {
	if raw <= 0 || !finite(raw) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if raw <= m*p {
			return m * p
		}
	}
	return 10 * p
}

// ReadCSV reads a table whose first column is X and whose other columns are
// series (header row: names), scaling every Y by yScale. Empty cells are
// gaps.
func ReadCSV(r io.Reader, yScale float64) ([]Series, error) {
	rows, err := csv.NewReader(r).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("plot: %w", err)
	}
	if len(rows) < 2 || len(rows[0]) < 2 {
		return nil, errors.New("plot: want a header and at least one row, with an X column and one series")
	}
	series := make([]Series, len(rows[0])-1)
	for i := range series {
		series[i].Name = rows[0][i+1]
	}
	for li, row := range rows[1:] {
		if len(row) != len(rows[0]) {
			return nil, fmt.Errorf("plot: line %d has %d columns, the header %d", li+2, len(row), len(rows[0]))
		}
		x, err := strconv.ParseFloat(row[0], 64)
		if err != nil {
			return nil, fmt.Errorf("plot: line %d: %w", li+2, err)
		}
		for i := range series {
			y := math.NaN()
			if row[i+1] != "" {
				if y, err = strconv.ParseFloat(row[i+1], 64); err != nil {
					return nil, fmt.Errorf("plot: line %d, column %q: %w", li+2, series[i].Name, err)
				}
				y *= yScale
			}
			series[i].X = append(series[i].X, x)
			series[i].Y = append(series[i].Y, y)
		}
	}
	return series, nil
}

// RatesSVG draws the CSV that `p4qos lab record` wrote (time_s, then bit/s
// per class) as an SVG line chart in Mbit/s; out must name an .svg file.
func RatesSVG(in, out, title string) ([]byte, error) {
	if strings.ToLower(filepath.Ext(out)) != ".svg" {
		return nil, fmt.Errorf("plot: %s: only .svg output is supported", out)
	}
	r, err := os.Open(in)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	series, err := ReadCSV(r, 1e-6)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", in, err)
	}
	if title == "" {
		title = "Rate per class (" + filepath.Base(in) + ")"
	}
	var b bytes.Buffer
	c := &LineChart{Title: title, XLabel: "time (s)", YLabel: "Mbit/s", Series: series}
	if err := c.SVG(&b); err != nil {
		return nil, fmt.Errorf("%s: %v", in, err)
	}
	return b.Bytes(), nil
}
