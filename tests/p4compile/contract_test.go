package p4compile

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	p4configv1 "github.com/p4lang/p4runtime/go/p4/config/v1"

	"github.com/p4qos/p4qos/compiler/contract"
)

// The names come from compiler/contract, the one place the controller, the
// compiler and the embedded switch take them from; the sizes, widths, match
// kinds and action lists are transcribed by hand from docs/pipeline.md, not
// from the P4Info, so that a change to any side that breaks the contract
// fails here. In the P4Info the names carry their control's prefix.

// ingress and egress give a contract name its v1model P4Info name.
func ingress(name string) string { return "QosIngress." + name }
func egress(name string) string  { return "QosEgress." + name }

type wantField struct {
	name  string
	width int32
	match p4configv1.MatchField_MatchType
}

type wantTable struct {
	name          string
	size          int64
	fields        []wantField
	actions       []string
	defaultAction string
	// defaultOnly are the actions allowed only as the default (scope
	// DEFAULT_ONLY); the others may be in entries.
	defaultOnly []string
	selector    bool
}

const (
	exact   = p4configv1.MatchField_EXACT
	lpm     = p4configv1.MatchField_LPM
	ternary = p4configv1.MatchField_TERNARY
	rng     = p4configv1.MatchField_RANGE
)

var contractTables = []wantTable{
	{
		name: ingress(contract.Classifier), size: 1024,
		fields: []wantField{
			{contract.KeyIngressPort, 9, ternary}, {contract.KeyIPVersion, 4, ternary},
			{contract.KeyIPv4Src, 32, ternary}, {contract.KeyIPv4Dst, 32, ternary},
			{contract.KeyIPv6Src, 128, ternary}, {contract.KeyIPv6Dst, 128, ternary},
			{contract.KeyIPProto, 8, ternary}, {contract.KeyL4SrcPort, 16, rng}, {contract.KeyL4DstPort, 16, rng},
			{contract.KeyDSCP, 6, ternary},
		},
		actions:       []string{ingress(contract.SetClass), ingress(contract.TrustDSCP), ingress(contract.SetDefaultClass)},
		defaultAction: ingress(contract.SetDefaultClass),
	},
	{
		name: ingress(contract.Reservation), size: 1024,
		fields: []wantField{
			{contract.KeyIPVersion, 4, ternary},
			{contract.KeySrc, 128, ternary}, {contract.KeyDst, 128, ternary},
			{contract.KeyIPProto, 8, ternary}, {contract.KeyL4SrcPort, 16, ternary}, {contract.KeyL4DstPort, 16, ternary},
		},
		actions:       []string{ingress(contract.Reserve), "NoAction"},
		defaultAction: "NoAction",
		defaultOnly:   []string{"NoAction"},
	},
	{
		name: ingress(contract.ColorAction), size: 1024,
		fields:        []wantField{{contract.KeyClassID, 8, exact}, {contract.KeyColor, 2, exact}},
		actions:       []string{ingress(contract.RemarkDSCP), ingress(contract.Drop), "NoAction"},
		defaultAction: "NoAction",
	},
	{
		name: ingress(contract.PHB), size: 64,
		fields:        []wantField{{contract.KeyDSCP, 6, exact}},
		actions:       []string{ingress(contract.SetQueue), "NoAction"},
		defaultAction: "NoAction",
	},
	{
		name: ingress(contract.IPv4LPM), size: 1024,
		fields:        []wantField{{contract.KeyIPv4Dst, 32, lpm}},
		actions:       []string{ingress(contract.SetNextHop), ingress(contract.Drop)},
		defaultAction: ingress(contract.Drop), selector: true,
	},
	{
		name: ingress(contract.IPv6LPM), size: 1024,
		fields:        []wantField{{contract.KeyIPv6Dst, 128, lpm}},
		actions:       []string{ingress(contract.SetNextHop), ingress(contract.Drop)},
		defaultAction: ingress(contract.Drop), selector: true,
	},
	{
		name: egress(contract.ECNThreshold), size: 512,
		fields:        []wantField{{contract.KeyEgressPort, 9, exact}, {contract.KeyQueue, 3, exact}},
		actions:       []string{egress(contract.SetECNThreshold), "NoAction"},
		defaultAction: "NoAction",
	},
}

type wantParam struct {
	name  string
	width int32
}

