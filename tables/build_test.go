package tables

import (
	"errors"
	"testing"

	p4configv1 "github.com/p4lang/p4runtime/go/p4/config/v1"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/p4qos/p4qos/compiler/contract"
)

// IDs from testdata/test.p4info.txtpb.
const (
	idACL         = 33554433
	idIPv4LPM     = 33554434
	idIPv6LPM     = 33554435
	idColorAction = 33554436
	idTunnel      = 33554437
	idKeyless     = 33554438
	idConstMap    = 33554439

	idSetClass   = 16777217
	idIngDrop    = 16777218
	idNoAction   = 16777219
	idSetNextHop = 16777220
	idRemarkDSCP = 16777221
	idSetTunnel  = 16777222
	idEgDrop     = 16777223
	idMark       = 16777224

	idECMP         = 285212673
	idClassCounter = 301989889
	idACLCounter   = 318767105
	idColorMeter   = 335544321
	idClassMeter   = 352321537
	idSRMeter      = 352321538
)

func exact(id uint32, v ...byte) *p4v1.FieldMatch {
	return &p4v1.FieldMatch{FieldId: id, FieldMatchType: &p4v1.FieldMatch_Exact_{Exact: &p4v1.FieldMatch_Exact{Value: v}}}
}

func lpm(id uint32, plen int32, v ...byte) *p4v1.FieldMatch {
	return &p4v1.FieldMatch{FieldId: id, FieldMatchType: &p4v1.FieldMatch_Lpm{Lpm: &p4v1.FieldMatch_LPM{Value: v, PrefixLen: plen}}}
}

func ternary(id uint32, v, mask []byte) *p4v1.FieldMatch {
	return &p4v1.FieldMatch{FieldId: id, FieldMatchType: &p4v1.FieldMatch_Ternary_{Ternary: &p4v1.FieldMatch_Ternary{Value: v, Mask: mask}}}
}

func rng(id uint32, lo, hi []byte) *p4v1.FieldMatch {
	return &p4v1.FieldMatch{FieldId: id, FieldMatchType: &p4v1.FieldMatch_Range_{Range: &p4v1.FieldMatch_Range{Low: lo, High: hi}}}
}

func optional(id uint32, v ...byte) *p4v1.FieldMatch {
	return &p4v1.FieldMatch{FieldId: id, FieldMatchType: &p4v1.FieldMatch_Optional_{Optional: &p4v1.FieldMatch_Optional{Value: v}}}
}

func action(id uint32, params ...[]byte) *p4v1.TableAction {
	a := &p4v1.Action{ActionId: id}
	for i, p := range params {
		a.Params = append(a.Params, &p4v1.Action_Param{ParamId: uint32(i + 1), Value: p})
	}
	return &p4v1.TableAction{Type: &p4v1.TableAction_Action{Action: a}}
}

