package plot

import (
	"bytes"
	"encoding/xml"
	"io"
	"math"
	"strings"
	"testing"
)

func TestReadCSV(t *testing.T) {
	in := "time_s,ef,be\n0.5,1000000,\n1.0,2000000,3000000\n"
	s, err := ReadCSV(strings.NewReader(in), 1e-6)
	if err != nil {
		t.Fatal(err)
	}
	if len(s) != 2 || s[0].Name != "ef" || s[1].Name != "be" {
		t.Fatalf("series = %+v", s)
	}
	// 2000000 bit/s scaled by 1e-6 is 2 (Mbit/s); the empty cell is a gap.
	if s[0].Y[1] != 2 || s[1].X[1] != 1.0 || !math.IsNaN(s[1].Y[0]) || s[1].Y[1] != 3 {
		t.Errorf("values: %+v", s)
	}
}

func TestReadCSVErrors(t *testing.T) {
	for name, in := range map[string]string{
		"no rows":      "time_s,a\n",
		"no series":    "time_s\n1\n",
		"bad x":        "time_s,a\nx,1\n",
		"bad y":        "time_s,a\n1,y\n",
		"ragged":       "time_s,a,b\n1,2\n",
		"unterminated": "time_s,a\n1,\"2\n",
	} {
		if _, err := ReadCSV(strings.NewReader(in), 1); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestSVGWellFormedWithSeriesAndLabels(t *testing.T) {
	c := &LineChart{Title: "rates <per class>", XLabel: "time (s)", YLabel: "Mbit/s", Series: []Series{
		{Name: "ef", X: []float64{0, 1, 2}, Y: []float64{1, 2, 3}},
		{Name: "be & co", X: []float64{0, 1, 2}, Y: []float64{5, math.NaN(), 4}},
	}}
	var b bytes.Buffer
	if err := c.SVG(&b); err != nil {
		t.Fatal(err)
	}
	d := xml.NewDecoder(bytes.NewReader(b.Bytes()))
	lines, texts := 0, []string{}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, b.String())
		}
		switch v := tok.(type) {
		case xml.StartElement:
			if v.Name.Local == "polyline" {
				lines++
			}
		case xml.CharData:
			texts = append(texts, string(v))
		}
	}
	if lines != 2 {
		t.Errorf("%d polylines, want 2", lines)
	}
	all := strings.Join(texts, "|")
	for _, want := range []string{"rates <per class>", "time (s)", "Mbit/s", "ef", "be & co"} {
		if !strings.Contains(all, want) {
			t.Errorf("text %q missing from the SVG", want)
		}
	}
	// The NaN point is a gap: the second series has 2 points, not 3. Its
	// first point (x = 0 = xmin) is at the plot area's left edge, x = 70.
	for _, line := range strings.Split(b.String(), "\n") {
		if strings.Contains(line, "<polyline") && strings.Contains(line, "be &amp; co") {
			pts := line[strings.Index(line, `points="`)+8:]
			pts = pts[:strings.IndexByte(pts, '"')]
			if f := strings.Fields(pts); len(f) != 2 || !strings.HasPrefix(f[0], "70.0,") {
				t.Errorf("second series points %q; want 2, the first at x=70.0", pts)
			}
		}
	}
}

func TestSVGNoPoints(t *testing.T) {
	c := &LineChart{Series: []Series{{Name: "x", X: []float64{1}, Y: []float64{math.NaN()}}}}
	if err := c.SVG(io.Discard); err == nil {
		t.Error("a chart without a single finite point was drawn")
	}
}

func TestNiceStep(t *testing.T) {
	for _, tc := range []struct{ raw, want float64 }{
		{0.7, 1}, {1, 1}, {1.1, 2}, {3, 5}, {7, 10}, {12, 20}, {0.03, 0.05}, {0, 1},
	} {
		if got := NiceStep(tc.raw); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("NiceStep(%v) = %v, want %v", tc.raw, got, tc.want)
		}
	}
}
