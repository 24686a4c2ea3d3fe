package plot

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadComparison(t *testing.T) {
	rows := [][]string{ComparisonHeader,
		{"α = 0", "long", "0", "118000"},
		{"α = 0", "left", "1e7", "9.6e6"},
		{"max-min", "left", "5e6", "4.9e6"},
	}
	c, err := ReadComparison(rows)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.Objectives, ",") != "α = 0,max-min" || strings.Join(c.Flows, ",") != "long,left" {
		t.Fatalf("objectives %q, flows %q", c.Objectives, c.Flows)
	}
	if c.Computed[0][1] != 1e7 || c.Measured[0][0] != 118000 || c.Measured[1][1] != 4.9e6 {
		t.Errorf("computed %v, measured %v", c.Computed, c.Measured)
	}
	// max-min has no row for long: no bar, not a zero one.
	if !math.IsNaN(c.Computed[1][0]) || !math.IsNaN(c.Measured[1][0]) {
		t.Errorf("missing max-min/long = %v, %v, want NaN", c.Computed[1][0], c.Measured[1][0])
	}
}

func TestReadComparisonErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		rows [][]string
		want string
	}{
		{"no rows", [][]string{ComparisonHeader}, "at least one row"},
		{"other header", [][]string{{"time_s", "a"}, {"0", "1"}}, "want the header objective,flow,computed_bps,measured_bps"},
		{"short row", [][]string{ComparisonHeader, {"α = 1", "long", "1"}}, "line 2 has 3 columns"},
		{"not a number", [][]string{ComparisonHeader, {"α = 1", "long", "1", "fast"}}, `line 2, column measured_bps: want a rate ≥ 0 in bit/s, got "fast"`},
		{"negative", [][]string{ComparisonHeader, {"α = 1", "long", "-1", "1"}}, "line 2, column computed_bps"},
		{"empty flow", [][]string{ComparisonHeader, {"α = 1", "", "1", "1"}}, "line 2: empty objective or flow"},
		{"twice", [][]string{ComparisonHeader, {"α = 1", "a", "1", "1"}, {"α = 1", "a", "2", "2"}}, "line 3: α = 1, a given twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadComparison(tc.rows)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestComparisonFile: lab plot draws a comparison table as bars, with a
// legend entry per flow and kind and the objectives on the X axis, in
// every format; a bad table is an InputError naming the file and line.
func TestComparisonFile(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "rates.csv")
	csv := "objective,flow,computed_bps,measured_bps\nα = 0,long,0,118000\nα = 0,left,10000000,9600000\nmax-min,long,5000000,4900000\nmax-min,left,5000000,4850000\n"
	if err := os.WriteFile(in, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, f := range Formats {
		out := filepath.Join(dir, "c."+f)
		// delay is ignored for a comparison table.
		if err := CSVFile(in, out, "", f == "pdf"); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		b, err := os.ReadFile(out)
		if err != nil || len(b) == 0 {
			t.Fatalf("%s: %d bytes (%v)", f, len(b), err)
		}
		if f != "svg" {
			continue
		}
		all := "|" + strings.Join(svgTexts(t, b), "|") + "|"
		for _, want := range []string{"|long computed|", "|long measured|", "|left measured|", "|α = 0|", "|max-min|", "|10 Mbit/s|", "|objective|", "(rates.csv)"} {
			if !strings.Contains(all, want) {
				t.Errorf("SVG text lacks %q: %s", want, all)
			}
		}
		if strings.Contains(all, "time (s)") {
			t.Errorf("a comparison drawn as lines over time: %s", all)
		}
	}
	bad := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(bad, []byte("objective,flow,computed_bps,measured_bps\nα = 0,long,x,1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := CSVFile(bad, filepath.Join(dir, "bad.svg"), "", false)
	var ie *InputError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "bad.csv: line 2, column computed_bps") {
		t.Errorf("bad table: %v, want an InputError naming bad.csv and line 2", err)
	}
}