var contractActions = map[string][]wantParam{
	"NoAction":                        nil,
	ingress(contract.Drop):            nil,
	ingress(contract.SetClass):        {{contract.ParamClassID, 8}, {contract.ParamDSCP, 6}},
	ingress(contract.TrustDSCP):       {{contract.ParamClassID, 8}},
	ingress(contract.SetDefaultClass): nil,
	ingress(contract.Reserve):         {{contract.ParamClassID, 8}, {contract.ParamDSCP, 6}, {contract.ParamExcessDrop, 1}},
	ingress(contract.RemarkDSCP):      {{contract.ParamDSCP, 6}},
	ingress(contract.SetQueue):        {{contract.ParamQueue, 3}},
	ingress(contract.SetNextHop):      {{contract.ParamPort, 9}, {contract.ParamSMAC, 48}, {contract.ParamDMAC, 48}},
	egress(contract.SetECNThreshold):  {{contract.ParamThreshold, 19}},
}

func TestCommittedP4InfoHonoursContract(t *testing.T) {
	info := loadP4Info(t, committedP4Info)

	actionName := map[uint32]string{}
	for _, a := range info.GetActions() {
		actionName[a.GetPreamble().GetId()] = a.GetPreamble().GetName()
	}
	tables := map[string]*p4configv1.Table{}
	tableName := map[uint32]string{}
	for _, tb := range info.GetTables() {
		tables[tb.GetPreamble().GetName()] = tb
		tableName[tb.GetPreamble().GetId()] = tb.GetPreamble().GetName()
	}

	for _, want := range contractTables {
		t.Run(want.name, func(t *testing.T) {
			tb, ok := tables[want.name]
			if !ok {
				t.Fatalf("table missing from P4Info")
			}
			if tb.GetSize() != want.size {
				t.Errorf("size = %d, want %d", tb.GetSize(), want.size)
			}
			if len(tb.GetMatchFields()) != len(want.fields) {
				t.Errorf("%d match fields, want %d", len(tb.GetMatchFields()), len(want.fields))
			}
			for i, wf := range want.fields {
				if i >= len(tb.GetMatchFields()) {
					break
				}
				f := tb.GetMatchFields()[i]
				if f.GetName() != wf.name || f.GetBitwidth() != wf.width || f.GetMatchType() != wf.match {
					t.Errorf("field %d = %s/%d/%v, want %s/%d/%v", i+1, f.GetName(), f.GetBitwidth(), f.GetMatchType(), wf.name, wf.width, wf.match)
				}
			}
			var got []string
			for _, ref := range tb.GetActionRefs() {
				got = append(got, actionName[ref.GetId()])
				wantScope := p4configv1.ActionRef_TABLE_AND_DEFAULT
				if slices.Contains(want.defaultOnly, actionName[ref.GetId()]) {
					wantScope = p4configv1.ActionRef_DEFAULT_ONLY
				}
				if ref.GetScope() != wantScope {
					t.Errorf("action %s has scope %v, want %v", actionName[ref.GetId()], ref.GetScope(), wantScope)
				}
			}
			if !sameSet(got, want.actions) {
				t.Errorf("actions = %v, want %v", got, want.actions)
			}
			if def := actionName[tb.GetInitialDefaultAction().GetActionId()]; def != want.defaultAction {
				t.Errorf("default action = %q, want %q", def, want.defaultAction)
			}
			if tb.GetConstDefaultActionId() != 0 {
				t.Errorf("default action is const; the contract lets the controller change it")
			}
			if want.selector != (tb.GetImplementationId() != 0) {
				t.Errorf("implementation_id = %d, want selector: %v", tb.GetImplementationId(), want.selector)
			}
		})
	}

	// The tables of the contract package are the P4Info's tables, each
	// found by its short name as the controller resolves it (a unique
	// suffix), and each is described above.
	t.Run("contract.Tables", func(t *testing.T) {
		described := map[string]bool{}
		for _, want := range contractTables {
			described[want.name] = true
		}
		for _, name := range contract.Tables {
			var found []string
			for full := range tables {
				if strings.HasSuffix(full, "."+name) {
					found = append(found, full)
				}
			}
			if len(found) != 1 {
				t.Errorf("contract table %s matches P4Info tables %v, want exactly one", name, found)
				continue
			}
			if !described[found[0]] {
				t.Errorf("contract table %s (%s) has no expectations here", name, found[0])
			}
		}
		if len(tables) != len(contract.Tables) || len(contractTables) != len(contract.Tables) {
			t.Errorf("P4Info has %d tables, %d described here, contract.Tables has %d", len(tables), len(contractTables), len(contract.Tables))
		}
	})

	t.Run("actions", func(t *testing.T) {
		for _, a := range info.GetActions() {
			name := a.GetPreamble().GetName()
			want, ok := contractActions[name]
			if !ok {
				t.Errorf("action %s is not in the contract", name)
				continue
			}
			if len(a.GetParams()) != len(want) {
				t.Errorf("%s: %d params, want %d", name, len(a.GetParams()), len(want))
				continue
			}
			for i, p := range a.GetParams() {
				if p.GetName() != want[i].name || p.GetBitwidth() != want[i].width {
					t.Errorf("%s param %d = %s/%d, want %s/%d", name, i+1, p.GetName(), p.GetBitwidth(), want[i].name, want[i].width)
				}
			}
		}
		if len(info.GetActions()) != len(contractActions) {
			t.Errorf("%d actions, contract has %d", len(info.GetActions()), len(contractActions))
		}
	})

	t.Run(contract.ECMPSelector, func(t *testing.T) {
		if len(info.GetActionProfiles()) != 1 {
			t.Fatalf("%d action profiles, want 1", len(info.GetActionProfiles()))
		}
		ap := info.GetActionProfiles()[0]
		if ap.GetPreamble().GetName() != ingress(contract.ECMPSelector) || !ap.GetWithSelector() ||
			ap.GetSize() != 1024 || ap.GetMaxGroupSize() != 64 {
			t.Errorf("action profile = %s selector=%v size=%d max_group_size=%d, want QosIngress.ecmp_selector true 1024 64",
				ap.GetPreamble().GetName(), ap.GetWithSelector(), ap.GetSize(), ap.GetMaxGroupSize())
		}
		var users []string
		for _, id := range ap.GetTableIds() {
			users = append(users, tableName[id])
		}
		if !sameSet(users, []string{ingress(contract.IPv4LPM), ingress(contract.IPv6LPM)}) {
			t.Errorf("selector tables = %v, want ipv4_lpm and ipv6_lpm", users)
		}
		for _, tb := range info.GetTables() {
			if tb.GetImplementationId() != 0 && tb.GetImplementationId() != ap.GetPreamble().GetId() {
				t.Errorf("%s uses implementation %d, not ecmp_selector", tb.GetPreamble().GetName(), tb.GetImplementationId())
			}
		}
	})

	t.Run("meters and counters", func(t *testing.T) {
		if len(info.GetMeters()) != 1 {
			t.Fatalf("%d meters, want 1", len(info.GetMeters()))
		}
		m := info.GetMeters()[0]
		if m.GetPreamble().GetName() != ingress(contract.ClassMeter) || m.GetSize() != 256 ||
			m.GetSpec().GetUnit() != p4configv1.MeterSpec_BYTES {
			t.Errorf("meter = %s size=%d unit=%v, want QosIngress.class_meter 256 BYTES", m.GetPreamble().GetName(), m.GetSize(), m.GetSpec().GetUnit())
		}
		// RFC 2698 trTCM; an absent type is the proto default TWO_RATE_THREE_COLOR.
		if m.GetSpec().GetType() != p4configv1.MeterSpec_TWO_RATE_THREE_COLOR {
			t.Errorf("meter type = %v, want TWO_RATE_THREE_COLOR", m.GetSpec().GetType())
		}
		want := map[string]int64{egress(contract.ClassCounter): 256, egress(contract.QueueCounter): 4096}
		for _, c := range info.GetCounters() {
			size, ok := want[c.GetPreamble().GetName()]
			if !ok {
				t.Errorf("counter %s not in the contract", c.GetPreamble().GetName())
				continue
			}
			delete(want, c.GetPreamble().GetName())
			if c.GetSize() != size || c.GetSpec().GetUnit() != p4configv1.CounterSpec_BOTH {
				t.Errorf("%s: size=%d unit=%v, want %d BOTH", c.GetPreamble().GetName(), c.GetSize(), c.GetSpec().GetUnit(), size)
			}
		}
		for name := range want {
			t.Errorf("counter %s missing", name)
		}
		if n := len(info.GetDirectCounters()); n != 0 {
			t.Errorf("%d direct counters; the contract has none", n)
		}
		// The one direct meter: reservation's, a trTCM in bytes.
		if len(info.GetDirectMeters()) != 1 {
			t.Fatalf("%d direct meters, want 1 (reservation_meter)", len(info.GetDirectMeters()))
		}
		dm := info.GetDirectMeters()[0]
		if dm.GetPreamble().GetName() != ingress(contract.ReservationMeter) || tableName[dm.GetDirectTableId()] != ingress(contract.Reservation) ||
			dm.GetSpec().GetUnit() != p4configv1.MeterSpec_BYTES || dm.GetSpec().GetType() != p4configv1.MeterSpec_TWO_RATE_THREE_COLOR {
			t.Errorf("direct meter = %s of %s unit=%v type=%v, want QosIngress.reservation_meter of QosIngress.reservation BYTES TWO_RATE_THREE_COLOR",
				dm.GetPreamble().GetName(), tableName[dm.GetDirectTableId()], dm.GetSpec().GetUnit(), dm.GetSpec().GetType())
		}
	})
}

