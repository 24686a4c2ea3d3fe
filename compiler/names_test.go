package compiler

import (
	"context"
	"errors"
	"math/big"
	"strings"
	"testing"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"

	"github.com/p4qos/p4qos/compiler/contract"
	"github.com/p4qos/p4qos/tables"
	"github.com/p4qos/p4qos/target/tofino"
)

// TestCompileForTofino compiles the example policy against the committed
// Tofino 1 and 2 P4Infos. Without the driver's names the selector is not
// found (bf-p4c names the action profile ecmp_profile); with them every
// entity validates against the Tofino P4Info, members and groups are
// written to ecmp_profile, and the same entities (by name) come out as for
// the BMv2 P4Info.
func TestCompileForTofino(t *testing.T) {
	bmv2 := loadSchema(t)
	pol, err := LoadPolicy(examplesPath + "/fabric-policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tp := loadTopo(t, "fabric.yaml")
	ref, err := Compile(context.Background(), pol, tp, bmv2)
	if err != nil {
		t.Fatal(err)
	}
	for _, chip := range tofino.Chips {
		t.Run(string(chip), func(t *testing.T) {
			files, err := tofino.CommittedFiles(chip)
			if err != nil {
				t.Fatal(err)
			}
			s, err := tables.Load("../" + files.P4Info)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Compile(context.Background(), pol, tp, s); !errors.Is(err, ErrSchema) || !strings.Contains(err.Error(), contract.ECMPSelector) {
				t.Errorf("without the driver's names: %v, want ErrSchema about %s", err, contract.ECMPSelector)
			}
			res, err := Compile(context.Background(), pol, tp, s, WithNames(tofino.Names()), WithECNDepth(func(p uint32) uint64 { return tofino.ECNDepth(chip, p) }))
			if err != nil {
				t.Fatal(err)
			}
			profile, err := s.ActionProfile("ecmp_profile")
			if err != nil {
				t.Fatal(err)
			}
			for _, sw := range res.SwitchOrder {
				ents := res.Switches[sw]
				if len(ents) == 0 || len(ents) != len(ref.Switches[sw]) {
					t.Errorf("%s: %d entities, %d for BMv2", sw, len(ents), len(ref.Switches[sw]))
				}
				selector := 0
				for _, e := range ents {
					if err := s.ValidateEntity(e); err != nil {
						t.Fatalf("%s: %v in %v", sw, err, e)
					}
					switch v := e.Entity.(type) {
					case *p4v1.Entity_ActionProfileMember:
						selector++
						if v.ActionProfileMember.ActionProfileId != profile.Preamble.Id {
							t.Errorf("%s: member in profile %#x, not ecmp_profile", sw, v.ActionProfileMember.ActionProfileId)
						}
					case *p4v1.Entity_ActionProfileGroup:
						selector++
						if v.ActionProfileGroup.ActionProfileId != profile.Preamble.Id {
							t.Errorf("%s: group in profile %#x, not ecmp_profile", sw, v.ActionProfileGroup.ActionProfileId)
						}
					}
				}
				if selector == 0 {
					t.Errorf("%s: no selector members or groups", sw)
				}
				// ecn_threshold values are in buffer cells: the policy's
				// packets × ⌈1500 / cell bytes⌉ (80 B cells on Tofino 1,
				// 176 B on Tofino 2).
				perPacket := map[tofino.Chip]uint64{tofino.Tofino1: 19, tofino.Tofino2: 9}[chip]
				got, want := ecnValues(t, s, ents), ecnValues(t, bmv2, ref.Switches[sw])
				if len(got) != len(want) {
					t.Fatalf("%s: %d ecn_threshold entries, %d for BMv2", sw, len(got), len(want))
				}
				for i := range got {
					if got[i] != want[i]*perPacket {
						t.Errorf("%s: ecn_threshold %d, want %d × %d", sw, got[i], want[i], perPacket)
					}
				}
			}
		})
	}
}

// TestWithNamesRejectsUnsupported: a mapping the compiler would not apply is
// an error, not silently ignored.
func TestWithNamesRejectsUnsupported(t *testing.T) {
	s := loadSchema(t)
	pol, err := ParsePolicy("p.yaml", []byte("classes: []\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Compile(context.Background(), pol, loadTopo(t, "fabric.yaml"), s, WithNames(contract.Names{contract.PHB: "phb2"}))
	if err == nil || !strings.Contains(err.Error(), "renames phb") {
		t.Errorf("err = %v", err)
	}
}

// ecnValues are the threshold parameters of a switch's ecn_threshold
// entries, in order.
func ecnValues(t *testing.T, s *tables.Schema, ents []*p4v1.Entity) []uint64 {
	t.Helper()
	tb, err := s.Table(contract.ECNThreshold)
	if err != nil {
		t.Fatal(err)
	}
	var out []uint64
	for _, e := range ents {
		te := e.GetTableEntry()
		if te == nil || te.TableId != tb.Preamble.Id {
			continue
		}
		params := te.GetAction().GetAction().GetParams()
		if len(params) != 1 {
			t.Fatalf("ecn_threshold entry with %d params", len(params))
		}
		out = append(out, new(big.Int).SetBytes(params[0].Value).Uint64())
	}
	return out
}