func TestTableEntryBuild(t *testing.T) {
	s := testSchema(t)
	tests := []struct {
		desc    string
		table   string
		matches []Match
		act     EntryAction
		opts    []EntryOption
		want    *p4v1.TableEntry
	}{
		{
			desc:  "acl: every ternary/range/optional kind, matches reordered into P4Info order",
			table: "acl",
			matches: []Match{
				Optional(contract.KeyIPv6Dst, "2001:db8::1"),
				Range(contract.KeyL4DstPort, 5000, 5100), // 5000 = 0x1388, 5100 = 0x13ec
				Ternary(contract.KeyIPv4Src, "10.0.0.0", "255.0.0.0"),
				Ternary(contract.KeyIngressPort, 3, 0x1ff),
			},
			act:  Action(contract.SetClass, Param(contract.ParamClassID, 3), Param(contract.ParamDSCP, 46)),
			opts: []EntryOption{Priority(10)},
			want: &p4v1.TableEntry{
				TableId: idACL,
				Match: []*p4v1.FieldMatch{
					ternary(1, []byte{3}, []byte{0x01, 0xff}),
					ternary(2, []byte{10, 0, 0, 0}, []byte{255, 0, 0, 0}),
					rng(3, []byte{0x13, 0x88}, []byte{0x13, 0xec}),
					optional(4, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1),
				},
				Action:   action(idSetClass, []byte{3}, []byte{46}),
				Priority: 10,
			},
		},
		{
			desc:  "acl: don't-cares are omitted (§9.1.1)",
			table: "Ing.acl",
			matches: []Match{
				Ternary(contract.KeyIngressPort, 0, 0), // mask 0
				Range(contract.KeyL4DstPort, 0, 65535), // the whole 16-bit range
				Optional(contract.KeyIPv6Dst, nil),
				Ternary(contract.KeyIPv4Src, "10.1.0.0", "255.255.0.0"),
			},
			act:  Action("Ing.drop"),
			opts: []EntryOption{Priority(1)},
			want: &p4v1.TableEntry{
				TableId:  idACL,
				Match:    []*p4v1.FieldMatch{ternary(2, []byte{10, 1, 0, 0}, []byte{255, 255, 0, 0})},
				Action:   action(idIngDrop),
				Priority: 1,
			},
		},
		{
			desc:    "ipv4_lpm to a group",
			table:   contract.IPv4LPM,
			matches: []Match{LPM(contract.KeyIPv4Dst, "10.1.0.0/16")},
			act:     Group(7),
			want: &p4v1.TableEntry{
				TableId: idIPv4LPM,
				Match:   []*p4v1.FieldMatch{lpm(1, 16, 10, 1, 0, 0)},
				Action:  &p4v1.TableAction{Type: &p4v1.TableAction_ActionProfileGroupId{ActionProfileGroupId: 7}},
			},
		},
		{
			desc:    "ipv6_lpm to a member, LPMValue form",
			table:   contract.IPv6LPM,
			matches: []Match{LPMValue(contract.KeyIPv6Dst, "2001:db8::", 32)},
			act:     Member(4),
			want: &p4v1.TableEntry{
				TableId: idIPv6LPM,
				Match:   []*p4v1.FieldMatch{lpm(1, 32, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)},
				Action:  &p4v1.TableAction{Type: &p4v1.TableAction_ActionProfileMemberId{ActionProfileMemberId: 4}},
			},
		},
		{
			desc:    "ipv4_lpm /0 is a don't-care: no match at all",
			table:   contract.IPv4LPM,
			matches: []Match{LPM(contract.KeyIPv4Dst, "0.0.0.0/0")},
			act:     Member(1),
			want: &p4v1.TableEntry{
				TableId: idIPv4LPM,
				Action:  &p4v1.TableAction{Type: &p4v1.TableAction_ActionProfileMemberId{ActionProfileMemberId: 1}},
			},
		},
		{
			desc:    "one-shot action set with weights",
			table:   contract.IPv4LPM,
			matches: []Match{LPM(contract.KeyIPv4Dst, "10.0.0.0/8")},
			act: ActionSet(
				WeightedAction{Action: Action(contract.SetNextHop, Param(contract.ParamPort, 1), Param(contract.ParamSMAC, "00:00:00:00:00:01"), Param(contract.ParamDMAC, "00:00:00:00:00:02")), Weight: 3},
				WeightedAction{Action: Action(contract.SetNextHop, Param(contract.ParamPort, 2), Param(contract.ParamSMAC, "00:00:00:00:00:01"), Param(contract.ParamDMAC, "00:00:00:00:00:03")), Weight: 1},
			),
			want: &p4v1.TableEntry{
				TableId: idIPv4LPM,
				Match:   []*p4v1.FieldMatch{lpm(1, 8, 10, 0, 0, 0)},
				Action: &p4v1.TableAction{Type: &p4v1.TableAction_ActionProfileActionSet{ActionProfileActionSet: &p4v1.ActionProfileActionSet{
					ActionProfileActions: []*p4v1.ActionProfileAction{
						{Action: action(idSetNextHop, []byte{1}, []byte{1}, []byte{2}).GetAction(), Weight: 3},
						{Action: action(idSetNextHop, []byte{2}, []byte{1}, []byte{3}).GetAction(), Weight: 1},
					},
				}}},
			},
		},
		{
			desc:    "color_action exact with direct meter config",
			table:   contract.ColorAction,
			matches: []Match{Exact(contract.KeyClassID, 5), Exact(contract.KeyColor, 2)},
			act:     Action(contract.RemarkDSCP, Param(contract.ParamDSCP, 14)),
			opts:    []EntryOption{WithMeterConfig(&MeterConfig{CIR: 1000, CBurst: 100, PIR: 2000, PBurst: 200})},
			want: &p4v1.TableEntry{
				TableId:     idColorAction,
				Match:       []*p4v1.FieldMatch{exact(1, 5), exact(2, 2)},
				Action:      action(idRemarkDSCP, []byte{14}),
				MeterConfig: &p4v1.MeterConfig{Cir: 1000, Cburst: 100, Pir: 2000, Pburst: 200},
			},
		},
		{
			desc:    "tunnel: dotted key by suffix, 128-bit and 9-bit params, metadata, idle timeout",
			table:   "tunnel",
			matches: []Match{Exact("vni", 0x123456)},
			act:     Action("set_tunnel", Param("remote_ip6", "fe80::1"), Param("port", 300)),
			opts:    []EntryOption{Metadata([]byte("cookie")), IdleTimeout(1e9)},
			want: &p4v1.TableEntry{
				TableId: idTunnel,
				Match:   []*p4v1.FieldMatch{exact(1, 0x12, 0x34, 0x56)},
				// 300 = 0x012c
				Action:        action(idSetTunnel, []byte{0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, []byte{0x01, 0x2c}),
				Metadata:      []byte("cookie"),
				IdleTimeoutNs: 1e9,
			},
		},
		{
			desc:  "default entry",
			table: "acl",
			act:   Action("NoAction"),
			opts:  []EntryOption{AsDefault()},
			want:  &p4v1.TableEntry{TableId: idACL, IsDefaultAction: true, Action: action(idNoAction)},
		},
		{
			desc:  "default entry reset (no action)",
			table: contract.ColorAction,
			opts:  []EntryOption{AsDefault()},
			want:  &p4v1.TableEntry{TableId: idColorAction, IsDefaultAction: true},
		},
		{
			desc:    "key only (for DELETE)",
			table:   contract.ColorAction,
			matches: []Match{Exact(contract.KeyClassID, 0), Exact(contract.KeyColor, 0)},
			want:    &p4v1.TableEntry{TableId: idColorAction, Match: []*p4v1.FieldMatch{exact(1, 0), exact(2, 0)}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			got, err := s.TableEntry(tc.table, tc.matches, tc.act, tc.opts...)
			if err != nil {
				t.Fatalf("TableEntry: %v", err)
			}
			if !proto.Equal(got, tc.want) {
				t.Fatalf("got  %v\nwant %v", got, tc.want)
			}
			if err := s.ValidateEntity(EntityOf(got)); err != nil {
				t.Fatalf("built entry does not validate: %v", err)
			}
		})
	}
}

func TestTableEntryBuildErrors(t *testing.T) {
	s := testSchema(t)
	setClass := Action(contract.SetClass, Param(contract.ParamClassID, 3), Param(contract.ParamDSCP, 46))
	tests := []struct {
		desc    string
		table   string
		matches []Match
		act     EntryAction
		opts    []EntryOption
		code    codes.Code
	}{
		{"unknown table", "nope", nil, nil, nil, codes.NotFound},
		{"unknown field", "acl", []Match{Exact("vni", 1)}, setClass, []EntryOption{Priority(1)}, codes.NotFound},
		{"wrong match kind", "acl", []Match{Exact(contract.KeyIPv4Src, 1)}, setClass, []EntryOption{Priority(1)}, codes.InvalidArgument},
		{"field twice", "acl", []Match{Ternary(contract.KeyIPv4Src, 1, 1), Ternary(contract.KeyIPv4Src, 2, 2)}, setClass, []EntryOption{Priority(1)}, codes.InvalidArgument},
		{"9-bit port overflow", "acl", []Match{Ternary(contract.KeyIngressPort, 512, 0x3ff)}, setClass, []EntryOption{Priority(1)}, codes.OutOfRange},
		{"ternary value outside mask", "acl", []Match{Ternary(contract.KeyIPv4Src, "10.1.0.0", "255.0.0.0")}, setClass, []EntryOption{Priority(1)}, codes.InvalidArgument},
		{"ternary mask 0 with value", "acl", []Match{Ternary(contract.KeyIPv4Src, "10.0.0.0", 0)}, setClass, []EntryOption{Priority(1)}, codes.InvalidArgument},
		{"range low > high", "acl", []Match{Range(contract.KeyL4DstPort, 10, 9)}, setClass, []EntryOption{Priority(1)}, codes.InvalidArgument},
		{"lpm host bits", contract.IPv4LPM, []Match{LPM(contract.KeyIPv4Dst, "10.1.2.3/16")}, Member(1), nil, codes.InvalidArgument},
		{"lpm prefix too long", contract.IPv4LPM, []Match{LPM(contract.KeyIPv4Dst, "10.0.0.0/33")}, Member(1), nil, codes.InvalidArgument},
		{"lpm bad syntax", contract.IPv4LPM, []Match{LPM(contract.KeyIPv4Dst, "10.0.0.0")}, Member(1), nil, codes.InvalidArgument},
		{"lpm ipv6 in ipv4 field", contract.IPv4LPM, []Match{LPM(contract.KeyIPv4Dst, "2001:db8::/32")}, Member(1), nil, codes.OutOfRange},
		{"missing priority", "acl", []Match{Ternary(contract.KeyIPv4Src, 1, 1)}, setClass, nil, codes.InvalidArgument},
		{"priority on exact table", contract.ColorAction, []Match{Exact(contract.KeyClassID, 1), Exact(contract.KeyColor, 1)}, Action("Ing.drop"), []EntryOption{Priority(3)}, codes.InvalidArgument},
		{"missing exact field", contract.ColorAction, []Match{Exact(contract.KeyClassID, 1)}, Action("Ing.drop"), nil, codes.InvalidArgument},
		{"action not in table", "acl", []Match{Ternary(contract.KeyIPv4Src, 1, 1)}, Action(contract.RemarkDSCP, Param(contract.ParamDSCP, 1)), []EntryOption{Priority(1)}, codes.InvalidArgument},
		{"ambiguous action", "acl", []Match{Ternary(contract.KeyIPv4Src, 1, 1)}, Action(contract.Drop), []EntryOption{Priority(1)}, codes.InvalidArgument},
		{"unknown action", "acl", []Match{Ternary(contract.KeyIPv4Src, 1, 1)}, Action("fly"), []EntryOption{Priority(1)}, codes.NotFound},
		{"missing param", "acl", []Match{Ternary(contract.KeyIPv4Src, 1, 1)}, Action(contract.SetClass, Param(contract.ParamClassID, 3)), []EntryOption{Priority(1)}, codes.InvalidArgument},
		{"unknown param", "acl", []Match{Ternary(contract.KeyIPv4Src, 1, 1)}, Action(contract.SetClass, Param(contract.ParamClassID, 3), Param(contract.ParamDSCP, 1), Param("ttl", 1)), []EntryOption{Priority(1)}, codes.InvalidArgument},
		{"param twice", "acl", []Match{Ternary(contract.KeyIPv4Src, 1, 1)}, Action(contract.SetClass, Param(contract.ParamClassID, 3), Param(contract.ParamClassID, 3)), []EntryOption{Priority(1)}, codes.InvalidArgument},
		{"6-bit dscp overflow", "acl", []Match{Ternary(contract.KeyIPv4Src, 1, 1)}, Action(contract.SetClass, Param(contract.ParamClassID, 3), Param(contract.ParamDSCP, 64)), []EntryOption{Priority(1)}, codes.OutOfRange},
		{"48-bit MAC param overflow", contract.IPv4LPM, []Match{LPM(contract.KeyIPv4Dst, "10.0.0.0/8")}, ActionSet(WeightedAction{Action: Action(contract.SetNextHop, Param(contract.ParamPort, 1), Param(contract.ParamSMAC, "0x01000000000000"), Param(contract.ParamDMAC, 1)), Weight: 1}), nil, codes.OutOfRange},
		{"direct action on indirect table", contract.IPv4LPM, []Match{LPM(contract.KeyIPv4Dst, "10.0.0.0/8")}, Action("Ing.drop"), nil, codes.InvalidArgument},
		{"member on direct table", contract.ColorAction, []Match{Exact(contract.KeyClassID, 1), Exact(contract.KeyColor, 1)}, Member(1), nil, codes.InvalidArgument},
		{"action set weight 0", contract.IPv4LPM, []Match{LPM(contract.KeyIPv4Dst, "10.0.0.0/8")}, ActionSet(WeightedAction{Action: Action("Ing.drop")}), nil, codes.InvalidArgument},
		{"DEFAULT_ONLY action in an entry", "acl", []Match{Ternary(contract.KeyIPv4Src, 1, 1)}, Action("NoAction"), []EntryOption{Priority(1)}, codes.PermissionDenied},
		{"TABLE_ONLY action as default", "tunnel", nil, Action("set_tunnel", Param("remote_ip6", 1), Param("port", 1)), []EntryOption{AsDefault()}, codes.PermissionDenied},
		{"default with matches", contract.ColorAction, []Match{Exact(contract.KeyClassID, 1), Exact(contract.KeyColor, 1)}, Action("Ing.drop"), []EntryOption{AsDefault()}, codes.InvalidArgument},
		{"meter config on table without direct meter", "acl", []Match{Ternary(contract.KeyIPv4Src, 1, 1)}, setClass, []EntryOption{Priority(1), WithMeterConfig(&MeterConfig{CIR: 1})}, codes.InvalidArgument},
		{"idle timeout unsupported", contract.ColorAction, []Match{Exact(contract.KeyClassID, 1), Exact(contract.KeyColor, 1)}, Action("Ing.drop"), []EntryOption{IdleTimeout(5)}, codes.InvalidArgument},
		{"keyless table entry", "keyless", nil, Action("mark", Param("value", 1)), nil, codes.InvalidArgument},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			got, err := s.TableEntry(tc.table, tc.matches, tc.act, tc.opts...)
			if c := Code(err); c != tc.code {
				t.Fatalf("TableEntry = %v, %v; want code %v", got, err, tc.code)
			}
		})
	}
}

