package plot

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"image/png"
	"io"
	"strings"
	"testing"

	"github.com/p4qos/p4qos/allocator"
)

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

func TestSVGIsWellFormedAndLabelled(t *testing.T) {
	p, r := allocation(t)
	var buf bytes.Buffer
	if err := SVG(&buf, p, r); err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(bytes.NewReader(buf.Bytes()))
	var texts []string
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v", err)
		}
		if cd, ok := tok.(xml.CharData); ok && strings.TrimSpace(string(cd)) != "" {
			texts = append(texts, string(cd))
		}
	}
	all := strings.Join(texts, "|")
	// y is satisfied at share 2/3 (3 Gbps per share, demand 2 Gbps); x then
	// fills the 10 Gbps link alone: 8 Gbps at share 8.
	for _, want := range []string{"a<&>b", "x 8Gbps at f=8", "y 2Gbps at f=0.667", "satisfied", "blocked by a<&>b", "10Gbps / 10Gbps (100.0%) saturated"} {
		if !strings.Contains(all, want) {
			t.Errorf("SVG text lacks %q: %s", want, all)
		}
	}
}

func TestPNGDecodes(t *testing.T) {
	p, r := allocation(t)
	var buf bytes.Buffer
	if err := Write(&buf, "png", p, r); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	// The saturated link's bar is red somewhere in the picture.
	found := false
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y && !found; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if r, g, bl, _ := img.At(x, y).RGBA(); r>>8 == 0xd6 && g>>8 == 0x27 && bl>>8 == 0x28 {
				found = true
				break
			}
		}
	}
	if !found {
		t.Error("no red (saturated) pixels in the PNG")
	}
}

func TestFormatOf(t *testing.T) {
	for name, want := range map[string]string{"a.svg": "svg", "B.PNG": "png", "x.gif": "", "noext": ""} {
		got, err := FormatOf(name)
		if got != want || (want == "") != errors.Is(err, ErrFormat) {
			t.Errorf("FormatOf(%q) = %q, %v; want %q", name, got, err, want)
		}
	}
}

func TestNiceStep(t *testing.T) {
	for _, tt := range []struct{ in, want float64 }{{0.3, 0.5}, {1, 1}, {1.2, 2}, {2.2, 2.5}, {3, 5}, {7, 10}, {2e9, 2e9}, {2.1e9, 2.5e9}, {0, 1}} {
		if got := niceStep(tt.in); got != tt.want {
			t.Errorf("niceStep(%v) = %v, want %v", tt.in, got, tt.want)
		}
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
	if err := SVG(&buf, p, r); err != nil {
		t.Fatal(err)
	}
	s := buf.String()
	for _, want := range []string{"240 less utilised links not shown", "functions of the first 200 of 500 flow groups shown", "... and 476 more"} {
		if !strings.Contains(s, want) {
			t.Errorf("SVG lacks %q", want)
		}
	}
	if n := strings.Count(s, "<polyline"); n != 200 {
		t.Errorf("%d curves drawn, want 200", n)
	}
	buf.Reset()
	if err := PNG(&buf, p, r); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if h := img.Bounds().Dy(); h > 3000 {
		t.Errorf("PNG is %d px tall", h)
	}
}
