package tofino

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/p4qos/p4qos/tables"
)

// committed reads a chip's committed P4Info and context.json.
func committed(t *testing.T, chip Chip) (*tables.Schema, []byte, []byte) {
	t.Helper()
	f, err := CommittedFiles(chip)
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Join("..", "..")
	s, err := tables.Load(filepath.Join(root, f.P4Info))
	if err != nil {
		t.Fatal(err)
	}
	ctx, err := os.ReadFile(filepath.Join(root, f.Context))
	if err != nil {
		t.Fatal(err)
	}
	bin, err := os.ReadFile(filepath.Join(root, f.Binary))
	if err != nil {
		t.Fatal(err)
	}
	return s, bin, ctx
}

// The committed context.json of each chip has the selector and meter the
// P4Info declares, as bf-p4c built them, and New accepts the pair.
func TestCommittedContext(t *testing.T) {
	for _, chip := range Chips {
		t.Run(string(chip), func(t *testing.T) {
			s, bin, ctx := committed(t, chip)
			d, err := New(s, Program, bin, ctx)
			if err != nil {
				t.Fatal(err)
			}
			c := d.Context()
			if len(c.Selectors) != 1 || c.Selectors[0] != (Selector{Name: "QosIngress.ecmp_selector", Profile: "QosIngress.ecmp_profile", MaxGroupSize: 64, Mode: "fair"}) {
				t.Errorf("selectors %+v", c.Selectors)
			}
			// class_meter and the reservation table's direct meter (one
			// cell per entry), in context.json's order.
			want := []Meter{
				{Name: "QosIngress.reservation_meter", Granularity: "bytes", Type: "standard", Size: 1024},
				{Name: "QosIngress.class_meter", Granularity: "bytes", Type: "standard", Size: 256},
			}
			if !slices.Equal(c.Meters, want) {
				t.Errorf("meters %+v, want %+v", c.Meters, want)
			}
		})
	}
}

// New refuses a context.json that disagrees with the P4Info: another
// maximum group size, a packet meter, or a selector bound to nothing.
func TestContextMismatch(t *testing.T) {
	s, bin, ctx := committed(t, Tofino1)
	for name, edit := range map[string][2]string{
		"group size": {`"max_port_pool_size": 64`, `"max_port_pool_size": 120`},
		"meter unit": {`"meter_granularity": "bytes"`, `"meter_granularity": "packets"`},
		"unbound":    {`"bound_to_action_data_table_handle": 33554434`, `"bound_to_action_data_table_handle": 1`},
	} {
		t.Run(name, func(t *testing.T) {
			changed := strings.Replace(string(ctx), edit[0], edit[1], 1)
			if changed == string(ctx) {
				t.Fatalf("fixture: %q not in context.json", edit[0])
			}
			if _, err := New(s, Program, bin, []byte(changed)); err == nil {
				t.Error("New accepted it")
			}
		})
	}
	if _, err := New(s, Program, bin, []byte("not json")); err == nil {
		t.Error("New accepted a context.json that is not JSON")
	}
}

// ECN thresholds become cells of a 1500-byte packet: ⌈1500/80⌉ = 19 on
// Tofino 1, ⌈1500/176⌉ = 9 on Tofino 2; the driver takes the chip from the
// P4Info's architecture.
func TestECNDepth(t *testing.T) {
	for chip, want := range map[Chip]uint64{Tofino1: 190, Tofino2: 90} {
		if got := ECNDepth(chip, 10); got != want {
			t.Errorf("%s: 10 packets = %d cells, want %d", chip, got, want)
		}
		s, bin, ctx := committed(t, chip)
		d, err := New(s, Program, bin, ctx)
		if err != nil {
			t.Fatal(err)
		}
		if ChipOf(s) != chip || d.ECNDepth(10) != want {
			t.Errorf("%s: driver sees chip %s, 10 packets = %d cells", chip, ChipOf(s), d.ECNDepth(10))
		}
	}
}
