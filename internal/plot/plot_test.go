package plot

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/p4qos/p4qos/allocator"
)

func TestSI(t *testing.T) {
	for _, tt := range []struct {
		v, ref float64
		unit   string
		want   string
	}{
		{2.5e9, 2.5e9, "bit/s", "2.5 Gbit/s"},
		{0, 3e9, "bit/s", "0"},
		{5e8, 3e9, "bit/s", "0.5 Gbit/s"},
		{5e8, 5e8, "bit/s", "500 Mbit/s"},
		{1500, 1500, "bit/s", "1.5 kbit/s"},
		{12, 12, "bit/s", "12 bit/s"},
		{4.75e6, 1e7, "bit/s", "4.75 Mbit/s"},
		{1.23456e12, 2e12, "bit/s", "1.235 Tbit/s"},
		{2.5e7, 2.5e7, "", "25M"},
		{0.25, 1, "", "0.25"},
		{-2e9, 2e9, "bit/s", "-2 Gbit/s"},
		{math.Inf(1), 1, "bit/s", "unbounded"},
	} {
		if got := SI(tt.v, tt.ref, tt.unit); got != tt.want {
			t.Errorf("SI(%g, %g, %q) = %q, want %q", tt.v, tt.ref, tt.unit, got, tt.want)
		}
	}
}

func TestTicks(t *testing.T) {
	for _, tt := range []struct {
		name   string
		t      Ticks
		lo, hi float64
		want   string // labelled ticks
	}{
		{"gigabits", Ticks{Unit: "bit/s"}, 0, 3e9, "0|0.5 Gbit/s|1 Gbit/s|1.5 Gbit/s|2 Gbit/s|2.5 Gbit/s|3 Gbit/s"},
		{"one prefix per axis", Ticks{Unit: "bit/s"}, 0, 1.2e9, "0|0.2 Gbit/s|0.4 Gbit/s|0.6 Gbit/s|0.8 Gbit/s|1 Gbit/s|1.2 Gbit/s"},
		{"megabits", Ticks{Unit: "bit/s"}, 0, 5.5e6, "0|1 Mbit/s|2 Mbit/s|3 Mbit/s|4 Mbit/s|5 Mbit/s"},
		{"stops at Max", Ticks{Unit: "bit/s", Max: 1e10}, 0, 1.6e10, "0|2 Gbit/s|4 Gbit/s|6 Gbit/s|8 Gbit/s|10 Gbit/s"},
		{"plain, not from zero", Ticks{}, 0.5, 23, "5|10|15|20"},
		{"no 5.000e07", Ticks{}, 0, 5e7, "0|10M|20M|30M|40M|50M"},
	} {
		var got []string
		for _, tk := range tt.t.Ticks(tt.lo, tt.hi) {
			if tk.Label != "" {
				got = append(got, tk.Label)
			}
		}
		if g := strings.Join(got, "|"); g != tt.want {
			t.Errorf("%s: ticks %s, want %s", tt.name, g, tt.want)
		}
	}
}

func TestFormatOf(t *testing.T) {
	for name, want := range map[string]string{"a.svg": "svg", "B.PNG": "png", "c.pdf": "pdf", "x.gif": "", "noext": "", "svg": ""} {
		got, err := FormatOf(name)
		if got != want || (want == "") != errors.Is(err, ErrFormat) {
			t.Errorf("FormatOf(%q) = %q, %v; want %q", name, got, err, want)
		}
	}
}

func TestStylesDistinctFor25Series(t *testing.T) {
	seen := map[string]int{}
	for i := 0; i < StyleCount; i++ {
		s := Style(i)
		k := fmt.Sprint(s.Color, s.Dashes)
		if j, ok := seen[k]; ok {
			t.Fatalf("series %d has the style of series %d", i, j)
		}
		seen[k] = i
	}
	if StyleCount < 25 {
		t.Errorf("only %d distinct styles", StyleCount)
	}
}

func allocation(t *testing.T) (*allocator.Problem, *allocator.Result) {
	t.Helper()
	p := &allocator.Problem{
		Links: []allocator.Link{{Name: "a<&>b", Capacity: 10e9}, {Name: "idle", Capacity: 0}},
		FlowGroups: []allocator.FlowGroup{
			{Name: "x", Function: allocator.WeightFunction(1e9), Paths: []allocator.Path{{Links: []string{"a<&>b"}}}},
			{Name: "y", Demand: allocator.Limit(2e9), Function: allocator.PiecewiseFunction(allocator.Point{Share: 1, Rate: 3e9}), Paths: []allocator.Path{{Links: []string{"a<&>b"}}}},
		},
	}
	r, err := allocator.Allocate(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	return p, r
}

// svgTexts parses an SVG as XML and returns its text nodes.
func svgTexts(t *testing.T, b []byte) []string {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(b))
	var texts []string
	root := ""
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if root == "" {
				root = tok.Name.Local
			}
		case xml.CharData:
			if s := strings.TrimSpace(string(tok)); s != "" {
				texts = append(texts, s)
			}
		}
	}
	if root != "svg" {
		t.Fatalf("root element %q, want svg", root)
	}
	return texts
}

