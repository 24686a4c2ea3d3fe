package p4compile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/p4qos/p4qos/compiler/contract"
	"github.com/p4qos/p4qos/tables"
	"github.com/p4qos/p4qos/target"
	"github.com/p4qos/p4qos/target/bmv2"
	"github.com/p4qos/p4qos/target/sim"
	"github.com/p4qos/p4qos/target/targets"
	"github.com/p4qos/p4qos/target/tofino"
)

// committedDrivers builds the driver of every target from the outputs
// p4src/build holds: BMv2 from qos.json and its P4Info, Tofino 1 and 2 from
// bf-p4c's tofino.bin / tofino2.bin, context.json and P4Info (compiled with
// --p4runtime-force-std-externs, the form Stratum and PI serve;
// docs/targets.md), and the sim from the BMv2 P4Info.
func committedDrivers(t *testing.T) []labelled {
	t.Helper()
	read := func(rel string) []byte {
		b, err := os.ReadFile(filepath.Join(repoRoot, filepath.FromSlash(rel)))
		if err != nil {
			t.Fatalf("%v (run make p4 with bf-p4c available; docs/targets.md)", err)
		}
		return b
	}
	load := func(rel string) *tables.Schema {
		s, err := tables.Load(filepath.Join(repoRoot, filepath.FromSlash(rel)))
		if err != nil {
			t.Fatalf("%v (run make p4 with bf-p4c available; docs/targets.md)", err)
		}
		return s
	}
	var out []labelled
	add := func(label string) func(d target.Driver, err error) {
		return func(d target.Driver, err error) {
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, labelled{label, d})
		}
	}
	add("bmv2")(bmv2.New(load(targets.BMv2P4Info), read("p4src/build/qos.json")))
	add("sim")(sim.NewDriver(load(targets.BMv2P4Info)))
	for _, chip := range tofino.Chips {
		f, err := tofino.CommittedFiles(chip)
		if err != nil {
			t.Fatal(err)
		}
		add(string(chip))(tofino.New(load(f.P4Info), tofino.Program, read(f.Binary), read(f.Context)))
	}
	return out
}

type labelled struct {
	label string
	target.Driver
}

