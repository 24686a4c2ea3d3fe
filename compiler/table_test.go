package compiler

import (
	"bytes"
	"context"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/p4qos/p4qos/topo"
)

func compileFabric(t *testing.T) (*Result, []string) {
	t.Helper()
	s := loadSchema(t)
	p, err := LoadPolicy(filepath.Join(examplesPath, "fabric-policy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Compile(context.Background(), p, loadTopo(t, "fabric.yaml"), s)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for n := range res.Switches {
		names = append(names, n)
	}
	sort.Strings(names)
	return res, names
}

// The table view of the example fabric fits 120 columns, and every entity
// is still there: one row (and its continuation lines) each, with every
// match field, parameter and meter rate of its decoded form.
func TestTableViewFits120Columns(t *testing.T) {
	s := loadSchema(t)
	res, names := compileFabric(t)
	var buf bytes.Buffer
	if err := Render(&buf, s, "table", res, names, RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for i, l := range strings.Split(out, "\n") {
		if n := len([]rune(l)); n > TableWidth {
			t.Errorf("line %d is %d columns wide: %s", i+1, n, l)
		}
	}
	for _, bad := range []string{"&&&", "255.255.255.255", "ffff:ffff", "cir=2000000", "QosIngress."} {
		if strings.Contains(out, bad) {
			t.Errorf("table view holds %q", bad)
		}
	}
	for _, n := range names {
		_, section, ok := strings.Cut(out, "# switch "+n+":")
		if !ok {
			t.Fatalf("no section for %s", n)
		}
		section, _, _ = strings.Cut(section, "\n# switch ")
		lines := strings.Split(strings.TrimSpace(section), "\n")[2:] // the title's rest and the header
		var rows []string
		for _, l := range lines {
			if strings.HasPrefix(l, " ") && len(rows) > 0 {
				rows[len(rows)-1] += " " + strings.TrimSpace(l)
				continue
			}
			rows = append(rows, l)
		}
		if len(rows) != len(res.Switches[n]) {
			t.Fatalf("%s: %d rows for %d entities", n, len(rows), len(res.Switches[n]))
		}
		for i, e := range res.Switches[n] {
			d := s.Decode(e)
			row := strings.Join(strings.Fields(rows[i]), " ")
			var want []string
			for _, m := range d.Match {
				want = append(want, m.Name+"="+m.Value)
			}
			if d.Action != nil {
				for _, p := range d.Action.Params {
					want = append(want, p.Name+"="+p.Value)
				}
			}
			if d.Meter != nil && d.Meter.Set {
				want = append(want, "cir="+d.Meter.CIRText, "pir="+d.Meter.PIRText)
			}
			for _, w := range want {
				if !strings.Contains(row+",", w+",") && !strings.Contains(row+" ", w+" ") && !strings.Contains(row, w+")") {
					t.Errorf("%s row %d lacks %q: %s", n, i, w, row)
				}
			}
		}
	}
}

func TestWrapText(t *testing.T) {
	for _, tc := range []struct {
		in   string
		w    int
		want []string
	}{
		{"a bb ccc", 4, []string{"a bb", "ccc"}},
		{"abcdefgh", 3, []string{"abc", "def", "gh"}},
		{"x\ny z", 10, []string{"x", "y z"}},
		{"", 5, []string{""}},
	} {
		if got := wrapText(tc.in, tc.w); strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("wrapText(%q, %d) = %q, want %q", tc.in, tc.w, got, tc.want)
		}
	}
}

// The teaching labs' policies (docs/labs) fit too.
func TestTableViewFitsForTheLabs(t *testing.T) {
	s := loadSchema(t)
	tp, err := topo.Load("../docs/labs/dumbbell.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, pol := range []string{"diffserv-policy.yaml", "fair-policy.yaml", "meter-policy.yaml"} {
		p, err := LoadPolicy(filepath.Join("../docs/labs", pol))
		if err != nil {
			t.Fatal(err)
		}
		res, err := Compile(context.Background(), p, tp, s)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := Render(&buf, s, "table", res, res.SwitchOrder, RenderOptions{}); err != nil {
			t.Fatal(err)
		}
		for i, l := range strings.Split(buf.String(), "\n") {
			if n := len([]rune(l)); n > TableWidth {
				t.Errorf("%s line %d is %d columns wide: %s", pol, i+1, n, l)
			}
		}
	}
}