func TestAllocationInEachFormat(t *testing.T) {
	p, r := allocation(t)
	for _, format := range Formats {
		var buf bytes.Buffer
		if err := Allocation(&buf, format, p, r); err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		b := buf.Bytes()
		switch format {
		case "svg":
			all := "|" + strings.Join(svgTexts(t, b), "|") + "|"
			// y is satisfied at share 2/3 (3 Gbit/s per share, demand
			// 2 Gbit/s); x then fills the 10 Gbit/s link alone: 8 Gbit/s at
			// share 8. The link axis is in Gbit/s.
			for _, want := range []string{"|a<&>b|", "|x 8 Gbit/s at f=8, blocked by a<&>b|", "|y 2 Gbit/s at f=0.667, satisfied|",
				"|10 Gbit/s / 10 Gbit/s (100.0%) saturated|", "|4 Gbit/s|", "|fair share f|"} {
				if !strings.Contains(all, want) {
					t.Errorf("SVG text lacks %q: %s", want, all)
				}
			}
			if strings.Contains(all, "Gbps") || strings.Contains(all, "GBPS") {
				t.Errorf("SVG uses an ambiguous unit: %s", all)
			}
		case "png":
			img, err := png.Decode(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			// The saturated link's bar is red somewhere in the picture.
			found := false
			bd := img.Bounds()
			for y := bd.Min.Y; y < bd.Max.Y && !found; y++ {
				for x := bd.Min.X; x < bd.Max.X; x++ {
					if r, g, bl, _ := img.At(x, y).RGBA(); r>>8 == 0xd6 && g>>8 == 0x27 && bl>>8 == 0x28 {
						found = true
						break
					}
				}
			}
			if !found {
				t.Error("no red (saturated) pixels in the PNG")
			}
		case "pdf":
			if !bytes.HasPrefix(b, []byte("%PDF-")) || !bytes.Contains(b[len(b)-32:], []byte("%%EOF")) {
				t.Errorf("not a PDF: %q...%q", b[:min(16, len(b))], b[max(0, len(b)-16):])
			}
		}
	}
	if err := Allocation(io.Discard, "gif", p, r); !errors.Is(err, ErrFormat) {
		t.Errorf("gif: %v, want ErrFormat", err)
	}
}

func TestBigProblemsStayReadable(t *testing.T) {
	p := &allocator.Problem{}
	for i := 0; i < 300; i++ {
		p.Links = append(p.Links, allocator.Link{Name: fmt.Sprintf("l%d", i), Capacity: float64(1+i%7) * 1e9})
	}
	for g := 0; g < 500; g++ {
		p.FlowGroups = append(p.FlowGroups, allocator.FlowGroup{
			Name:     fmt.Sprintf("fg%d", g),
			Function: allocator.WeightFunction(float64(1+g%5) * 1e8),
			Paths:    []allocator.Path{{Links: []string{p.Links[g%300].Name, p.Links[(g*7+1)%300].Name}}},
		})
	}
	r, err := allocator.Allocate(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Allocation(&buf, "svg", p, r); err != nil {
		t.Fatal(err)
	}
	all := strings.Join(svgTexts(t, buf.Bytes()), "|")
	for _, want := range []string{"the 60 most utilised of 300 links shown", "functions of the first 200 of 500 flow groups shown", "... and 470 more"} {
		if !strings.Contains(all, want) {
			t.Errorf("SVG lacks %q", want)
		}
	}
	buf.Reset()
	if err := Allocation(&buf, "png", p, r); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if h := img.Bounds().Dy(); h > 4000 {
		t.Errorf("PNG is %d px tall", h)
	}
}

func TestReadCSV(t *testing.T) {
	in := "time_s,ef,be\n0.5,1000000,\n1.0,2000000,3000000\n"
	s, err := ReadCSV(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(s) != 2 || s[0].Name != "ef" || s[1].Name != "be" {
		t.Fatalf("series = %+v", s)
	}
	if s[0].Y[1] != 2e6 || s[1].X[1] != 1.0 || !math.IsNaN(s[1].Y[0]) || s[1].Y[1] != 3e6 {
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
		if _, err := ReadCSV(strings.NewReader(in)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestRatesFile(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "rates.csv")
	if err := os.WriteFile(in, []byte("time_s,voice,best & effort\n0,0,\n1,2500000,6000000\n2,2500000,5900000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	magic := map[string]string{"svg": "<?xml", "png": "\x89PNG\r\n\x1a\n", "pdf": "%PDF-"}
	for _, f := range Formats {
		out := filepath.Join(dir, "r."+f)
		if err := RatesFile(in, out, "rates <per class>"); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		b, err := os.ReadFile(out)
		if err != nil || !bytes.HasPrefix(b, []byte(magic[f])) {
			t.Fatalf("%s: starts %q (%v)", f, b[:min(8, len(b))], err)
		}
		if f == "svg" {
			all := "|" + strings.Join(svgTexts(t, b), "|") + "|"
			for _, want := range []string{"|rates <per class>|", "|best & effort|", "|2 Mbit/s|", "|6 Mbit/s|", "|time (s)|"} {
				if !strings.Contains(all, want) {
					t.Errorf("SVG text lacks %q: %s", want, all)
				}
			}
		}
	}
	empty := filepath.Join(dir, "empty.csv")
	if err := os.WriteFile(empty, []byte("time_s,a\n1,\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, args := range map[string][2]string{
		"extension": {in, filepath.Join(dir, "r.gif")},
		"missing":   {filepath.Join(dir, "nope.csv"), filepath.Join(dir, "r.svg")},
		"no points": {empty, filepath.Join(dir, "r2.svg")},
	} {
		var ie *InputError
		if err := RatesFile(args[0], args[1], ""); !errors.As(err, &ie) {
			t.Errorf("%s: %v, want an InputError", name, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "r2.svg")); !os.IsNotExist(err) {
		t.Errorf("a failed plot left a file behind: %v", err)
	}
}

// TestDelayFile: with delay, the same CSV format is read as milliseconds:
// the axis says so, and the default title names delays.
func TestDelayFile(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "delay.csv")
	if err := os.WriteFile(in, []byte("time_s,a max delay,a bound\n0,0.4,3.68\n0.1,0.9,3.68\n0.2,1.1,3.68\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "d.svg")
	if err := CSVFile(in, out, "", true); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	all := "|" + strings.Join(svgTexts(t, b), "|") + "|"
	for _, want := range []string{"|One-way delay (delay.csv)|", "|one-way delay|", "|a bound|", "|2 ms|"} {
		if !strings.Contains(all, want) {
			t.Errorf("SVG text lacks %q: %s", want, all)
		}
	}
}

// parkingLot: one long FG over links a and b, one short FG on each. Max-min
// gives every FG 5 G; proportional fairness (α = 1) gives the long one
// c/3 and the short ones 2c/3; α = 0 gives the long one (almost) nothing.
func parkingLot() *allocator.Problem {
	return &allocator.Problem{
		Links: []allocator.Link{{Name: "a", Capacity: 10e9}, {Name: "b", Capacity: 10e9}},
		FlowGroups: []allocator.FlowGroup{
			{Name: "long", Paths: []allocator.Path{{Links: []string{"a", "b"}}}},
			{Name: "short-a", Paths: []allocator.Path{{Links: []string{"a"}}}},
			{Name: "short-b", Paths: []allocator.Path{{Links: []string{"b"}}}},
		},
	}
}

func TestAllocateEach(t *testing.T) {
	p := parkingLot()
	rs, err := AllocateEach(context.Background(), p, []float64{0, 1, math.Inf(1)})
	if err != nil {
		t.Fatal(err)
	}
	if p.Objective != "" || p.Alpha != nil {
		t.Errorf("problem changed: %q %v", p.Objective, p.Alpha)
	}
	for k, want := range [][]float64{{0, 10e9, 10e9}, {10e9 / 3, 20e9 / 3, 20e9 / 3}, {5e9, 5e9, 5e9}} {
		for i, w := range want {
			if got := rs[k].FlowGroups[i].Rate; math.Abs(got-w) > 1e-4*10e9 {
				t.Errorf("allocation %d FG %d: %g, want %g", k, i, got, w)
			}
		}
	}
	if rs[2].AlphaFair != nil || rs[1].AlphaFair == nil || rs[1].AlphaFair.Alpha != 1 {
		t.Error("max-min and α-fair results mixed up")
	}
}

func TestAlphaComparison(t *testing.T) {
	p := parkingLot()
	alphas := []float64{0, 1, 2, math.Inf(1)}
	rs, err := AllocateEach(context.Background(), p, alphas)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := AlphaComparison(&buf, "svg", alphas, rs); err != nil {
		t.Fatal(err)
	}
	all := "|" + strings.Join(svgTexts(t, buf.Bytes()), "|") + "|"
	// Totals: α = 0 20 G, α = 1 and 2 (long c/(1+√2) at α = 2) less, max-min 15 G.
	for _, want := range []string{"|long|", "|short-b|", "|α = 0: total 20 Gbit/s|", "|α = 1: total 16.667 Gbit/s|", "|max-min (α = ∞): total 15 Gbit/s|", "|flow group|"} {
		if !strings.Contains(all, want) {
			t.Errorf("SVG text lacks %q: %s", want, all)
		}
	}
	if err := AlphaComparison(&buf, "svg", alphas[:2], rs); err == nil {
		t.Error("2 α for 4 allocations accepted")
	}
	// One α: the ordinary allocation figure; several: the comparison.
	dir := t.TempDir()
	r, err := allocator.Allocate(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		alphas []float64
		want   string
	}{{nil, "fair share f"}, {alphas, "α = 2: total"}} {
		f := filepath.Join(dir, "x.svg")
		if err := AllocationsFile(context.Background(), f, p, r, tc.alphas); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(strings.Join(svgTexts(t, b), "|"), tc.want) {
			t.Errorf("α %v: figure lacks %q", tc.alphas, tc.want)
		}
	}
}
