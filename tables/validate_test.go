package tables

import (
	"errors"
	"testing"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// validACL is a correct acl entry written by hand; each case below breaks
// one rule of it.
func validACL() *p4v1.TableEntry {
	return &p4v1.TableEntry{
		TableId: idACL,
		Match: []*p4v1.FieldMatch{
			ternary(1, []byte{0x01, 0x00}, []byte{0x01, 0xff}), // port 256 of bit<9>
			ternary(2, []byte{10, 0, 0, 0}, []byte{255, 0, 0, 0}),
			rng(3, []byte{0x00, 0x50}, []byte{0x00, 0x50}), // port 80, non-canonical but valid
		},
		Action:   action(idSetClass, []byte{3}, []byte{46}),
		Priority: 1,
	}
}

func TestValidateTableEntry(t *testing.T) {
	s := testSchema(t)
	tests := []struct {
		desc   string
		mutate func(te *p4v1.TableEntry)
		code   codes.Code
	}{
		{"valid", func(*p4v1.TableEntry) {}, codes.OK},
		{"non-canonical zero-padded value accepted (§8.3)", func(te *p4v1.TableEntry) {
			te.Match[1] = ternary(2, []byte{0, 0, 10, 0, 0, 0}, []byte{0, 255, 0, 0, 0})
		}, codes.OK},
		{"unknown table id (PI: Invalid P4 id)", func(te *p4v1.TableEntry) { te.TableId = 5 }, codes.InvalidArgument},
		{"unknown field id", func(te *p4v1.TableEntry) { te.Match[0].FieldId = 9 }, codes.InvalidArgument},
		{"duplicate field", func(te *p4v1.TableEntry) { te.Match[1].FieldId = 1 }, codes.InvalidArgument},
		{"match type unset", func(te *p4v1.TableEntry) { te.Match[0].FieldMatchType = nil }, codes.InvalidArgument},
		{"wrong match type", func(te *p4v1.TableEntry) { te.Match[0] = exact(1, 1) }, codes.InvalidArgument},
		// 0x0200 = 512 needs 10 bits; the field has 9.
		{"value wider than bit<9>", func(te *p4v1.TableEntry) { te.Match[0] = ternary(1, []byte{0x02, 0x00}, []byte{0x03, 0xff}) }, codes.OutOfRange},
		{"empty bytestring", func(te *p4v1.TableEntry) { te.Match[1] = ternary(2, []byte{}, []byte{255}) }, codes.OutOfRange},
		{"ternary mask 0 must be omitted", func(te *p4v1.TableEntry) { te.Match[1] = ternary(2, []byte{0}, []byte{0}) }, codes.InvalidArgument},
		// 10.1.0.0 & 255.0.0.0 = 10.0.0.0 != value
		{"ternary value outside mask", func(te *p4v1.TableEntry) {
			te.Match[1] = ternary(2, []byte{10, 1, 0, 0}, []byte{255, 0, 0, 0})
		}, codes.InvalidArgument},
		{"ternary short mask, value bits above it", func(te *p4v1.TableEntry) {
			te.Match[1] = ternary(2, []byte{1, 0}, []byte{0xff})
		}, codes.InvalidArgument},
		{"range low > high", func(te *p4v1.TableEntry) { te.Match[2] = rng(3, []byte{81}, []byte{80}) }, codes.InvalidArgument},
		{"full range must be omitted", func(te *p4v1.TableEntry) { te.Match[2] = rng(3, []byte{0}, []byte{0xff, 0xff}) }, codes.InvalidArgument},
		{"almost full range is fine", func(te *p4v1.TableEntry) { te.Match[2] = rng(3, []byte{1}, []byte{0xff, 0xff}) }, codes.OK},
		{"optional of 17 zero bytes is 0 and fits", func(te *p4v1.TableEntry) { te.Match = append(te.Match, optional(4, make([]byte, 17)...)) }, codes.OK}, // 17 zero bytes = 0: fits
		{"optional 129-bit value", func(te *p4v1.TableEntry) {
			te.Match = append(te.Match, optional(4, append([]byte{1}, make([]byte, 16)...)...))
		}, codes.OutOfRange},
		{"priority 0 on ternary table", func(te *p4v1.TableEntry) { te.Priority = 0 }, codes.InvalidArgument},
		{"negative priority", func(te *p4v1.TableEntry) { te.Priority = -1 }, codes.InvalidArgument},
		{"all don't-care entry is fine", func(te *p4v1.TableEntry) { te.Match = nil }, codes.OK},
		{"action not of table", func(te *p4v1.TableEntry) { te.Action = action(idRemarkDSCP, []byte{1}) }, codes.InvalidArgument},
		{"unknown action id", func(te *p4v1.TableEntry) { te.Action = action(77) }, codes.InvalidArgument},
		{"DEFAULT_ONLY action", func(te *p4v1.TableEntry) { te.Action = action(idNoAction) }, codes.PermissionDenied},
		{"too few params", func(te *p4v1.TableEntry) { te.Action = action(idSetClass, []byte{3}) }, codes.InvalidArgument},
		{"too many params", func(te *p4v1.TableEntry) { te.Action = action(idSetClass, []byte{3}, []byte{1}, []byte{1}) }, codes.InvalidArgument},
		{"param id unknown", func(te *p4v1.TableEntry) { te.Action.GetAction().Params[1].ParamId = 7 }, codes.InvalidArgument},
		{"param id twice", func(te *p4v1.TableEntry) { te.Action.GetAction().Params[1].ParamId = 1 }, codes.InvalidArgument},
		{"param 6-bit overflow", func(te *p4v1.TableEntry) { te.Action = action(idSetClass, []byte{3}, []byte{64}) }, codes.OutOfRange},
		{"param empty", func(te *p4v1.TableEntry) { te.Action = action(idSetClass, []byte{3}, nil) }, codes.OutOfRange},
		{"member on direct table", func(te *p4v1.TableEntry) {
			te.Action = &p4v1.TableAction{Type: &p4v1.TableAction_ActionProfileMemberId{ActionProfileMemberId: 1}}
		}, codes.InvalidArgument},
		{"empty table action", func(te *p4v1.TableEntry) { te.Action = &p4v1.TableAction{} }, codes.InvalidArgument},
		{"counter data is allowed: acl has a direct counter", func(te *p4v1.TableEntry) { te.CounterData = &p4v1.CounterData{} }, codes.OK},
		{"meter config without direct meter", func(te *p4v1.TableEntry) { te.MeterConfig = &p4v1.MeterConfig{} }, codes.InvalidArgument},
		{"default entry with match", func(te *p4v1.TableEntry) { te.IsDefaultAction = true; te.Priority = 0 }, codes.InvalidArgument},
		{"default entry with priority", func(te *p4v1.TableEntry) { te.IsDefaultAction = true; te.Match = nil }, codes.InvalidArgument},
		{"default entry ok", func(te *p4v1.TableEntry) {
			te.IsDefaultAction, te.Match, te.Priority, te.Action = true, nil, 0, action(idNoAction)
		}, codes.OK},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			te := validACL()
			tc.mutate(te)
			err := s.ValidateEntity(EntityOf(te))
			if c := Code(err); c != tc.code {
				t.Fatalf("ValidateEntity = %v, want code %v", err, tc.code)
			}
			if tc.code == codes.InvalidArgument && te.TableId == 5 && !errors.Is(err, ErrNotFound) {
				t.Fatalf("unknown id error %v does not wrap ErrNotFound", err)
			}
			if err != nil && status.Code(err) != tc.code {
				t.Fatalf("status.Code(err) = %v, want %v", status.Code(err), tc.code)
			}
		})
	}
}