// TestCommittedP4InfoIDs checks that every id carries the P4Runtime prefix
// byte of its entity kind (p4info.proto, P4Ids) and that ids are unique.
func TestCommittedP4InfoIDs(t *testing.T) {
	info := loadP4Info(t, committedP4Info)
	seen := map[uint32]string{}
	check := func(p *p4configv1.Preamble, prefix p4configv1.P4Ids_Prefix) {
		if got := p4configv1.P4Ids_Prefix(p.GetId() >> 24); got != prefix {
			t.Errorf("%s: id %#x has prefix %v, want %v", p.GetName(), p.GetId(), got, prefix)
		}
		if other, dup := seen[p.GetId()]; dup {
			t.Errorf("id %#x used by %s and %s", p.GetId(), other, p.GetName())
		}
		seen[p.GetId()] = p.GetName()
	}
	for _, x := range info.GetTables() {
		check(x.GetPreamble(), p4configv1.P4Ids_TABLE)
	}
	for _, x := range info.GetActions() {
		check(x.GetPreamble(), p4configv1.P4Ids_ACTION)
	}
	for _, x := range info.GetActionProfiles() {
		check(x.GetPreamble(), p4configv1.P4Ids_ACTION_PROFILE)
	}
	for _, x := range info.GetCounters() {
		check(x.GetPreamble(), p4configv1.P4Ids_COUNTER)
	}
	for _, x := range info.GetMeters() {
		check(x.GetPreamble(), p4configv1.P4Ids_METER)
	}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]int{}
	for _, s := range a {
		m[s]++
	}
	for _, s := range b {
		m[s]--
	}
	for _, n := range m {
		if n != 0 {
			return false
		}
	}
	return true
}