func TestResourceBuilders(t *testing.T) {
	s := testSchema(t)
	cfg := &MeterConfig{CIR: 125000, CBurst: 10000, PIR: 250000, PBurst: 20000}

	me, err := s.MeterEntry(contract.ClassMeter, 3, cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := &p4v1.MeterEntry{MeterId: idClassMeter, Index: &p4v1.Index{Index: 3}, Config: &p4v1.MeterConfig{Cir: 125000, Cburst: 10000, Pir: 250000, Pburst: 20000}}
	if !proto.Equal(me, want) {
		t.Errorf("MeterEntry = %v, want %v", me, want)
	}
	if me, err := s.MeterEntry(contract.ClassMeter, -1, nil); err != nil || me.Index != nil || me.Config != nil {
		t.Errorf("MeterEntry(all cells, reset) = %v, %v", me, err)
	}

	ce, err := s.CounterEntry(contract.ClassCounter, 255)
	if err != nil || !proto.Equal(ce, &p4v1.CounterEntry{CounterId: idClassCounter, Index: &p4v1.Index{Index: 255}}) {
		t.Errorf("CounterEntry = %v, %v", ce, err)
	}
	if ce, err := s.CounterEntry(contract.ClassCounter, -1); err != nil || ce.Index != nil {
		t.Errorf("CounterEntry(wildcard) = %v, %v", ce, err)
	}

	dm, err := s.DirectMeterEntry(contract.ColorAction, []Match{Exact(contract.KeyClassID, 1), Exact(contract.KeyColor, 0)}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	wantDM := &p4v1.DirectMeterEntry{
		TableEntry: &p4v1.TableEntry{TableId: idColorAction, Match: []*p4v1.FieldMatch{exact(1, 1), exact(2, 0)}},
		Config:     cfg.Proto(),
	}
	if !proto.Equal(dm, wantDM) {
		t.Errorf("DirectMeterEntry = %v, want %v", dm, wantDM)
	}
	dc, err := s.DirectCounterEntry("acl", []Match{Ternary(contract.KeyIPv4Src, 1, 1)}, nil, Priority(5))
	if err != nil || dc.TableEntry.Priority != 5 || dc.TableEntry.TableId != idACL {
		t.Errorf("DirectCounterEntry = %v, %v", dc, err)
	}

	m, err := s.ActionProfileMember(contract.ECMPSelector, 1, Action(contract.SetNextHop, Param(contract.ParamPort, 9), Param(contract.ParamSMAC, "02:00:00:00:00:01"), Param(contract.ParamDMAC, "02:00:00:00:00:02")))
	if err != nil {
		t.Fatal(err)
	}
	wantM := &p4v1.ActionProfileMember{ActionProfileId: idECMP, MemberId: 1,
		Action: action(idSetNextHop, []byte{9}, []byte{2, 0, 0, 0, 0, 1}, []byte{2, 0, 0, 0, 0, 2}).GetAction()}
	if !proto.Equal(m, wantM) {
		t.Errorf("ActionProfileMember = %v, want %v", m, wantM)
	}
	g, err := s.ActionProfileGroup(contract.ECMPSelector, 7, []GroupMember{{ID: 1, Weight: 2}, {ID: 2, Weight: 1}}, 64)
	if err != nil {
		t.Fatal(err)
	}
	wantG := &p4v1.ActionProfileGroup{ActionProfileId: idECMP, GroupId: 7, MaxSize: 64,
		Members: []*p4v1.ActionProfileGroup_Member{{MemberId: 1, Weight: 2}, {MemberId: 2, Weight: 1}}}
	if !proto.Equal(g, wantG) {
		t.Errorf("ActionProfileGroup = %v, want %v", g, wantG)
	}

	errs := []struct {
		desc string
		err  error
		code codes.Code
	}{
		{"meter index = size", second(s.MeterEntry(contract.ClassMeter, 256, cfg)), codes.OutOfRange},
		{"unknown meter", second(s.MeterEntry("nope", 0, cfg)), codes.NotFound},
		{"srTCM with pir != cir", second(s.MeterEntry("sr_meter", 0, cfg)), codes.InvalidArgument},
		{"trTCM with eburst", second(s.MeterEntry(contract.ClassMeter, 0, &MeterConfig{CIR: 1, EBurst: 1})), codes.InvalidArgument},
		{"negative rate", second(s.MeterEntry(contract.ClassMeter, 0, &MeterConfig{CIR: -1})), codes.InvalidArgument},
		{"counter index beyond size", second(s.CounterEntry(contract.ClassCounter, 256)), codes.OutOfRange},
		{"direct meter on table without one", second(s.DirectMeterEntry("acl", []Match{Ternary(contract.KeyIPv4Src, 1, 1)}, cfg, Priority(1))), codes.InvalidArgument},
		{"direct counter on table without one", second(s.DirectCounterEntry(contract.ColorAction, []Match{Exact(contract.KeyClassID, 1), Exact(contract.KeyColor, 0)}, nil)), codes.InvalidArgument},
		{"member id 0", second(s.ActionProfileMember(contract.ECMPSelector, 0, Action("Ing.drop"))), codes.InvalidArgument},
		{"member action not in the profile's tables", second(s.ActionProfileMember(contract.ECMPSelector, 1, Action(contract.RemarkDSCP, Param(contract.ParamDSCP, 1)))), codes.InvalidArgument},
		{"group max_size over max_group_size", second(s.ActionProfileGroup(contract.ECMPSelector, 1, nil, 65)), codes.InvalidArgument},
		{"group max_size 0 with max_group_size set", second(s.ActionProfileGroup(contract.ECMPSelector, 1, nil, 0)), codes.InvalidArgument},
		{"group duplicate member", second(s.ActionProfileGroup(contract.ECMPSelector, 1, []GroupMember{{ID: 1, Weight: 1}, {ID: 1, Weight: 1}}, 8)), codes.InvalidArgument},
		{"group weight 0", second(s.ActionProfileGroup(contract.ECMPSelector, 1, []GroupMember{{ID: 1}}, 8)), codes.InvalidArgument},
		// weights 5 + 4 = 9 > max_size 8 (sum-of-weights semantics, the default)
		{"group weights exceed max_size", second(s.ActionProfileGroup(contract.ECMPSelector, 1, []GroupMember{{ID: 1, Weight: 5}, {ID: 2, Weight: 4}}, 8)), codes.ResourceExhausted},
		{"unknown profile", second(s.ActionProfileGroup("nope", 1, nil, 8)), codes.NotFound},
	}
	for _, tc := range errs {
		if c := Code(tc.err); c != tc.code {
			t.Errorf("%s: err %v, want code %v", tc.desc, tc.err, tc.code)
		}
	}
}

func second[T any](_ T, err error) error { return err }

func TestErrorsAreInspectable(t *testing.T) {
	s := testSchema(t)
	_, err := s.TableEntry("nope", nil, nil)
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.Code != codes.NotFound || !errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %#v, want *ValidationError NotFound wrapping ErrNotFound", err)
	}
	if st := ve.GRPCStatus(); st.Code() != codes.NotFound {
		t.Errorf("GRPCStatus code = %v", st.Code())
	}
	if Code(nil) != codes.OK || Code(errors.New("x")) != codes.Unknown {
		t.Error("Code(nil/plain) wrong")
	}
}

func TestEntityOf(t *testing.T) {
	if EntityOf(&p4v1.Update{}) != nil {
		t.Error("EntityOf(Update) should be nil")
	}
	e := EntityOf(&p4v1.CounterEntry{CounterId: 1})
	if EntityOf(e) != e || e.GetCounterEntry().GetCounterId() != 1 {
		t.Error("EntityOf(Entity) should return it unchanged")
	}
	for _, m := range []proto.Message{&p4v1.TableEntry{}, &p4v1.MeterEntry{}, &p4v1.DirectMeterEntry{}, &p4v1.DirectCounterEntry{},
		&p4v1.ActionProfileMember{}, &p4v1.ActionProfileGroup{}} {
		if EntityOf(m).GetEntity() == nil {
			t.Errorf("EntityOf(%T) lost the message", m)
		}
	}
}

// TestSelectorVariants covers profiles the test P4Info does not have:
// weights disallowed (§9.2.2: only weight 0) and sum-of-members size
// semantics (max_size counts members, not weights).
func TestSelectorVariants(t *testing.T) {
	base := testSchema(t).P4Info()
	variant := func(mut func(*p4configv1.ActionProfile)) *Schema {
		info := proto.Clone(base).(*p4configv1.P4Info)
		mut(info.ActionProfiles[0])
		s, err := New(info)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	noWeights := variant(func(p *p4configv1.ActionProfile) { p.WeightsDisallowed = true })
	if _, err := noWeights.ActionProfileGroup(contract.ECMPSelector, 1, []GroupMember{{ID: 1}, {ID: 2}}, 2); err != nil {
		t.Errorf("weights disallowed, weight 0: %v", err)
	}
	if _, err := noWeights.ActionProfileGroup(contract.ECMPSelector, 1, []GroupMember{{ID: 1, Weight: 1}}, 2); Code(err) != codes.InvalidArgument {
		t.Errorf("weights disallowed, weight 1: %v, want InvalidArgument", err)
	}
	// 2 members > max_size 1 even without weights.
	if _, err := noWeights.ActionProfileGroup(contract.ECMPSelector, 1, []GroupMember{{ID: 1}, {ID: 2}}, 1); Code(err) != codes.ResourceExhausted {
		t.Errorf("2 members in max_size 1: %v, want ResourceExhausted", err)
	}
	perMember := variant(func(p *p4configv1.ActionProfile) {
		p.SelectorSizeSemantics = &p4configv1.ActionProfile_SumOfMembers_{SumOfMembers: &p4configv1.ActionProfile_SumOfMembers{}}
	})
	// weights 10 + 10 but only 2 members: fits max_size 2.
	if _, err := perMember.ActionProfileGroup(contract.ECMPSelector, 1, []GroupMember{{ID: 1, Weight: 10}, {ID: 2, Weight: 10}}, 2); err != nil {
		t.Errorf("sum of members: %v", err)
	}
	noMax := variant(func(p *p4configv1.ActionProfile) { p.MaxGroupSize = 0 })
	if _, err := noMax.ActionProfileGroup(contract.ECMPSelector, 1, []GroupMember{{ID: 1, Weight: 100}}, 0); err != nil {
		t.Errorf("max_group_size 0 allows max_size 0: %v", err)
	}
	if _, err := noMax.ActionProfileGroup(contract.ECMPSelector, 1, nil, -1); Code(err) != codes.InvalidArgument {
		t.Errorf("negative max_size: %v, want InvalidArgument", err)
	}
}
