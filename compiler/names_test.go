package compiler

import (
	"context"
	"errors"
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
			res, err := Compile(context.Background(), pol, tp, s, WithNames(tofino.Names()))
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