// TestCommittedPacketMetadata checks the packet I/O headers of every
// committed P4Info (BMv2, Tofino 1 and 2): packet_in carries the 9-bit
// ingress port, packet_out the 9-bit egress port, each padded to whole
// bytes, as docs/pipeline.md ("CPU port") says.
func TestCommittedPacketMetadata(t *testing.T) {
	for _, path := range []string{committedP4Info, filepath.Join(repoRoot, "p4src", "build", "tofino", "qos.p4info.txtpb"), filepath.Join(repoRoot, "p4src", "build", "tofino2", "qos.p4info.txtpb")} {
		t.Run(filepath.Base(filepath.Dir(path)), func(t *testing.T) {
			info := loadP4Info(t, path)
			want := map[string]string{contract.PacketIn: contract.MetaIngressPort, contract.PacketOut: contract.MetaEgressPort}
			for _, cpm := range info.GetControllerPacketMetadata() {
				name := cpm.GetPreamble().GetName()
				field, ok := want[name]
				if !ok {
					t.Errorf("controller packet metadata %s is not in the contract", name)
					continue
				}
				delete(want, name)
				if p4configv1.P4Ids_Prefix(cpm.GetPreamble().GetId()>>24) != p4configv1.P4Ids_CONTROLLER_HEADER {
					t.Errorf("%s: id %#x lacks the controller header prefix", name, cpm.GetPreamble().GetId())
				}
				var total int32
				found := false
				for _, m := range cpm.GetMetadata() {
					total += m.GetBitwidth()
					if m.GetName() == field {
						found = true
						if m.GetBitwidth() != contract.PortBits {
							t.Errorf("%s.%s is %d bits, want %d", name, field, m.GetBitwidth(), contract.PortBits)
						}
					}
				}
				if !found {
					t.Errorf("%s has no %s metadata", name, field)
				}
				if total%8 != 0 {
					t.Errorf("%s is %d bits, not whole bytes", name, total)
				}
			}
			for name := range want {
				t.Errorf("controller packet metadata %s missing", name)
			}
		})
	}
}