func TestValidateOtherTables(t *testing.T) {
	s := testSchema(t)
	grp := &p4v1.TableAction{Type: &p4v1.TableAction_ActionProfileGroupId{ActionProfileGroupId: 1}}
	tests := []struct {
		desc string
		te   *p4v1.TableEntry
		code codes.Code
	}{
		{"lpm ok", &p4v1.TableEntry{TableId: idIPv4LPM, Match: []*p4v1.FieldMatch{lpm(1, 8, 10, 0, 0, 0)}, Action: grp}, codes.OK},
		// 10.128.0.0/9: bit 23 is the 9th bit from the top, inside the prefix
		{"lpm /9 with its last prefix bit set", &p4v1.TableEntry{TableId: idIPv4LPM, Match: []*p4v1.FieldMatch{lpm(1, 9, 10, 128, 0, 0)}, Action: grp}, codes.OK},
		{"lpm /8 with a host bit set", &p4v1.TableEntry{TableId: idIPv4LPM, Match: []*p4v1.FieldMatch{lpm(1, 8, 10, 128, 0, 0)}, Action: grp}, codes.InvalidArgument},
		{"lpm /0 must be omitted", &p4v1.TableEntry{TableId: idIPv4LPM, Match: []*p4v1.FieldMatch{lpm(1, 0, 0)}, Action: grp}, codes.InvalidArgument},
		{"lpm /33", &p4v1.TableEntry{TableId: idIPv4LPM, Match: []*p4v1.FieldMatch{lpm(1, 33, 10, 0, 0, 0)}, Action: grp}, codes.InvalidArgument},
		{"lpm priority must be 0", &p4v1.TableEntry{TableId: idIPv4LPM, Match: []*p4v1.FieldMatch{lpm(1, 8, 10, 0, 0, 0)}, Action: grp, Priority: 1}, codes.InvalidArgument},
		{"lpm direct action on indirect table", &p4v1.TableEntry{TableId: idIPv4LPM, Match: []*p4v1.FieldMatch{lpm(1, 8, 10, 0, 0, 0)}, Action: action(idIngDrop)}, codes.InvalidArgument},
		{"group id 0", &p4v1.TableEntry{TableId: idIPv4LPM, Match: []*p4v1.FieldMatch{lpm(1, 8, 10, 0, 0, 0)},
			Action: &p4v1.TableAction{Type: &p4v1.TableAction_ActionProfileGroupId{}}}, codes.InvalidArgument},
		{"indirect default is constant", &p4v1.TableEntry{TableId: idIPv4LPM, IsDefaultAction: true, Action: grp}, codes.PermissionDenied},
		{"exact missing field", &p4v1.TableEntry{TableId: idColorAction, Match: []*p4v1.FieldMatch{exact(1, 1)}, Action: action(idIngDrop)}, codes.InvalidArgument},
		{"exact 2-bit overflow", &p4v1.TableEntry{TableId: idColorAction, Match: []*p4v1.FieldMatch{exact(1, 1), exact(2, 4)}, Action: action(idIngDrop)}, codes.OutOfRange},
		{"exact ok, non-canonical", &p4v1.TableEntry{TableId: idColorAction, Match: []*p4v1.FieldMatch{exact(1, 0, 0, 1), exact(2, 0, 3)}, Action: action(idIngDrop)}, codes.OK},
		{"trTCM eburst in direct meter config", &p4v1.TableEntry{TableId: idColorAction, Match: []*p4v1.FieldMatch{exact(1, 1), exact(2, 1)}, Action: action(idIngDrop),
			MeterConfig: &p4v1.MeterConfig{Cir: 1, Eburst: 1}}, codes.InvalidArgument},
		{"counter data without direct counter", &p4v1.TableEntry{TableId: idColorAction, Match: []*p4v1.FieldMatch{exact(1, 1), exact(2, 1)}, Action: action(idIngDrop),
			CounterData: &p4v1.CounterData{}}, codes.InvalidArgument},
		{"128-bit param ok", &p4v1.TableEntry{TableId: idTunnel, Match: []*p4v1.FieldMatch{exact(1, 1)},
			Action: action(idSetTunnel, append([]byte{0xff}, make([]byte, 15)...), []byte{1, 0xff})}, codes.OK},
		{"128-bit param overflow", &p4v1.TableEntry{TableId: idTunnel, Match: []*p4v1.FieldMatch{exact(1, 1)},
			Action: action(idSetTunnel, append([]byte{1}, make([]byte, 16)...), []byte{1})}, codes.OutOfRange},
		{"keyless table entry", &p4v1.TableEntry{TableId: idKeyless, Action: action(idMark, []byte{1})}, codes.InvalidArgument},
		{"keyless table default", &p4v1.TableEntry{TableId: idKeyless, IsDefaultAction: true, Action: action(idMark, []byte{7})}, codes.OK},
		// 2^19 = 0x080000 needs 20 bits
		{"19-bit param overflow", &p4v1.TableEntry{TableId: idKeyless, IsDefaultAction: true, Action: action(idMark, []byte{0x08, 0, 0})}, codes.OutOfRange},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			err := s.ValidateEntity(EntityOf(tc.te))
			if c := Code(err); c != tc.code {
				t.Fatalf("ValidateEntity = %v, want code %v", err, tc.code)
			}
		})
	}
}