// TestContractNamesResolve resolves every name of the pipeline contract in
// every committed P4Info through its target's driver, the way the
// controller and compiler do: the driver's Names map the contract name to
// the target's, then the schema looks it up by short name (a unique
// dot-suffix of the P4Info name). A name the driver maps must not also
// resolve as the contract spells it (the mapping would be stale).
func TestContractNamesResolve(t *testing.T) {
	drivers := committedDrivers(t)
	for _, d := range drivers {
		t.Run(d.label, func(t *testing.T) {
			s, names := d.Schema(), d.Names()
			t.Logf("driver %s, P4Info arch %s, renamed %v", d.Name(), s.P4Info().GetPkgInfo().GetArch(), names)
			for from := range names {
				if err := resolves(s, from); err == nil {
					t.Errorf("the driver maps %s to %s, but %s resolves in this P4Info: drop the mapping", from, names.Of(from), from)
				} else if !errors.Is(err, tables.ErrNotFound) {
					t.Errorf("%s: %v", from, err)
				}
			}
			for _, want := range contractTables {
				name := names.Of(shortName(want.name))
				tb, err := s.Table(name)
				if err != nil {
					t.Errorf("table %s: %v", name, err)
					continue
				}
				if tb.GetSize() != want.size {
					t.Errorf("table %s (%s): size %d, contract %d", name, tb.GetPreamble().GetName(), tb.GetSize(), want.size)
				}
				for _, f := range want.fields {
					mf, err := s.MatchField(name, names.Of(f.name))
					if err != nil {
						t.Errorf("table %s: %v", name, err)
						continue
					}
					if mf.GetBitwidth() != f.width || mf.GetMatchType() != f.match {
						t.Errorf("table %s field %s: %d bits %v, contract %d bits %v", name, f.name, mf.GetBitwidth(), mf.GetMatchType(), f.width, f.match)
					}
				}
				var acts []string
				for _, ref := range tb.GetActionRefs() {
					acts = append(acts, shortName(s.Name(ref.GetId())))
				}
				var wantActs []string
				for _, a := range want.actions {
					wantActs = append(wantActs, names.Of(shortName(a)))
				}
				if !sameSet(acts, wantActs) {
					t.Errorf("table %s: actions %v, contract %v", name, acts, wantActs)
				}
			}
			for full, params := range contractActions {
				name := names.Of(shortName(full))
				if _, err := s.Action(name); err != nil {
					t.Errorf("action %s: %v", name, err)
					continue
				}
				for _, wp := range params {
					ap, err := s.ActionParam(name, names.Of(wp.name))
					if err != nil {
						t.Errorf("action %s: %v", name, err)
						continue
					}
					if ap.GetBitwidth() != wp.width {
						t.Errorf("action %s param %s: %d bits, contract %d", name, wp.name, ap.GetBitwidth(), wp.width)
					}
				}
			}

			m, err := s.Meter(names.Of(contract.ClassMeter))
			if err != nil {
				t.Errorf("meter: %v", err)
			} else if m.GetSize() != contract.MeterCells {
				t.Errorf("meter %s: size %d, contract %d", m.GetPreamble().GetName(), m.GetSize(), contract.MeterCells)
			}
			for name, size := range map[string]int64{contract.ClassCounter: contract.MeterCells, contract.QueueCounter: 4096} {
				c, err := s.Counter(names.Of(name))
				if err != nil {
					t.Errorf("counter: %v", err)
				} else if c.GetSize() != size {
					t.Errorf("counter %s: size %d, contract %d", c.GetPreamble().GetName(), c.GetSize(), size)
				}
			}

			profile := names.Of(contract.ECMPSelector)
			ap, err := s.ActionProfile(profile)
			if err != nil {
				t.Errorf("action profile: %v (P4Info has %v)", err, profileNames(s))
				return
			}
			if !ap.GetWithSelector() || ap.GetSize() != 1024 || ap.GetMaxGroupSize() != contract.MaxECMPGroupLen {
				t.Errorf("action profile %s: with_selector=%v size=%d max_group_size=%d, contract true 1024 %d",
					ap.GetPreamble().GetName(), ap.GetWithSelector(), ap.GetSize(), ap.GetMaxGroupSize(), contract.MaxECMPGroupLen)
			}
			var users []string
			for _, id := range ap.GetTableIds() {
				users = append(users, shortName(s.Name(id)))
			}
			if !sameSet(users, []string{names.Of(contract.IPv4LPM), names.Of(contract.IPv6LPM)}) {
				t.Errorf("action profile %s: tables %v, contract ipv4_lpm and ipv6_lpm", ap.GetPreamble().GetName(), users)
			}
			for _, name := range []string{contract.IPv4LPM, contract.IPv6LPM} {
				if tb, err := s.Table(names.Of(name)); err == nil && tb.GetImplementationId() != ap.GetPreamble().GetId() {
					t.Errorf("table %s: implementation_id %#x, want %s's %#x", name, tb.GetImplementationId(), ap.GetPreamble().GetName(), ap.GetPreamble().GetId())
				}
			}
		})
	}
}

// resolves looks a contract name up as any kind of object.
func resolves(s *tables.Schema, name string) error {
	var errs []error
	for _, look := range []func(string) error{
		func(n string) error { _, err := s.Table(n); return err },
		func(n string) error { _, err := s.Action(n); return err },
		func(n string) error { _, err := s.Meter(n); return err },
		func(n string) error { _, err := s.Counter(n); return err },
		func(n string) error { _, err := s.ActionProfile(n); return err },
	} {
		err := look(name)
		if err == nil {
			return nil
		}
		errs = append(errs, err)
	}
	for _, err := range errs {
		if !errors.Is(err, tables.ErrNotFound) {
			return err
		}
	}
	return fmt.Errorf("%s: %w", name, tables.ErrNotFound)
}

// shortName is the last dot-component of a P4Info name.
func shortName(full string) string { return full[strings.LastIndex(full, ".")+1:] }

func profileNames(s *tables.Schema) []string {
	var names []string
	for _, ap := range s.P4Info().GetActionProfiles() {
		names = append(names, ap.GetPreamble().GetName())
	}
	slices.Sort(names)
	return names
}
