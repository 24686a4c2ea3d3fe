package compiler

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/protobuf/proto"
)

// TestClosedLoopOnlyKeepsEnforced: compiling with WithClosedLoopOnly gives
// the same Enforced entities per switch as a full compile, in every
// routing mode (wcmp groups follow the allocation, so they are kept).
func TestClosedLoopOnlyKeepsEnforced(t *testing.T) {
	s := loadSchema(t)
	tp := loadTopo(t, "fabric.yaml")
	for _, mode := range []string{"ecmp", "wcmp"} {
		t.Run(mode, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(examplesPath, "fabric-policy.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			src := strings.Replace(string(data), "mode: ecmp", "mode: "+mode, 1)
			p, err := ParsePolicy("p.yaml", []byte(src))
			if err != nil {
				t.Fatal(err)
			}
			demands := map[string]float64{"a-web": 30e6, "a-backup": 5e6, "b-sync": 50e6}
			full, err := Compile(context.Background(), p, tp, s, WithDemands(demands))
			if err != nil {
				t.Fatal(err)
			}
			loop, err := Compile(context.Background(), p, tp, s, WithDemands(demands), WithClosedLoopOnly())
			if err != nil {
				t.Fatal(err)
			}
			for _, sw := range full.SwitchOrder {
				want, got := Enforced(full.Switches[sw]), Enforced(loop.Switches[sw])
				if mode == "ecmp" {
					// Groups are not the loop's in ECMP mode: compare meters.
					want = metersOf(want)
				}
				if len(want) != len(got) {
					t.Fatalf("%s: %d enforced entities, want %d", sw, len(got), len(want))
				}
				for i := range want {
					if !proto.Equal(want[i], got[i]) {
						t.Fatalf("%s: entity %d differs:\n%v\n%v", sw, i, want[i], got[i])
					}
				}
				if mode == "ecmp" && len(loop.Switches[sw]) >= len(full.Switches[sw]) {
					t.Errorf("%s: closed-loop compile built %d entities, no fewer than the full %d", sw, len(loop.Switches[sw]), len(full.Switches[sw]))
				}
			}
		})
	}
}

func metersOf(ents []*p4v1.Entity) []*p4v1.Entity {
	var out []*p4v1.Entity
	for _, e := range ents {
		if e.GetMeterEntry() != nil {
			out = append(out, e)
		}
	}
	return out
}