func TestValidateUpdate(t *testing.T) {
	s := testSchema(t)
	u := func(typ p4v1.Update_Type, e *p4v1.Entity) *p4v1.Update { return &p4v1.Update{Type: typ, Entity: e} }
	acl := EntityOf(validACL())
	keyOnly := validACL()
	keyOnly.Action = nil
	deleteGarbage := validACL()
	deleteGarbage.Action = action(12345) // ignored by DELETE (§9.1)
	def := EntityOf(&p4v1.TableEntry{TableId: idACL, IsDefaultAction: true, Action: action(idNoAction)})
	constDef := EntityOf(&p4v1.TableEntry{TableId: idTunnel, IsDefaultAction: true, Action: action(idEgDrop)})
	constDefReset := EntityOf(&p4v1.TableEntry{TableId: idTunnel, IsDefaultAction: true})
	constEntry := &p4v1.TableEntry{TableId: idConstMap, Match: []*p4v1.FieldMatch{exact(1, 1)}, Action: action(idMark, []byte{1})}
	constKey := &p4v1.TableEntry{TableId: idConstMap, Match: []*p4v1.FieldMatch{exact(1, 1)}}
	isConst := validACL()
	isConst.IsConst = true
	meter := EntityOf(&p4v1.MeterEntry{MeterId: idClassMeter, Index: &p4v1.Index{Index: 1}})
	counter := EntityOf(&p4v1.CounterEntry{CounterId: idClassCounter, Index: &p4v1.Index{Index: 1}, Data: &p4v1.CounterData{}})
	dmeter := EntityOf(&p4v1.DirectMeterEntry{TableEntry: &p4v1.TableEntry{TableId: idColorAction, Match: []*p4v1.FieldMatch{exact(1, 1), exact(2, 1)}}})
	dcounter := EntityOf(&p4v1.DirectCounterEntry{TableEntry: keyOnly})
	member := EntityOf(&p4v1.ActionProfileMember{ActionProfileId: idECMP, MemberId: 1, Action: action(idIngDrop).GetAction()})
	memberKey := EntityOf(&p4v1.ActionProfileMember{ActionProfileId: idECMP, MemberId: 1})
	group := EntityOf(&p4v1.ActionProfileGroup{ActionProfileId: idECMP, GroupId: 1, MaxSize: 4, Members: []*p4v1.ActionProfileGroup_Member{{MemberId: 1, Weight: 1}}})
	groupKey := EntityOf(&p4v1.ActionProfileGroup{ActionProfileId: idECMP, GroupId: 1})

	tests := []struct {
		desc string
		u    *p4v1.Update
		code codes.Code
	}{
		{"insert entry", u(p4v1.Update_INSERT, acl), codes.OK},
		{"insert without action", u(p4v1.Update_INSERT, EntityOf(keyOnly)), codes.InvalidArgument},
		{"modify without action", u(p4v1.Update_MODIFY, EntityOf(keyOnly)), codes.OK},
		{"delete ignores non-key fields", u(p4v1.Update_DELETE, EntityOf(deleteGarbage)), codes.OK},
		{"delete still checks the key", u(p4v1.Update_DELETE, EntityOf(&p4v1.TableEntry{TableId: idACL, Priority: 1, Match: []*p4v1.FieldMatch{exact(1, 1)}})), codes.InvalidArgument},
		{"unspecified type", u(p4v1.Update_UNSPECIFIED, acl), codes.InvalidArgument},
		{"is_const in a write", u(p4v1.Update_INSERT, EntityOf(isConst)), codes.InvalidArgument},
		{"insert default", u(p4v1.Update_INSERT, def), codes.InvalidArgument},
		{"delete default", u(p4v1.Update_DELETE, def), codes.InvalidArgument},
		{"modify default", u(p4v1.Update_MODIFY, def), codes.OK},
		{"modify const default", u(p4v1.Update_MODIFY, constDef), codes.PermissionDenied},
		{"reset const default", u(p4v1.Update_MODIFY, constDefReset), codes.PermissionDenied},
		{"reset default of indirect table (§9.1.3)", u(p4v1.Update_MODIFY, EntityOf(&p4v1.TableEntry{TableId: idIPv4LPM, IsDefaultAction: true})), codes.PermissionDenied},
		{"insert into const table", u(p4v1.Update_INSERT, EntityOf(constEntry)), codes.PermissionDenied},
		{"modify action in const table", u(p4v1.Update_MODIFY, EntityOf(constEntry)), codes.PermissionDenied},
		{"modify const entry without action", u(p4v1.Update_MODIFY, EntityOf(constKey)), codes.OK},
		{"insert meter", u(p4v1.Update_INSERT, meter), codes.InvalidArgument},
		{"modify meter", u(p4v1.Update_MODIFY, meter), codes.OK},
		{"delete counter", u(p4v1.Update_DELETE, counter), codes.InvalidArgument},
		{"modify counter", u(p4v1.Update_MODIFY, counter), codes.OK},
		{"insert direct meter", u(p4v1.Update_INSERT, dmeter), codes.InvalidArgument},
		{"modify direct meter", u(p4v1.Update_MODIFY, dmeter), codes.OK},
		{"delete direct counter", u(p4v1.Update_DELETE, dcounter), codes.InvalidArgument},
		{"modify direct counter", u(p4v1.Update_MODIFY, dcounter), codes.OK},
		{"insert member", u(p4v1.Update_INSERT, member), codes.OK},
		{"insert member without action", u(p4v1.Update_INSERT, memberKey), codes.InvalidArgument},
		{"delete member by key", u(p4v1.Update_DELETE, memberKey), codes.OK},
		{"insert group", u(p4v1.Update_INSERT, group), codes.OK},
		{"delete group by key", u(p4v1.Update_DELETE, groupKey), codes.OK},
		{"insert group without max_size", u(p4v1.Update_INSERT, groupKey), codes.InvalidArgument},
		{"empty entity", u(p4v1.Update_INSERT, &p4v1.Entity{}), codes.InvalidArgument},
		{"unsupported entity", u(p4v1.Update_INSERT, &p4v1.Entity{Entity: &p4v1.Entity_RegisterEntry{RegisterEntry: &p4v1.RegisterEntry{}}}), codes.Unimplemented},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			err := s.ValidateUpdate(tc.u)
			if c := Code(err); c != tc.code {
				t.Fatalf("ValidateUpdate = %v, want code %v", err, tc.code)
			}
		})
	}
}

