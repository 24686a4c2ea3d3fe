package compiler

import (
	"fmt"

	p4configv1 "github.com/p4lang/p4runtime/go/p4/config/v1"

	"github.com/p4qos/p4qos/compiler/contract"
	"github.com/p4qos/p4qos/tables"
)

// keyRule is a match field Compile fills: its match kind and the width its
// values need. Addresses need their exact width (a prefix counts from the
// field's top bit); the rest need at least the width of what is written.
type keyRule struct {
	table, field string
	kind         p4configv1.MatchField_MatchType
	width        int32
	exact        bool
}

// paramRule is an action parameter Compile fills and the width it needs.
type paramRule struct {
	action, param string
	width         int32
}

func keyRules() []keyRule {
	const ternary, rng, exact, lpm = p4configv1.MatchField_TERNARY, p4configv1.MatchField_RANGE, p4configv1.MatchField_EXACT, p4configv1.MatchField_LPM
	return []keyRule{
		{contract.Classifier, contract.KeyIngressPort, ternary, 9, false},
		{contract.Classifier, contract.KeyIPVersion, ternary, 4, false},
		{contract.Classifier, contract.KeyIPv4Src, ternary, 32, true},
		{contract.Classifier, contract.KeyIPv4Dst, ternary, 32, true},
		{contract.Classifier, contract.KeyIPv6Src, ternary, 128, true},
		{contract.Classifier, contract.KeyIPv6Dst, ternary, 128, true},
		{contract.Classifier, contract.KeyIPProto, ternary, 8, false},
		{contract.Classifier, contract.KeyL4SrcPort, rng, 16, false},
		{contract.Classifier, contract.KeyL4DstPort, rng, 16, false},
		{contract.Classifier, contract.KeyDSCP, ternary, 6, false},
		{contract.Reservation, contract.KeyIPVersion, ternary, 4, false},
		{contract.Reservation, contract.KeySrc, ternary, 128, true},
		{contract.Reservation, contract.KeyDst, ternary, 128, true},
		{contract.Reservation, contract.KeyIPProto, ternary, 8, false},
		{contract.Reservation, contract.KeyL4DstPort, ternary, 16, false},
		{contract.ColorAction, contract.KeyClassID, exact, 1, false},
		{contract.ColorAction, contract.KeyColor, exact, 2, false},
		{contract.PHB, contract.KeyDSCP, exact, 6, false},
		{contract.IPv4LPM, contract.KeyIPv4Dst, lpm, 32, true},
		{contract.IPv6LPM, contract.KeyIPv6Dst, lpm, 128, true},
		{contract.ECNThreshold, contract.KeyEgressPort, exact, 9, false},
		{contract.ECNThreshold, contract.KeyQueue, exact, 3, false},
	}
}

func paramRules() []paramRule {
	return []paramRule{
		{contract.SetClass, contract.ParamClassID, 1},
		{contract.SetClass, contract.ParamDSCP, 6},
		{contract.TrustDSCP, contract.ParamClassID, 1},
		{contract.RemarkDSCP, contract.ParamDSCP, 6},
		{contract.Reserve, contract.ParamClassID, 1},
		{contract.Reserve, contract.ParamDSCP, 6},
		{contract.Reserve, contract.ParamExcessDrop, 1},
		{contract.SetQueue, contract.ParamQueue, 3},
		{contract.SetNextHop, contract.ParamPort, 9},
		{contract.SetNextHop, contract.ParamSMAC, 48},
		{contract.SetNextHop, contract.ParamDMAC, 48},
		{contract.SetECNThreshold, contract.ParamThreshold, 1},
	}
}

// tableActions are the actions Compile writes into each table.
func tableActions() map[string][]string {
	return map[string][]string{
		contract.Classifier:   {contract.SetClass, contract.TrustDSCP, contract.SetDefaultClass},
		contract.Reservation:  {contract.Reserve},
		contract.ColorAction:  {contract.RemarkDSCP, contract.Drop},
		contract.PHB:          {contract.SetQueue},
		contract.ECNThreshold: {contract.SetECNThreshold},
	}
}

// checkContract lists how the P4Info differs from what Compile writes: key
// fields and parameters that are missing, of another match kind or too
// narrow, actions a table does not offer, routes without the selector.
// Without it such a P4Info failed while building the first entry, as an
// internal error (exit 1) rather than a schema error (exit 2). Objects that
// are missing altogether are readPipeline's to report.
func checkContract(s *tables.Schema, selector string) []string {
	var bad []string
	for _, r := range keyRules() {
		if _, err := s.Table(r.table); err != nil {
			continue
		}
		f, err := s.MatchField(r.table, r.field)
		switch {
		case err != nil:
			bad = append(bad, fmt.Sprintf("no match field %s.%s", r.table, r.field))
		case f.GetMatchType() != r.kind:
			bad = append(bad, fmt.Sprintf("match field %s.%s is %s, not %s", r.table, r.field, f.GetMatchType(), r.kind))
		case r.exact && f.Bitwidth != r.width:
			bad = append(bad, fmt.Sprintf("match field %s.%s has %d bits, not %d", r.table, r.field, f.Bitwidth, r.width))
		case f.Bitwidth < r.width:
			bad = append(bad, fmt.Sprintf("match field %s.%s has %d bits, fewer than %d", r.table, r.field, f.Bitwidth, r.width))
		}
	}
	for _, r := range paramRules() {
		if _, err := s.Action(r.action); err != nil {
			continue
		}
		p, err := s.ActionParam(r.action, r.param)
		switch {
		case err != nil:
			bad = append(bad, fmt.Sprintf("no parameter %s.%s", r.action, r.param))
		case p.Bitwidth < r.width:
			bad = append(bad, fmt.Sprintf("parameter %s.%s has %d bits, fewer than %d", r.action, r.param, p.Bitwidth, r.width))
		}
	}
	for table, actions := range tableActions() {
		bad = append(bad, missingActions(s, table, actions)...)
	}
	bad = append(bad, selectorProblems(s, selector)...)
	return bad
}

// missingActions lists the actions that table does not offer.
func missingActions(s *tables.Schema, table string, actions []string) []string {
	t, err := s.Table(table)
	if err != nil {
		return nil
	}
	offered := map[uint32]bool{}
	for _, ref := range t.ActionRefs {
		offered[ref.Id] = true
	}
	var bad []string
	for _, name := range actions {
		if a, err := s.Action(name); err == nil && !offered[a.Preamble.Id] {
			bad = append(bad, fmt.Sprintf("table %s lacks action %s", table, name))
		}
	}
	return bad
}

// selectorProblems checks that the routing tables are implemented by the
// ECMP selector (its P4Info name: selector) and that it offers set_next_hop.
func selectorProblems(s *tables.Schema, selector string) []string {
	ap, err := s.ActionProfile(selector)
	if err != nil {
		return nil
	}
	var bad []string
	for _, table := range []string{contract.IPv4LPM, contract.IPv6LPM} {
		t, err := s.Table(table)
		if err != nil {
			continue
		}
		if t.ImplementationId != ap.Preamble.Id {
			bad = append(bad, fmt.Sprintf("table %s is not implemented by %s", table, selector))
			continue
		}
		bad = append(bad, missingActions(s, table, []string{contract.SetNextHop})...)
	}
	return bad
}
