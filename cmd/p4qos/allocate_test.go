package main

import (
	"bytes"
	"encoding/json"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

const exampleProblem = "../../allocator/testdata/example.yaml"

// runAllocateCLI runs any command with stdin (allocate -f - was the first).
func runAllocateCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestAllocateTable(t *testing.T) {
	code, out, errOut := runAllocateCLI(t, "", "allocate", "-f", exampleProblem)
	if code != 0 {
		t.Fatalf("exit %d, stderr %s", code, errOut)
	}
	// Figures worked by hand in docs/allocator.md: web froze at f = 9 with
	// 5 + 0.5·(9-4) = 7.5 Gbps, a third of it (2.5 Gbps) filling s1-s3.
	for _, want := range []string{"FLOW GROUP", "web", "7.5Gbps", "blocked by s1-s3", "video", "satisfied", "LINK", "s1-s3", "100.0% saturated", "child checkout"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func sortedKeys(m map[string]any) string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, ",")
}

func TestAllocateJSONShape(t *testing.T) {
	src, err := os.ReadFile("../../allocator/testdata/b4.yaml")
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runAllocateCLI(t, string(src), "allocate", "-f", "-", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d, stderr %s", code, errOut)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if got := sortedKeys(doc); got != "flow_groups,links" {
		t.Errorf("top-level keys %s, want flow_groups,links", got)
	}
	fgs := doc["flow_groups"].([]any)
	fg1 := fgs[0].(map[string]any)
	if got := sortedKeys(fg1); got != "children,name,paths,rate" {
		t.Errorf("flow group keys %s", got)
	}
	// Preferred B4 triangle (allocator tests): fg1 = 40/3 Gbps.
	if r := fg1["rate"].(float64); math.Abs(r-40e9/3) > 1 {
		t.Errorf("fg1 rate %v, want 1.3333e10", r)
	}
	path := fg1["paths"].([]any)[1].(map[string]any)
	if got := sortedKeys(path); got != "links,rate" {
		t.Errorf("path keys %s", got)
	}
	if l := path["links"].([]any); len(l) != 2 || l[0] != "A-C" || l[1] != "C-B" {
		t.Errorf("path links %v", l)
	}
	child := fg1["children"].([]any)[2].(map[string]any)
	if got := sortedKeys(child); got != "children,name,rate" || child["name"] != "ctl" || child["rate"].(float64) != 5e8 {
		t.Errorf("child %v", child)
	}
	link := doc["links"].([]any)[0].(map[string]any)
	if got := sortedKeys(link); got != "capacity,load,name" || link["capacity"].(float64) != 1e10 {
		t.Errorf("link %v", link)
	}
}

func TestAllocateInvalidProblemsExit2(t *testing.T) {
	head := "links: [{name: s1-s2, capacity: 10Gbps}]\nflow_groups:\n"
	tests := []struct {
		name, src, want string
	}{
		{"unknown link", head + "  - {name: fg1, paths: [{links: [s9-s1]}]}\n", `flow_groups[0] "fg1": path 0: unknown link "s9-s1"`},
		{"negative capacity", "links: [{name: s1-s2, capacity: -1000000000}]\n", `links[0] "s1-s2": capacity must be a rate from 0`},
		{"negative capacity with units", "links: [{name: s1-s2, capacity: -1Gbps}]\n", `line 1: links[0] "s1-s2": capacity:`},
		{"decreasing function", head + "  - {name: fg1, function: [[0,0],[1,5Gbps],[2,1Gbps]], paths: [{links: [s1-s2]}]}\n", `flow_groups[0] "fg1": function is decreasing`},
		{"no paths", head + "  - {name: fg1}\n", `flow_groups[0] "fg1": no paths`},
		{"path without links", head + "  - {name: fg1, paths: [{links: []}]}\n", `flow_groups[0] "fg1": path 0: path has no links`},
		{"unknown key", head + "  - {name: fg1, colour: red, paths: [{links: [s1-s2]}]}\n", `unknown key "colour"`},
		{"garbage", "{{{{", "not valid YAML or JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runAllocateCLI(t, tt.src, "allocate", "-f", "-")
			if code != 2 {
				t.Errorf("exit %d, want 2 (stderr %q)", code, errOut)
			}
			if !strings.Contains(errOut, tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, errOut)
			}
			if out != "" {
				t.Errorf("stdout not empty: %q", out)
			}
		})
	}
}

func TestAllocateFlagErrorsExit2(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"allocate"}, "missing -f"},
		{[]string{"allocate", "-f", exampleProblem, "-o", "yaml"}, `--output: unknown value "yaml" (want table or json)`},
		{[]string{"allocate", "-f", exampleProblem, "--plot", "x.gif"}, "must end in .svg, .png or .pdf"},
		{[]string{"allocate", "-f", "does-not-exist.yaml"}, "does-not-exist.yaml"},
		{[]string{"allocate", "-f", exampleProblem, "extra"}, `unexpected argument "extra"`},
	}
	for _, tt := range tests {
		code, _, errOut := runAllocateCLI(t, "", tt.args...)
		if code != 2 || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: exit %d stderr %q, want 2 and %q", tt.args, code, errOut, tt.want)
		}
	}
}