func TestValidateResources(t *testing.T) {
	s := testSchema(t)
	tests := []struct {
		desc string
		e    *p4v1.Entity
		code codes.Code
	}{
		{"meter unknown", EntityOf(&p4v1.MeterEntry{MeterId: 1}), codes.InvalidArgument},
		{"meter negative index", EntityOf(&p4v1.MeterEntry{MeterId: idClassMeter, Index: &p4v1.Index{Index: -1}}), codes.InvalidArgument},
		{"meter index = size", EntityOf(&p4v1.MeterEntry{MeterId: idClassMeter, Index: &p4v1.Index{Index: 256}}), codes.OutOfRange},
		{"meter last index", EntityOf(&p4v1.MeterEntry{MeterId: idClassMeter, Index: &p4v1.Index{Index: 255}}), codes.OK},
		{"trTCM pir < cir (RFC 2698)", EntityOf(&p4v1.MeterEntry{MeterId: idClassMeter, Config: &p4v1.MeterConfig{Cir: 5, Pir: 2}}), codes.InvalidArgument},
		{"trTCM pir = cir", EntityOf(&p4v1.MeterEntry{MeterId: idClassMeter, Config: &p4v1.MeterConfig{Cir: 5, Pir: 5}}), codes.OK},
		{"srTCM ok", EntityOf(&p4v1.MeterEntry{MeterId: idSRMeter, Index: &p4v1.Index{Index: 0}, Config: &p4v1.MeterConfig{Cir: 10, Cburst: 5, Pir: 10, Pburst: 5, Eburst: 9}}), codes.OK},
		{"meter color counters must be zero", EntityOf(&p4v1.MeterEntry{MeterId: idClassMeter, CounterData: &p4v1.MeterCounterData{Red: &p4v1.CounterData{PacketCount: 1}}}), codes.InvalidArgument},
		{"counter unknown", EntityOf(&p4v1.CounterEntry{CounterId: 1}), codes.InvalidArgument},
		{"counter negative count", EntityOf(&p4v1.CounterEntry{CounterId: idClassCounter, Data: &p4v1.CounterData{ByteCount: -1}}), codes.InvalidArgument},
		{"direct meter bad key", EntityOf(&p4v1.DirectMeterEntry{TableEntry: &p4v1.TableEntry{TableId: idColorAction}}), codes.InvalidArgument},
		{"direct meter no table entry", EntityOf(&p4v1.DirectMeterEntry{}), codes.InvalidArgument},
		{"member unknown profile", EntityOf(&p4v1.ActionProfileMember{ActionProfileId: 1, MemberId: 1}), codes.InvalidArgument},
		{"member bad params", EntityOf(&p4v1.ActionProfileMember{ActionProfileId: idECMP, MemberId: 1, Action: action(idSetNextHop, []byte{1}).GetAction()}), codes.InvalidArgument},
		{"group member id 0", EntityOf(&p4v1.ActionProfileGroup{ActionProfileId: idECMP, GroupId: 1, MaxSize: 4, Members: []*p4v1.ActionProfileGroup_Member{{Weight: 1}}}), codes.InvalidArgument},
		{"group id 0", EntityOf(&p4v1.ActionProfileGroup{ActionProfileId: idECMP, MaxSize: 4}), codes.InvalidArgument},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			if c := Code(s.ValidateEntity(tc.e)); c != tc.code {
				t.Fatalf("ValidateEntity code %v, want %v", c, tc.code)
			}
		})
	}
}