func TestAllocatePlots(t *testing.T) {
	dir := t.TempDir()
	svg, pngPath, pdf := filepath.Join(dir, "a.svg"), filepath.Join(dir, "a.png"), filepath.Join(dir, "a.PDF")
	for _, p := range []string{svg, pngPath, pdf} {
		if code, _, errOut := runAllocateCLI(t, "", "allocate", "-f", exampleProblem, "--plot", p); code != 0 {
			t.Fatalf("--plot %s: exit %d: %s", p, code, errOut)
		}
	}
	b, err := os.ReadFile(svg)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{"<svg", "</svg>", ">web 7.5 Gbit/s at f=9, blocked by s1-s3<", ">s1-s3<", "saturated", ">10 Gbit/s<"} {
		if !strings.Contains(s, want) {
			t.Errorf("SVG lacks %q", want)
		}
	}
	if b, err := os.ReadFile(pdf); err != nil || !bytes.HasPrefix(b, []byte("%PDF-")) {
		t.Errorf("--plot a.PDF: not a PDF (%v)", err)
	}
	f, err := os.Open(pngPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("PNG does not decode: %v", err)
	}
	if b := img.Bounds(); b.Dx() < 900 || b.Dy() < 400 {
		t.Errorf("PNG is %v, want at least 900×400", b)
	}
}

// TestAllocateNeverPanics feeds mangled versions of the example problem:
// every run must exit 0 or 2, never report an internal error.
func TestAllocateNeverPanics(t *testing.T) {
	src, err := os.ReadFile(exampleProblem)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(9, 9))
	junk := []string{"-", "0", "[", "]", "{", "}", ":", ",", " ", "\n", "1e400", "-5", "nan", "Gbps", "&a", "*a", "!!int", "''"}
	for i := 0; i < 200; i++ {
		b := []byte(string(src))
		for k := 0; k < 1+rng.IntN(4); k++ {
			pos := rng.IntN(len(b))
			b = append(b[:pos], append([]byte(junk[rng.IntN(len(junk))]), b[pos+min(len(b)-pos, rng.IntN(3)):]...)...)
		}
		code, _, errOut := runAllocateCLI(t, string(b), "allocate", "-f", "-", "-o", "json")
		if (code != 0 && code != 2) || strings.Contains(errOut, "internal error") {
			t.Fatalf("exit %d stderr %q for input:\n%s", code, errOut, b)
		}
	}
}

func TestAllocateAlphaFair(t *testing.T) {
	// One 12 G link, weights 1 and 2: proportional fairness gives 4 G and 8 G.
	src := "links: [{name: l, capacity: 12Gbps}]\nflow_groups: [{name: a, weight: 1, paths: [{links: [l]}]}, {name: b, weight: 2, paths: [{links: [l]}]}]\n"
	code, out, errOut := runAllocateCLI(t, src, "allocate", "-f", "-", "--objective", "alpha-fair", "--alpha", "1")
	if code != 0 {
		t.Fatalf("exit %d, stderr %s", code, errOut)
	}
	for _, want := range []string{"objective alpha-fair, α = 1", "MARGINAL UTILITY", "PRICE", "4Gbps", "8Gbps", "100.0% saturated"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	code, out, errOut = runAllocateCLI(t, src, "allocate", "-f", "-", "--alpha", "2", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d, stderr %s", code, errOut)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if got := sortedKeys(doc); got != "alpha_fair,flow_groups,links" {
		t.Errorf("top-level keys %s", got)
	}
	af := doc["alpha_fair"].(map[string]any)
	if af["alpha"].(float64) != 2 || af["rel_gap"].(float64) > 1e-6 {
		t.Errorf("alpha_fair %v", af)
	}
	if got := sortedKeys(doc["flow_groups"].([]any)[0].(map[string]any)); got != "children,demand_price,marginal_utility,name,paths,rate" {
		t.Errorf("flow group keys %s", got)
	}
	if got := sortedKeys(doc["links"].([]any)[0].(map[string]any)); got != "capacity,load,name,price" {
		t.Errorf("link keys %s", got)
	}
	// The problem's own keys, and --objective maxmin overriding them.
	code, out, _ = runAllocateCLI(t, "objective: alpha-fair\nalpha: 0\n"+src, "allocate", "-f", "-")
	if code != 0 || !strings.Contains(out, "α = 0") {
		t.Errorf("alpha from the file: exit %d\n%s", code, out)
	}
	code, out, _ = runAllocateCLI(t, "objective: alpha-fair\nalpha: 0\n"+src, "allocate", "-f", "-", "--objective", "maxmin")
	if code != 0 || strings.Contains(out, "PRICE") {
		t.Errorf("--objective maxmin: exit %d\n%s", code, out)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--alpha", "x"}, `--alpha "x": want a number from 0 to 50`},
		{[]string{"--alpha", "51"}, "want a number from 0 to 50"},
		{[]string{"--objective", "alpha-fiar"}, `did you mean "alpha-fair"?`},
		{[]string{"--objective", "maxmin", "--alpha", "1"}, "--alpha goes with --objective alpha-fair"},
		{[]string{"--objective", "alpha-fair"}, "needs --alpha"},
	} {
		code, _, errOut := runAllocateCLI(t, src, append([]string{"allocate", "-f", "-"}, tt.args...)...)
		if code != 2 || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: exit %d stderr %q, want 2 and %q", tt.args, code, errOut, tt.want)
		}
	}
}
