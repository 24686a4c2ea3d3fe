package sim

// Conformance of the sim to the MUST/SHOULD statements of the P4Runtime
// v1.5 specification, sections 5, 8.3, 9, 12, 16 and 17. Every case names
// its section and quotes a few words of the statement it checks; the table
// of docs/sim.md ("Conformance") lists them with their test names.

import (
	"bytes"
	"math/big"
	"regexp"
	"strings"
	"testing"

	p4configv1 "github.com/p4lang/p4runtime/go/p4/config/v1"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/structpb"
)

// IDs the conformance P4Info adds to testdata/generic.p4info.txtpb.
const (
	tConst, tNoWeights = 105, 106
	apNoWeights        = 302
	dgLearn            = 600
)

// conformanceP4Info is the generic P4Info plus what it lacks for the
// conformance statements: a const table (§9.1.4), a selector with
// weights_disallowed and max_group_size 0 (§9.2.2) and a digest (§16.6).
func conformanceP4Info(t testing.TB) *p4configv1.P4Info {
	t.Helper()
	info := proto.Clone(loadP4Info(t, "testdata/generic.p4info.txtpb")).(*p4configv1.P4Info)
	key := []*p4configv1.MatchField{{Id: 1, Name: "k", Bitwidth: 8, Match: &p4configv1.MatchField_MatchType_{MatchType: p4configv1.MatchField_EXACT}}}
	info.Tables = append(info.Tables,
		&p4configv1.Table{Preamble: &p4configv1.Preamble{Id: tConst, Name: "Ing.t_const", Alias: "t_const"},
			MatchFields: key, ActionRefs: []*p4configv1.ActionRef{{Id: aNoAction}, {Id: aSet}}, IsConstTable: true, Size: 4},
		&p4configv1.Table{Preamble: &p4configv1.Preamble{Id: tNoWeights, Name: "Ing.t_nw", Alias: "t_nw"},
			MatchFields: key, ActionRefs: []*p4configv1.ActionRef{{Id: aSet}}, ImplementationId: apNoWeights, Size: 4},
	)
	info.ActionProfiles = append(info.ActionProfiles, &p4configv1.ActionProfile{
		Preamble: &p4configv1.Preamble{Id: apNoWeights, Name: "Ing.sel_nw", Alias: "sel_nw"},
		TableIds: []uint32{tNoWeights}, WithSelector: true, Size: 8, WeightsDisallowed: true,
	})
	info.Digests = append(info.Digests, &p4configv1.Digest{Preamble: &p4configv1.Preamble{Id: dgLearn, Name: "learn", Alias: "learn"}})
	return info
}

// confHarness is a sim with the conformance P4Info, primary election id 1.
func confHarness(t *testing.T) *harness {
	t.Helper()
	h := newHarness(t)
	h.primary(1)
	h.setPipeline(conformanceP4Info(t), 1)
	return h
}

func groupIn(profile, id uint32, maxSize int32, members ...*p4v1.ActionProfileGroup_Member) *p4v1.Entity {
	return &p4v1.Entity{Entity: &p4v1.Entity_ActionProfileGroup{ActionProfileGroup: &p4v1.ActionProfileGroup{
		ActionProfileId: profile, GroupId: id, MaxSize: maxSize, Members: members}}}
}

func gm(id uint32, weight int32) *p4v1.ActionProfileGroup_Member {
	return &p4v1.ActionProfileGroup_Member{MemberId: id, Weight: weight}
}

func tern(id uint32, v, m []byte) *p4v1.FieldMatch {
	return &p4v1.FieldMatch{FieldId: id, FieldMatchType: &p4v1.FieldMatch_Ternary_{Ternary: &p4v1.FieldMatch_Ternary{Value: v, Mask: m}}}
}

func rng(lo, hi []byte) *p4v1.FieldMatch {
	return &p4v1.FieldMatch{FieldId: 2, FieldMatchType: &p4v1.FieldMatch_Range_{Range: &p4v1.FieldMatch_Range{Low: lo, High: hi}}}
}

func opt(v []byte) *p4v1.FieldMatch {
	return &p4v1.FieldMatch{FieldId: 3, FieldMatchType: &p4v1.FieldMatch_Optional_{Optional: &p4v1.FieldMatch_Optional{Value: v}}}
}

// ternTE is a t_tern entry with the given matches.
func ternTE(prio int32, m ...*p4v1.FieldMatch) *p4v1.Entity {
	return tableEntity(&p4v1.TableEntry{TableId: tTern, Priority: prio, Match: m, Action: directAction(aSet, param(1, 9))})
}

// exactTE is a t_exact entry with key k and action ta.
func exactTE(k byte, ta *p4v1.TableAction) *p4v1.Entity {
	return tableEntity(&p4v1.TableEntry{TableId: tExact, Match: []*p4v1.FieldMatch{exact(1, k)}, Action: ta})
}

func defaultTE(table uint32, ta *p4v1.TableAction) *p4v1.Entity {
	return tableEntity(&p4v1.TableEntry{TableId: table, IsDefaultAction: true, Action: ta})
}

func withTE(e *p4v1.Entity, f func(te *p4v1.TableEntry)) *p4v1.Entity {
	e = proto.Clone(e).(*p4v1.Entity)
	f(e.GetTableEntry())
	return e
}

type confCase struct {
	sec   string // section of P4Runtime v1.5
	quote string // a few words of the statement
	setup []*p4v1.Update
	u     *p4v1.Update
	want  codes.Code
	// check, if set, verifies the state after the update.
	check func(t *testing.T, h *harness)
}

func runConfCases(t *testing.T, cases []confCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.sec+" "+tc.quote, func(t *testing.T) {
			h := confHarness(t)
			for _, u := range tc.setup {
				h.mustWrite(1, u)
			}
			err := h.write(1, tc.u)
			if got := writeCode(err); got != tc.want {
				t.Fatalf("got %v, want %v (%v)", got, tc.want, err)
			}
			if tc.check != nil {
				tc.check(t, h)
			}
		})
	}
}

// readOne reads entity q and fails unless exactly one entity comes back.
func readOne(t *testing.T, h *harness, q *p4v1.Entity) *p4v1.Entity {
	t.Helper()
	got := h.mustRead(q)
	if len(got) != 1 {
		t.Fatalf("read %v: %d entities, want 1", q, len(got))
	}
	return got[0]
}

// ---- §8.3 Bytestrings ----

// TestConformanceBytestringTables runs the spec's tables of valid and
// invalid bit<W> encodings through the server's decoder; the value must
// come back in the canonical, shortest form.
func TestConformanceBytestringTables(t *testing.T) {
	for _, tc := range []struct {
		w    int32
		in   string
		want string // canonical form; "" means rejected with OUT_OF_RANGE
	}{
		// "Examples of Valid Bytestring Encoding" (bit<W> rows)
		{8, "\x63", "\x63"}, {16, "\x00\x63", "\x63"}, {16, "\x63", "\x63"},
		{16, "\x30\x64", "\x30\x64"}, {16, "\x00\x30\x64", "\x30\x64"},
		{12, "\x00\x63", "\x63"}, {12, "\x63", "\x63"}, {12, "\x00\x00\x63", "\x63"},
		// "V=0 requires at least A=1 bit": zero is one byte.
		{16, "\x00\x00", "\x00"},
		// "Examples of Invalid Bytestring Encoding" (bit<W> rows)
		{8, "\x01\x63", ""}, {8, "", ""}, {16, "\x01\x00\x63", ""},
		{12, "\x10\x63", ""}, {12, "\x01\x00\x63", ""}, {12, "\x00\x40\x63", ""},
	} {
		got, err := canonical([]byte(tc.in), tc.w, "v")
		if tc.want == "" {
			if status.Code(err) != codes.OutOfRange {
				t.Errorf("§8.3 bit<%d> %q: got %q, %v; want OUT_OF_RANGE (\"it returns an OUT_OF_RANGE error\")", tc.w, tc.in, got, err)
			}
			continue
		}
		if err != nil || string(got) != tc.want {
			t.Errorf("§8.3 bit<%d> %q: got %q, %v; want %q (\"uses the shortest string\")", tc.w, tc.in, got, err, tc.want)
		}
	}
}

func TestConformanceBytestrings(t *testing.T) {
	padded := tableEntity(&p4v1.TableEntry{TableId: tExact, Match: []*p4v1.FieldMatch{exact(1, 0, 0, 7)}, Action: directAction(aSet, param(1, 0, 0, 0x63))})
	runConfCases(t, []confCase{
		{sec: "§8.3", quote: "server must accept a wide assortment of possible binary string encodings",
			u: insert(padded), want: codes.OK, check: func(t *testing.T, h *harness) {
				// Read-write symmetry: the server replies with the shortest strings.
				te := readOne(t, h, exactTE(7, nil)).GetTableEntry()
				if k := te.GetMatch()[0].GetExact().GetValue(); !bytes.Equal(k, []byte{7}) {
					t.Errorf("key read back as %x, want 07", k)
				}
				if v := te.GetAction().GetAction().GetParams()[0].GetValue(); !bytes.Equal(v, []byte{0x63}) {
					t.Errorf("param read back as %x, want 63", v)
				}
			}},
		{sec: "§8.3", quote: "byte length is zero, the server always rejects (param)",
			u: insert(exactTE(1, directAction(aSet, param(1)))), want: codes.OutOfRange},
		// bit<9>: 0x01ff fits, 0x0200 does not.
		{sec: "§8.3", quote: "bit<9> value 0x1ff is in range",
			u: insert(member(apSel, 1, aFwd, param(1, 0x01, 0xff))), want: codes.OK},
		{sec: "§8.3", quote: "bit<9> value 0x200 is OUT_OF_RANGE",
			u: insert(member(apSel, 1, aFwd, param(1, 0x02, 0x00))), want: codes.OutOfRange},
		{sec: "§8.3", quote: "padded ternary mask is accepted",
			u: insert(ternTE(1, tern(1, []byte{0, 0, 10, 0, 0, 0}, []byte{0, 0xff, 0, 0, 0}))), want: codes.OK},
	})
}

// ---- §9.1 TableEntry ----

func TestConformanceTableEntry(t *testing.T) {
	a := directAction(aSet, param(1, 1))
	pA := tern(1, []byte{10, 0, 0, 0}, []byte{0xff, 0, 0, 0})
	pB := tern(1, []byte{11, 0, 0, 0}, []byte{0xff, 0, 0, 0})
	isConst := func(te *p4v1.TableEntry) { te.IsConst = true }
	runConfCases(t, []confCase{
		{sec: "§9.1", quote: "priority must be set to a non-zero value if the match key includes a ternary",
			u: insert(ternTE(0, pA)), want: codes.InvalidArgument},
		{sec: "§9.1", quote: "priority ... or to zero otherwise",
			u: insert(withTE(exactTE(1, a), func(te *p4v1.TableEntry) { te.Priority = 5 })), want: codes.InvalidArgument},
		{sec: "§9.1", quote: "Clients must allow multiple entries to be added with the same priority",
			setup: []*p4v1.Update{insert(ternTE(5, pA))}, u: insert(ternTE(5, pB)), want: codes.OK},
		{sec: "§9.1", quote: "is_const field must be false in any INSERT",
			u: insert(withTE(exactTE(1, a), isConst)), want: codes.InvalidArgument},
		{sec: "§9.1", quote: "is_const field must be false in any MODIFY",
			setup: []*p4v1.Update{insert(exactTE(1, a))}, u: modify(withTE(exactTE(1, a), isConst)), want: codes.InvalidArgument},
		{sec: "§9.1", quote: "is_const field must be false in any DELETE",
			setup: []*p4v1.Update{insert(exactTE(1, a))}, u: del(withTE(exactTE(1, a), isConst)), want: codes.InvalidArgument},
		{sec: "§9.1", quote: "keyless table ... reject all attempts to INSERT a match entry",
			u: insert(tableEntity(&p4v1.TableEntry{TableId: tKeyless, Action: a})), want: codes.InvalidArgument},
		{sec: "§9.1", quote: "must return RESOURCE_EXHAUSTED when a table entry cannot be inserted because of a size limitation",
			setup: []*p4v1.Update{insert(exactTE(1, a)), insert(exactTE(2, a)), insert(exactTE(3, a)), insert(exactTE(4, a))},
			u:     insert(exactTE(5, a)), want: codes.ResourceExhausted},
		{sec: "§9.1", quote: "When deleting an entry ... All other fields must be ignored, even if they have nonsensical values",
			setup: []*p4v1.Update{insert(exactTE(1, a))},
			u: del(withTE(exactTE(1, directAction(999, param(7, 1, 2, 3))), func(te *p4v1.TableEntry) {
				te.Metadata, te.IdleTimeoutNs = []byte("junk"), 5
			})), want: codes.OK,
			check: func(t *testing.T, h *harness) {
				if n := len(h.mustRead(tableEntity(&p4v1.TableEntry{TableId: tExact}))); n != 0 {
					t.Errorf("%d entries left after DELETE, want 0", n)
				}
			}},
		// §9.1.1 Match Format
		{sec: "§9.1.1", quote: "field_id must be a valid id for the table",
			u: insert(tableEntity(&p4v1.TableEntry{TableId: tExact, Match: []*p4v1.FieldMatch{exact(1, 1), exact(9, 1)}, Action: a})), want: codes.InvalidArgument},
		{sec: "§9.1.1", quote: "one of the fields in field_match_type must be set",
			u: insert(tableEntity(&p4v1.TableEntry{TableId: tExact, Match: []*p4v1.FieldMatch{{FieldId: 1}}, Action: a})), want: codes.InvalidArgument},
		{sec: "§9.1.1", quote: "exact match fields can never be omitted",
			u: insert(tableEntity(&p4v1.TableEntry{TableId: tExact, Action: a})), want: codes.InvalidArgument},
		{sec: "§9.1.1", quote: "LPM: Don't care match must be omitted (prefix_len 0)",
			setup: []*p4v1.Update{insert(member(apSel, 1, aFwd, param(1, 1)))},
			u:     insert(lpmEntry([]byte{0}, 0, memberAction(1))), want: codes.InvalidArgument},
		{sec: "§9.1.1", quote: "LPM: Don't care bits must be 0 in value",
			setup: []*p4v1.Update{insert(member(apSel, 1, aFwd, param(1, 1)))},
			u:     insert(lpmEntry([]byte{10, 0, 0, 1}, 8, memberAction(1))), want: codes.InvalidArgument},
		{sec: "§9.1.1", quote: "LPM: a valid prefix is accepted",
			setup: []*p4v1.Update{insert(member(apSel, 1, aFwd, param(1, 1)))},
			u:     insert(lpmEntry([]byte{10, 0, 0, 0}, 8, memberAction(1))), want: codes.OK},
		{sec: "§9.1.1", quote: "TERNARY: assert(mask != 0)",
			u: insert(ternTE(1, tern(1, []byte{0}, []byte{0}))), want: codes.InvalidArgument},
		{sec: "§9.1.1", quote: "TERNARY: Masked bits must be 0 in value",
			u: insert(ternTE(1, tern(1, []byte{10, 0, 0, 1}, []byte{0xff, 0, 0, 0}))), want: codes.InvalidArgument},
		{sec: "§9.1.1", quote: "RANGE: Low bound must be less than or equal to the high bound",
			u: insert(ternTE(1, rng([]byte{5}, []byte{4}))), want: codes.InvalidArgument},
		{sec: "§9.1.1", quote: "RANGE: Don't care match must be omitted (full range)",
			u: insert(ternTE(1, rng([]byte{0}, []byte{0xff, 0xff}))), want: codes.InvalidArgument},
		{sec: "§9.1.1", quote: "RANGE: a proper range is accepted",
			u: insert(ternTE(1, rng([]byte{1}, []byte{0xff, 0xff}))), want: codes.OK},
		{sec: "§9.1.1", quote: "OPTIONAL: value must conform to the Bytestrings requirements",
			u: insert(ternTE(1, opt([]byte{2}))), want: codes.OutOfRange},
		{sec: "§9.1.1", quote: "OPTIONAL: a valid value is accepted",
			u: insert(ternTE(1, opt([]byte{1}))), want: codes.OK},
		// §9.1.2 Action Specification
		{sec: "§9.1.2", quote: "action field must be set for every INSERT update",
			u: insert(exactTE(1, nil)), want: codes.InvalidArgument},
		{sec: "§9.1.2", quote: "may be left unset for MODIFY updates, in which case the action ... will not be modified",
			setup: []*p4v1.Update{insert(exactTE(1, directAction(aSet, param(1, 5))))},
			u:     modify(exactTE(1, nil)), want: codes.OK,
			check: func(t *testing.T, h *harness) {
				te := readOne(t, h, exactTE(1, nil)).GetTableEntry()
				if v := te.GetAction().GetAction().GetParams(); len(v) != 1 || !bytes.Equal(v[0].GetValue(), []byte{5}) {
					t.Errorf("action after MODIFY without action: %v, want a_set(5)", te.GetAction())
				}
			}},
		{sec: "§9.1.2", quote: "oneof does not match the table description (member id, direct table)",
			u: insert(exactTE(1, memberAction(1))), want: codes.InvalidArgument},
		{sec: "§9.1.2", quote: "oneof does not match the table description (action, indirect table)",
			u: insert(tableEntity(&p4v1.TableEntry{TableId: tInd, Match: []*p4v1.FieldMatch{exact(1, 1)}, Action: a})), want: codes.InvalidArgument},
		{sec: "§9.1.2", quote: "oneof does not match the table description (group id, profile without selector)",
			u: insert(tableEntity(&p4v1.TableEntry{TableId: tInd, Match: []*p4v1.FieldMatch{exact(1, 1)}, Action: groupAction(1)})), want: codes.InvalidArgument},
		{sec: "§9.1.2", quote: "action_id ... must match one of the possible action choices for the table",
			u: insert(exactTE(1, directAction(aFwd, param(1, 1)))), want: codes.InvalidArgument},
		{sec: "§9.1.2", quote: "does not respect the action scope (DEFAULT_ONLY in an entry)",
			u: insert(exactTE(1, directAction(aDefaultOnly))), want: codes.PermissionDenied},
		{sec: "§9.1.2", quote: "does not respect the action scope (TABLE_ONLY as the default action)",
			u: modify(defaultTE(tExact, directAction(aTableOnly))), want: codes.PermissionDenied},
		{sec: "§9.1.2", quote: "if a parameter id is missing",
			u: insert(exactTE(1, directAction(aSet))), want: codes.InvalidArgument},
		{sec: "§9.1.2", quote: "if an extra parameter ... was provided",
			u: insert(exactTE(1, directAction(aSet, param(1, 1), param(2, 1)))), want: codes.InvalidArgument},
		{sec: "§9.1.2", quote: "member ... id which has not been inserted ... NOT_FOUND",
			u: insert(lpmEntry([]byte{10, 0, 0, 0}, 8, memberAction(9))), want: codes.NotFound},
		{sec: "§9.1.2", quote: "group id which has not been inserted ... NOT_FOUND",
			u: insert(lpmEntry([]byte{10, 0, 0, 0}, 8, groupAction(9))), want: codes.NotFound},
		// §9.1.3 Default Entry
		{sec: "§9.1.3", quote: "we do not allow INSERT ... on the default entry",
			u: insert(defaultTE(tExact, a)), want: codes.InvalidArgument},
		{sec: "§9.1.3", quote: "we do not allow ... DELETE updates on the default entry",
			u: del(defaultTE(tExact, nil)), want: codes.InvalidArgument},
		{sec: "§9.1.3", quote: "the repeated match field must be empty",
			u: modify(withTE(defaultTE(tExact, a), func(te *p4v1.TableEntry) { te.Match = []*p4v1.FieldMatch{exact(1, 1)} })), want: codes.InvalidArgument},
		{sec: "§9.1.3", quote: "the priority field must be set to zero",
			u: modify(withTE(defaultTE(tExact, a), func(te *p4v1.TableEntry) { te.Priority = 1 })), want: codes.InvalidArgument},
		{sec: "§9.1.3", quote: "MODIFY ... provide a valid action for the table",
			u: modify(defaultTE(tExact, directAction(aDefaultOnly))), want: codes.OK,
			check: func(t *testing.T, h *harness) {
				if id := readOne(t, h, defaultTE(tExact, nil)).GetTableEntry().GetAction().GetAction().GetActionId(); id != aDefaultOnly {
					t.Errorf("default action %d, want %d", id, aDefaultOnly)
				}
			}},
		{sec: "§9.1.3", quote: "leave the action field unset ... reset to its original value; metadata and direct resources reset",
			setup: []*p4v1.Update{modify(withTE(defaultTE(tExact, a), func(te *p4v1.TableEntry) {
				te.ControllerMetadata, te.Metadata = 9, []byte("m")
				te.CounterData = &p4v1.CounterData{ByteCount: 100, PacketCount: 1}
				te.MeterConfig = &p4v1.MeterConfig{Cir: 10, Cburst: 1, Pir: 20, Pburst: 2}
			}))},
			u: modify(defaultTE(tExact, nil)), want: codes.OK,
			check: func(t *testing.T, h *harness) {
				q := withTE(defaultTE(tExact, nil), func(te *p4v1.TableEntry) {
					te.CounterData, te.MeterConfig = &p4v1.CounterData{}, &p4v1.MeterConfig{}
				})
				te := readOne(t, h, q).GetTableEntry()
				if te.GetAction().GetAction().GetActionId() != aNoAction || te.GetControllerMetadata() != 0 || len(te.GetMetadata()) != 0 ||
					te.GetCounterData().GetByteCount() != 0 || te.GetMeterConfig() != nil {
					t.Errorf("default entry after reset: %v, want NoAction with no metadata, zero counter, no meter config", te)
				}
			}},
		{sec: "§9.1.3", quote: "If the default entry is constant ... PERMISSION_DENIED",
			u: modify(defaultTE(tTern, directAction(aSet, param(1, 1)))), want: codes.PermissionDenied},
		{sec: "§9.1.3", quote: "default entry for indirect tables ... a constant NoAction action entry",
			u: modify(defaultTE(tLpm, directAction(aDrop))), want: codes.PermissionDenied},
		// §9.1.4 Constant Tables
		{sec: "§9.1.4", quote: "any other kind of write update on a constant table ... PERMISSION_DENIED (INSERT)",
			u: insert(tableEntity(&p4v1.TableEntry{TableId: tConst, Match: []*p4v1.FieldMatch{exact(1, 1)}, Action: a})), want: codes.PermissionDenied},
		{sec: "§9.1.4", quote: "any other kind of write update on a constant table ... PERMISSION_DENIED (DELETE)",
			u: del(tableEntity(&p4v1.TableEntry{TableId: tConst, Match: []*p4v1.FieldMatch{exact(1, 1)}})), want: codes.PermissionDenied},
		{sec: "§9.1.4", quote: "If an action is specified, the switch will return a PERMISSION_DENIED",
			u: modify(tableEntity(&p4v1.TableEntry{TableId: tConst, Match: []*p4v1.FieldMatch{exact(1, 1)}, Action: a})), want: codes.PermissionDenied},
		{sec: "§9.1.4", quote: "only write updates which are allowed ... MODIFY operations on direct resources (no const entries here: NOT_FOUND)",
			u: modify(tableEntity(&p4v1.TableEntry{TableId: tConst, Match: []*p4v1.FieldMatch{exact(1, 1)}})), want: codes.NotFound},
		{sec: "§9.1.4", quote: "only write updates which are allowed ... and the default action",
			u: modify(defaultTE(tConst, a)), want: codes.OK},
	})
}

// ---- §9.2 ActionProfileMember and ActionProfileGroup ----

func TestConformanceActionProfiles(t *testing.T) {
	m1 := insert(member(apSel, 1, aFwd, param(1, 1)))
	m2 := insert(member(apSel, 2, aFwd, param(1, 2)))
	mDrop := insert(member(apSel, 3, aDrop))
	g1 := insert(group(1, 4, 1))
	noAction := func(e *p4v1.Entity) *p4v1.Entity { e.GetActionProfileMember().Action = nil; return e }
	runConfCases(t, []confCase{
		// §9.2.1 Member Programming
		{sec: "§9.2.1", quote: "member id must be different from ids of already programmed entries ... ALREADY_EXISTS",
			setup: []*p4v1.Update{m1}, u: insert(member(apSel, 1, aFwd, param(1, 7))), want: codes.AlreadyExists},
		{sec: "§9.2.1", quote: "INSERT: The action specification must be provided",
			u: insert(noAction(member(apSel, 1, aFwd))), want: codes.InvalidArgument},
		{sec: "§9.2.1", quote: "total number of members should not exceed the maximum ... RESOURCE_EXHAUSTED",
			setup: []*p4v1.Update{insert(member(apProf, 1, aSet, param(1, 1))), insert(member(apProf, 2, aSet, param(1, 1)))},
			u:     insert(member(apProf, 3, aSet, param(1, 1))), want: codes.ResourceExhausted},
		{sec: "§9.2.1", quote: "MODIFY: An entry with the member id must exist, or ... NOT_FOUND",
			u: modify(member(apSel, 1, aFwd, param(1, 1))), want: codes.NotFound},
		{sec: "§9.2.1", quote: "MODIFY: the action specification must be provided",
			setup: []*p4v1.Update{m1}, u: modify(noAction(member(apSel, 1, aFwd))), want: codes.InvalidArgument},
		{sec: "§9.2.1", quote: "DELETE: If the member id is not valid ... NOT_FOUND",
			u: del(member(apSel, 1, aFwd)), want: codes.NotFound},
		{sec: "§9.2.1", quote: "DELETE: The member must not be part of an action profile group ... FAILED_PRECONDITION",
			setup: []*p4v1.Update{m1, g1}, u: del(member(apSel, 1, aFwd)), want: codes.FailedPrecondition},
		{sec: "§9.2.1", quote: "DELETE: must not be referenced in the table action of any table entry ... FAILED_PRECONDITION",
			setup: []*p4v1.Update{m1, insert(lpmEntry([]byte{10, 0, 0, 0}, 8, memberAction(1)))},
			u:     del(member(apSel, 1, aFwd)), want: codes.FailedPrecondition},
		{sec: "§9.2.1", quote: "DELETE: action_profile_id and member_id are the only fields that are considered",
			setup: []*p4v1.Update{m1}, u: del(member(apSel, 1, 999, param(5, 5))), want: codes.OK},
		{sec: "§9.2.1", quote: "member_id is the non-zero uint32 identifier",
			u: insert(member(apSel, 0, aFwd, param(1, 1))), want: codes.InvalidArgument},
		{sec: "§9.2.1", quote: "may be bound only to the actions that appear in the actions attribute of the table",
			u: insert(member(apSel, 1, aSet, param(1, 1))), want: codes.InvalidArgument},
		// §9.2.2 Group Programming
		{sec: "§9.2.2", quote: "If weights_disallowed is false, then 0 is not a valid weight",
			setup: []*p4v1.Update{m1}, u: insert(groupIn(apSel, 1, 4, gm(1, 0))), want: codes.InvalidArgument},
		{sec: "§9.2.2", quote: "If weights_disallowed is set to true, then 0 (unset) is the only valid weight",
			setup: []*p4v1.Update{insert(member(apNoWeights, 1, aSet, param(1, 1)))},
			u:     insert(groupIn(apNoWeights, 1, 0, gm(1, 1))), want: codes.InvalidArgument},
		{sec: "§9.2.2", quote: "weights_disallowed: weight 0 is accepted",
			setup: []*p4v1.Update{insert(member(apNoWeights, 1, aSet, param(1, 1)))},
			u:     insert(groupIn(apNoWeights, 1, 0, gm(1, 0))), want: codes.OK},
		{sec: "§9.2.2", quote: "max_size ... must not be changed in a MODIFY update, otherwise an INVALID_ARGUMENT",
			setup: []*p4v1.Update{m1, g1}, u: modify(group(1, 3, 1)), want: codes.InvalidArgument},
		{sec: "§9.2.2", quote: "MODIFY with the same max_size replaces the member set",
			setup: []*p4v1.Update{m1, m2, g1}, u: modify(group(1, 4, 2)), want: codes.OK,
			check: func(t *testing.T, h *harness) {
				g := readOne(t, h, group(1, 0)).GetActionProfileGroup()
				if len(g.GetMembers()) != 1 || g.GetMembers()[0].GetMemberId() != 2 {
					t.Errorf("group after MODIFY: %v, want members {2}", g)
				}
			}},
		{sec: "§9.2.2", quote: "INSERT: group_id must be different ... ALREADY_EXISTS",
			setup: []*p4v1.Update{m1, g1}, u: insert(group(1, 4, 1)), want: codes.AlreadyExists},
		{sec: "§9.2.2", quote: "INSERT: All members specified in the group must exist ... NOT_FOUND",
			u: insert(group(1, 4, 7)), want: codes.NotFound},
		{sec: "§9.2.2", quote: "MODIFY: An entry with the group_id must exist ... NOT_FOUND",
			setup: []*p4v1.Update{m1}, u: modify(group(1, 4, 1)), want: codes.NotFound},
		{sec: "§9.2.2", quote: "MODIFY: All members specified in the group entry must exist ... NOT_FOUND",
			setup: []*p4v1.Update{m1, g1}, u: modify(group(1, 4, 7)), want: codes.NotFound},
		{sec: "§9.2.2", quote: "DELETE: must not be referenced in the table action of any table entry ... FAILED_PRECONDITION",
			setup: []*p4v1.Update{m1, g1, insert(lpmEntry([]byte{10, 0, 0, 0}, 8, groupAction(1)))},
			u:     del(group(1, 0)), want: codes.FailedPrecondition},
		{sec: "§9.2.2", quote: "DELETE: If the group_id is invalid ... NOT_FOUND",
			u: del(group(1, 0)), want: codes.NotFound},
		{sec: "§9.2.2", quote: "DELETE: action_profile_id and group_id are the only fields that are considered",
			setup: []*p4v1.Update{m1, g1}, u: del(group(1, 99, 7, 7)), want: codes.OK},
		{sec: "§9.2.2", quote: "members repeated field must not include duplicates",
			setup: []*p4v1.Update{m1}, u: insert(group(1, 4, 1, 1)), want: codes.InvalidArgument},
		{sec: "§9.2.2", quote: "the id 5 can simultaneously be used ... to identify a member 5, and a group 5",
			setup: []*p4v1.Update{insert(member(apSel, 5, aFwd, param(1, 1)))}, u: insert(group(5, 4, 5)), want: codes.OK},
		{sec: "§9.2.2", quote: "It is explicitly allowed for the same member to be present in multiple groups",
			setup: []*p4v1.Update{m1, g1}, u: insert(group(2, 4, 1)), want: codes.OK},
		{sec: "§9.2.2", quote: "group on an action profile without selector (groups belong to an ActionSelector)",
			setup: []*p4v1.Update{insert(member(apProf, 1, aSet, param(1, 1)))}, u: insert(groupIn(apProf, 1, 0, gm(1, 1))), want: codes.InvalidArgument},
		// §9.2.2.1 Rules on Setting max_size
		{sec: "§9.2.2.1", quote: "If max_size is greater than max_group_size, the server must return INVALID_ARGUMENT",
			setup: []*p4v1.Update{m1}, u: insert(group(1, 5, 1)), want: codes.InvalidArgument},
		{sec: "§9.2.2.1", quote: "If max_group_size is greater than 0, then max_size must be greater than 0",
			setup: []*p4v1.Update{m1}, u: insert(group(1, 0, 1)), want: codes.InvalidArgument},
		{sec: "§9.2.2.1", quote: "max_size is the maximum sum of all members or member weights",
			setup: []*p4v1.Update{m1, m2}, u: insert(groupIn(apSel, 1, 4, gm(1, 3), gm(2, 2))), want: codes.ResourceExhausted},
		{sec: "§9.2.2.1", quote: "if max_group_size is 0, the P4Runtime client can set max_size to any value greater than or equal to 0 (0)",
			setup: []*p4v1.Update{insert(member(apNoWeights, 1, aSet, param(1, 1)))}, u: insert(groupIn(apNoWeights, 1, 0, gm(1, 0))), want: codes.OK},
		{sec: "§9.2.2.1", quote: "if max_group_size is 0, the P4Runtime client can set max_size to any value greater than or equal to 0 (1000)",
			setup: []*p4v1.Update{insert(member(apNoWeights, 1, aSet, param(1, 1)))}, u: insert(groupIn(apNoWeights, 1, 1000, gm(1, 0))), want: codes.OK},
		// §9.2.4 Constraints on action selector programming
		{sec: "§9.2.4", quote: "group with members bound to different actions ... UNIMPLEMENTED if not supported",
			setup: []*p4v1.Update{m1, mDrop}, u: insert(group(1, 4, 1, 3)), want: codes.Unimplemented},
		{sec: "§9.2.4", quote: "modifying the action function of a member which is part of one or more groups ... UNIMPLEMENTED",
			setup: []*p4v1.Update{m1, m2, insert(group(1, 4, 1, 2))}, u: modify(member(apSel, 1, aDrop)), want: codes.Unimplemented,
			check: func(t *testing.T, h *harness) {
				m := readOne(t, h, member(apSel, 1, 0)).GetActionProfileMember()
				if m.GetAction().GetActionId() != aFwd {
					t.Errorf("member 1 after the refused MODIFY: %v, want a_fwd kept", m.GetAction())
				}
			}},
		{sec: "§9.2.4", quote: "modifying the action parameter values must be supported",
			setup: []*p4v1.Update{m1, m2, insert(group(1, 4, 1, 2))}, u: modify(member(apSel, 1, aFwd, param(1, 9))), want: codes.OK},
		{sec: "§9.2.4", quote: "a member in no group may change its action",
			setup: []*p4v1.Update{m1}, u: modify(member(apSel, 1, aDrop)), want: codes.OK},
	})
}

// watched returns a member of group 1 of apSel, weight 1, watching port
// with watch_port (or, for a negative port, the deprecated int32 watch).
func watched(member uint32, port int64) *p4v1.ActionProfileGroup_Member {
	m := gm(member, 1)
	if port < 0 {
		m.WatchKind = &p4v1.ActionProfileGroup_Member_Watch{Watch: int32(port)}
		return m
	}
	m.WatchKind = &p4v1.ActionProfileGroup_Member_WatchPort{WatchPort: new(big.Int).SetInt64(port).Bytes()}
	return m
}

// §9.2.2, on each member's watch_port: "The value must be empty or the SDN
// port of an existing port on the device, otherwise the server must return
// INVALID_ARGUMENT. If the target does not support using the SDN port as a
// watch port (e.g. on some targets LAGs cannot be used for this purpose),
// the server must return UNIMPLEMENTED." (P4Runtime v1.5.0, 9.2.2 Action
// Profile Group Programming.) The sim's ports are BMv2 v1model's 0..510
// (511 is the drop port); its CPU port 255 has no link to watch.
func TestConformanceWatchPort(t *testing.T) {
	m1 := insert(member(apSel, 1, aFwd, param(1, 1)))
	m2 := insert(member(apSel, 2, aFwd, param(1, 2)))
	empty := gm(2, 1)
	empty.WatchKind = &p4v1.ActionProfileGroup_Member_WatchPort{WatchPort: []byte{}}
	huge := gm(1, 1)
	huge.WatchKind = &p4v1.ActionProfileGroup_Member_WatchPort{WatchPort: []byte{1, 0, 0, 0, 0, 0, 0, 0, 4}}
	// unchanged checks that a refused MODIFY left group 1 watching port 4.
	unchanged := func(t *testing.T, h *harness) {
		g := readOne(t, h, group(1, 0)).GetActionProfileGroup()
		if len(g.GetMembers()) != 1 || !bytes.Equal(g.GetMembers()[0].GetWatchPort(), []byte{4}) {
			t.Errorf("group 1 after the refused MODIFY: %v, want member 1 watching port 4", g)
		}
	}
	runConfCases(t, []confCase{
		{sec: "§9.2.2", quote: "watch_port must be ... the SDN port of an existing port (port 4 is accepted and read back)",
			setup: []*p4v1.Update{m1}, u: insert(groupIn(apSel, 1, 4, watched(1, 4))), want: codes.OK, check: unchanged},
		{sec: "§9.2.2", quote: "watch_port must be empty ... (empty: always included)",
			setup: []*p4v1.Update{m1, m2}, u: insert(groupIn(apSel, 1, 4, watched(1, 0), empty)), want: codes.OK},
		{sec: "§9.2.2", quote: "watch_port ... otherwise the server must return INVALID_ARGUMENT (port 600, beyond the 9-bit ports)",
			setup: []*p4v1.Update{m1}, u: insert(groupIn(apSel, 1, 4, watched(1, 600))), want: codes.InvalidArgument},
		{sec: "§9.2.2", quote: "watch_port ... otherwise the server must return INVALID_ARGUMENT (511, the drop port)",
			setup: []*p4v1.Update{m1}, u: insert(groupIn(apSel, 1, 4, watched(1, dropPortBMv2))), want: codes.InvalidArgument},
		{sec: "§9.2.2", quote: "watch_port ... otherwise the server must return INVALID_ARGUMENT (a 9-byte port)",
			setup: []*p4v1.Update{m1}, u: insert(groupIn(apSel, 1, 4, huge)), want: codes.InvalidArgument},
		{sec: "§9.2.2", quote: "watch_port ... otherwise the server must return INVALID_ARGUMENT (deprecated watch -1)",
			setup: []*p4v1.Update{m1}, u: insert(groupIn(apSel, 1, 4, watched(1, -1))), want: codes.InvalidArgument},
		{sec: "§9.2.2", quote: "watch_port ... otherwise the server must return INVALID_ARGUMENT (MODIFY; the group is unchanged)",
			setup: []*p4v1.Update{m1, insert(groupIn(apSel, 1, 4, watched(1, 4)))},
			u:     modify(groupIn(apSel, 1, 4, watched(1, 1000))), want: codes.InvalidArgument, check: unchanged},
		{sec: "§9.2.2", quote: "If the target does not support using the SDN port as a watch port ... UNIMPLEMENTED (the CPU port)",
			setup: []*p4v1.Update{m1}, u: insert(groupIn(apSel, 1, 4, watched(1, 255))), want: codes.Unimplemented},
	})
}

// ---- §9.6 PacketReplicationEngineEntry, §9.8 DigestEntry ----

// TestConformanceUnsupportedEntities checks that the entities the sim does
// not implement are refused with UNIMPLEMENTED in writes and reads.
func TestConformanceUnsupportedEntities(t *testing.T) {
	mc := &p4v1.Entity{Entity: &p4v1.Entity_PacketReplicationEngineEntry{PacketReplicationEngineEntry: &p4v1.PacketReplicationEngineEntry{
		Type: &p4v1.PacketReplicationEngineEntry_MulticastGroupEntry{MulticastGroupEntry: &p4v1.MulticastGroupEntry{
			MulticastGroupId: 1, Replicas: []*p4v1.Replica{{PortKind: &p4v1.Replica_Port{Port: []byte{1}}, Instance: 0}}}}}}}
	clone := &p4v1.Entity{Entity: &p4v1.Entity_PacketReplicationEngineEntry{PacketReplicationEngineEntry: &p4v1.PacketReplicationEngineEntry{
		Type: &p4v1.PacketReplicationEngineEntry_CloneSessionEntry{CloneSessionEntry: &p4v1.CloneSessionEntry{
			SessionId: 1, Replicas: []*p4v1.Replica{{PortKind: &p4v1.Replica_Port{Port: []byte{1}}}}}}}}}
	digest := &p4v1.Entity{Entity: &p4v1.Entity_DigestEntry{DigestEntry: &p4v1.DigestEntry{DigestId: dgLearn, Config: &p4v1.DigestEntry_Config{MaxListSize: 1}}}}
	h := confHarness(t)
	for _, tc := range []struct {
		name string
		e    *p4v1.Entity
	}{{"§9.6.1 MulticastGroupEntry", mc}, {"§9.6.2 CloneSessionEntry", clone}, {"§9.8 DigestEntry", digest}} {
		if got := writeCode(h.write(1, insert(tc.e))); got != codes.Unimplemented {
			t.Errorf("%s INSERT: %v, want UNIMPLEMENTED", tc.name, got)
		}
		if _, err := h.read(tc.e); status.Code(err) != codes.Unknown || len(updateCodes(err)) != 1 || updateCodes(err)[0] != codes.Unimplemented {
			t.Errorf("%s read: %v, want UNKNOWN with one UNIMPLEMENTED detail", tc.name, err)
		}
	}
}

// ---- §12 Write RPC ----

func TestConformanceWriteChecks(t *testing.T) {
	t.Run("§12 device_id does not match any of the devices ... NOT_FOUND (checked first)", func(t *testing.T) {
		h := newHarness(t) // no primary, no pipeline: the device check comes first
		_, err := h.c.Write(h.ctx, &p4v1.WriteRequest{DeviceId: 99, ElectionId: eid(1), Updates: []*p4v1.Update{insert(exactEntry(1))}})
		if status.Code(err) != codes.NotFound {
			t.Errorf("got %v, want NOT_FOUND", err)
		}
	})
	t.Run("§12 role does not match any of the roles for the device ... NOT_FOUND", func(t *testing.T) {
		h := newHarness(t)
		h.primary(1)
		_, err := h.c.Write(h.ctx, &p4v1.WriteRequest{DeviceId: 1, Role: "nope", ElectionId: eid(1), Updates: []*p4v1.Update{insert(exactEntry(1))}})
		if status.Code(err) != codes.NotFound {
			t.Errorf("got %v, want NOT_FOUND", err)
		}
	})
	t.Run("§5.1 If using a default role, all RPCs ... must leave the role unset", func(t *testing.T) {
		h := confHarness(t) // primary of the default role
		_, err := h.c.Write(h.ctx, &p4v1.WriteRequest{DeviceId: 1, Role: "x", ElectionId: eid(1), Updates: []*p4v1.Update{insert(exactEntry(1))}})
		if status.Code(err) != codes.NotFound {
			t.Errorf("Write with a role from a default-role primary: %v, want NOT_FOUND", err)
		}
	})
	t.Run("§12 not the primary ... PERMISSION_DENIED (before the pipeline check)", func(t *testing.T) {
		h := newHarness(t)
		h.primary(2)
		if got := status.Code(h.write(1, insert(exactEntry(1)))); got != codes.PermissionDenied {
			t.Errorf("got %v, want PERMISSION_DENIED", got)
		}
		_, err := h.c.Write(h.ctx, &p4v1.WriteRequest{DeviceId: 1, Updates: []*p4v1.Update{insert(exactEntry(1))}})
		if status.Code(err) != codes.PermissionDenied {
			t.Errorf("unset election id: %v, want PERMISSION_DENIED", err)
		}
	})
	t.Run("§12 Write attempted before a ForwardingPipelineConfig ... FAILED_PRECONDITION", func(t *testing.T) {
		h := newHarness(t)
		h.primary(1)
		if got := status.Code(h.write(1, insert(exactEntry(1)))); got != codes.FailedPrecondition {
			t.Errorf("got %v, want FAILED_PRECONDITION", got)
		}
	})
	t.Run("§5 must use all three of these values ... not only the election_id", func(t *testing.T) {
		h := newHarness(t)
		a := h.openStream()
		a.sendArb(1, "a", eid(1))
		if c, _ := a.arbStatus(); c != codes.OK {
			t.Fatalf("role a: %v, want OK", c)
		}
		_, err := h.c.SetForwardingPipelineConfig(h.ctx, &p4v1.SetForwardingPipelineConfigRequest{DeviceId: 1, Role: "a", ElectionId: eid(1),
			Action: p4v1.SetForwardingPipelineConfigRequest_VERIFY_AND_COMMIT, Config: &p4v1.ForwardingPipelineConfig{P4Info: conformanceP4Info(t)}})
		if err != nil {
			t.Fatalf("SetForwardingPipelineConfig as role a: %v", err)
		}
		b := h.openStream() // the default role: election id 1 again, allowed across roles
		b.sendArb(1, "", eid(2))
		if c, _ := b.arbStatus(); c != codes.OK {
			t.Fatalf("default role: %v, want OK", c)
		}
		if got := status.Code(h.write(1, insert(exactEntry(1)))); got != codes.PermissionDenied {
			t.Errorf("default role with role a's election id: %v, want PERMISSION_DENIED", got)
		}
		_, err = h.c.Write(h.ctx, &p4v1.WriteRequest{DeviceId: 1, Role: "a", ElectionId: eid(1), Updates: []*p4v1.Update{insert(exactEntry(1))}})
		if err != nil {
			t.Errorf("role a with its election id: %v, want OK", err)
		}
	})
}

func TestConformanceWriteSemantics(t *testing.T) {
	runConfCases(t, []confCase{
		{sec: "§12", quote: "If the entity already exists, an ALREADY_EXISTS error is returned, and the existing entity remains unchanged",
			setup: []*p4v1.Update{insert(exactEntry(1, 1))}, u: insert(exactEntry(1, 2)), want: codes.AlreadyExists,
			check: func(t *testing.T, h *harness) {
				te := readOne(t, h, exactTE(1, nil)).GetTableEntry()
				if v := te.GetAction().GetAction().GetParams()[0].GetValue(); !bytes.Equal(v, []byte{1}) {
					t.Errorf("entry changed by the refused INSERT: param %x, want 01", v)
				}
			}},
		{sec: "§12", quote: "MODIFY ... uses assign or full-snapshot semantics",
			setup: []*p4v1.Update{insert(withTE(exactEntry(1), func(te *p4v1.TableEntry) { te.ControllerMetadata, te.Metadata = 5, []byte("x") }))},
			u:     modify(exactEntry(1, 3)), want: codes.OK,
			check: func(t *testing.T, h *harness) {
				te := readOne(t, h, exactTE(1, nil)).GetTableEntry()
				if te.GetControllerMetadata() != 0 || len(te.GetMetadata()) != 0 {
					t.Errorf("metadata kept across a MODIFY that left it unset: %v", te)
				}
			}},
		{sec: "§12", quote: "MODIFY: If the entity does not exist, a NOT_FOUND error is returned",
			u: modify(exactEntry(1)), want: codes.NotFound},
		{sec: "§12", quote: "DELETE: If the entity does not exist, a NOT_FOUND error is returned",
			u: del(exactEntry(1)), want: codes.NotFound},
		{sec: "§12", quote: "If the entity is malformed, an INVALID_ARGUMENT error is usually returned (UNSPECIFIED type)",
			u: &p4v1.Update{Entity: exactEntry(1)}, want: codes.InvalidArgument},
	})
}

// TestConformanceBatch covers §12.2 (atomicity modes) and §12.3 (error
// reporting).
func TestConformanceBatch(t *testing.T) {
	t.Run("§12.2 CONTINUE_ON_ERROR: Each operation within the batch must be attempted", func(t *testing.T) {
		h := confHarness(t)
		err := h.write(1, insert(exactEntry(9, 1, 0, 0)), insert(exactEntry(1)), modify(exactEntry(7)), insert(exactEntry(2)))
		if status.Code(err) != codes.Unknown {
			t.Fatalf("got %v, want UNKNOWN", err)
		}
		if n := len(h.mustRead(tableEntity(&p4v1.TableEntry{TableId: tExact}))); n != 2 {
			t.Errorf("%d entries after the batch, want 2 (the good updates after the failed ones)", n)
		}
	})
	t.Run("§12.3 If all batch updates succeeded, set code to OK and do not populate any other field", func(t *testing.T) {
		h := confHarness(t)
		if err := h.write(1, insert(exactEntry(1)), insert(exactEntry(2))); err != nil {
			t.Errorf("got %v, want OK", err)
		}
	})
	t.Run("§12.3 RPC-wide error: Do not set error_details in this case", func(t *testing.T) {
		h := newHarness(t)
		h.primary(1)
		st := status.Convert(h.write(1, insert(exactEntry(1)), insert(exactEntry(2))))
		if st.Code() != codes.FailedPrecondition || len(st.Details()) != 0 {
			t.Errorf("got %v with %d details, want FAILED_PRECONDITION and none", st.Code(), len(st.Details()))
		}
	})
	t.Run("§12.3 one p4.Error per update, in the same order; OK ones omit other fields", func(t *testing.T) {
		h := confHarness(t)
		h.mustWrite(1, insert(exactEntry(1)))
		err := h.write(1,
			insert(exactEntry(1)),          // ALREADY_EXISTS
			insert(exactEntry(2)),          // OK
			insert(exactEntry(3, 1, 0, 0)), // OUT_OF_RANGE
			del(exactEntry(4)),             // NOT_FOUND
			insert(exactEntry(5)),          // OK
		)
		st := status.Convert(err)
		if st.Code() != codes.Unknown {
			t.Fatalf("batch status %v, want UNKNOWN", st.Code())
		}
		if p := st.Proto(); p.GetCode() != int32(codes.Unknown) || p.GetMessage() != st.Message() {
			t.Errorf("§10: google.rpc.Status code/message %d %q must equal the gRPC ones", p.GetCode(), p.GetMessage())
		}
		want := []codes.Code{codes.AlreadyExists, codes.OK, codes.OutOfRange, codes.NotFound, codes.OK}
		details := st.Details()
		if len(details) != len(want) {
			t.Fatalf("%d details, want %d", len(details), len(want))
		}
		for i, d := range details {
			e, ok := d.(*p4v1.Error)
			if !ok {
				t.Fatalf("detail %d is %T, want p4.Error", i, d)
			}
			if codes.Code(e.GetCanonicalCode()) != want[i] {
				t.Errorf("update %d: %v, want %v", i, codes.Code(e.GetCanonicalCode()), want[i])
			}
			if want[i] == codes.OK && (e.GetMessage() != "" || e.GetSpace() != "" || e.GetCode() != 0 || e.GetDetails() != nil) {
				t.Errorf("update %d: OK error %v has other fields set", i, e)
			}
		}
	})
}

// snapshot reads everything a client can read of the conformance pipeline.
func snapshot(t *testing.T, h *harness) []*p4v1.Entity {
	t.Helper()
	return h.mustRead(
		tableEntity(&p4v1.TableEntry{}),
		tableEntity(&p4v1.TableEntry{IsDefaultAction: true, CounterData: &p4v1.CounterData{}, MeterConfig: &p4v1.MeterConfig{}}),
		&p4v1.Entity{Entity: &p4v1.Entity_ActionProfileMember{ActionProfileMember: &p4v1.ActionProfileMember{}}},
		&p4v1.Entity{Entity: &p4v1.Entity_ActionProfileGroup{ActionProfileGroup: &p4v1.ActionProfileGroup{}}},
		counterEntity(0, nil, nil), meterEntity(0, nil, nil),
		&p4v1.Entity{Entity: &p4v1.Entity_DirectCounterEntry{DirectCounterEntry: &p4v1.DirectCounterEntry{}}},
		&p4v1.Entity{Entity: &p4v1.Entity_DirectMeterEntry{DirectMeterEntry: &p4v1.DirectMeterEntry{}}},
	)
}

func sameEntities(a, b []*p4v1.Entity) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !proto.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

// TestConformanceAllOrNone covers the two optional atomicity modes of
// §12.2, which the sim implements (DATAPLANE_ATOMIC by applying the whole
// batch in one hold of the switch lock, which the traffic model also takes).
func TestConformanceAllOrNone(t *testing.T) {
	for _, mode := range []p4v1.WriteRequest_Atomicity{p4v1.WriteRequest_ROLLBACK_ON_ERROR, p4v1.WriteRequest_DATAPLANE_ATOMIC} {
		writeMode := func(h *harness, updates ...*p4v1.Update) error {
			_, err := h.c.Write(h.ctx, &p4v1.WriteRequest{DeviceId: 1, ElectionId: eid(1), Atomicity: mode, Updates: updates})
			return err
		}
		t.Run("§12.2 "+mode.String()+": the target must roll back the operations such that ... state is consistent with the state before the batch", func(t *testing.T) {
			h := confHarness(t)
			h.mustWrite(1,
				insert(exactEntry(1, 1)), insert(exactEntry(3, 3)),
				insert(member(apSel, 1, aFwd, param(1, 1))), insert(member(apSel, 2, aFwd, param(1, 2))),
				modify(counterEntity(cnt, idx(3), &p4v1.CounterData{ByteCount: 300, PacketCount: 3})),
				modify(meterEntity(mtr, idx(4), &p4v1.MeterConfig{Cir: 1000, Cburst: 100, Pir: 2000, Pburst: 200})),
			)
			h.mustWrite(1, insert(group(1, 4, 1)), insert(lpmEntry([]byte{10, 0, 0, 0}, 8, groupAction(1))))
			before := snapshot(t, h)
			batch := []*p4v1.Update{
				insert(exactEntry(2, 2)),
				modify(exactEntry(1, 9)),
				del(exactEntry(3)),
				insert(exactEntry(3, 7)), // deleted and re-inserted in the same batch
				modify(defaultTE(tExact, directAction(aDefaultOnly))),
				modify(&p4v1.Entity{Entity: &p4v1.Entity_DirectCounterEntry{DirectCounterEntry: &p4v1.DirectCounterEntry{
					TableEntry: exactEntry(1).GetTableEntry(), Data: &p4v1.CounterData{ByteCount: 5}}}}),
				insert(member(apSel, 3, aFwd, param(1, 3))),
				modify(member(apSel, 2, aFwd, param(1, 8))),
				modify(group(1, 4, 2, 3)), // member 1 leaves the group, 3 joins
				del(lpmEntry([]byte{10, 0, 0, 0}, 8, nil)),
				del(group(1, 0)),
				del(member(apSel, 1, 0)), // possible now: no group, no entry uses it
				insert(group(2, 4, 2)),
				modify(counterEntity(cnt, idx(3), &p4v1.CounterData{ByteCount: 1})),
				modify(counterEntity(cnt, nil, &p4v1.CounterData{PacketCount: 2})),
				modify(meterEntity(mtr, idx(4), nil)),
				modify(meterEntity(mtr, nil, &p4v1.MeterConfig{Cir: 1, Cburst: 1, Pir: 1, Pburst: 1})),
				insert(exactEntry(2, 5)), // ALREADY_EXISTS: the batch fails here
				insert(exactEntry(4, 4)),
			}
			err := writeMode(h, batch...)
			got := updateCodes(err)
			if status.Code(err) != codes.Unknown || len(got) != len(batch) {
				t.Fatalf("got %v with %d details, want UNKNOWN with %d", err, len(got), len(batch))
			}
			for i, c := range got {
				want := codes.Aborted
				if i == len(batch)-2 {
					want = codes.AlreadyExists
				}
				if c != want {
					t.Errorf("update %d: %v, want %v", i, c, want)
				}
			}
			if after := snapshot(t, h); !sameEntities(before, after) {
				t.Errorf("state after the rolled-back batch differs from before:\nbefore %v\nafter  %v", before, after)
			}
			// Reference counts came back too: member 1 is in group 1 again,
			// group 1 is used by the lpm entry.
			if got := writeCode(h.write(1, del(member(apSel, 1, 0)))); got != codes.FailedPrecondition {
				t.Errorf("delete member 1 after the rollback: %v, want FAILED_PRECONDITION (still in group 1)", got)
			}
			if got := writeCode(h.write(1, del(group(1, 0)))); got != codes.FailedPrecondition {
				t.Errorf("delete group 1 after the rollback: %v, want FAILED_PRECONDITION (still used)", got)
			}
			if got := writeCode(h.write(1, insert(member(apSel, 3, aFwd, param(1, 3))))); got != codes.OK {
				t.Errorf("insert member 3 after the rollback: %v, want OK (its insert was undone)", got)
			}
		})
		t.Run("§12.2 "+mode.String()+": a batch without errors is applied whole", func(t *testing.T) {
			h := confHarness(t)
			if err := writeMode(h, insert(exactEntry(1)), insert(exactEntry(2)), insert(member(apSel, 1, aFwd, param(1, 1)))); err != nil {
				t.Fatalf("got %v, want OK", err)
			}
			if n := len(h.mustRead(tableEntity(&p4v1.TableEntry{TableId: tExact}))); n != 2 {
				t.Errorf("%d entries, want 2", n)
			}
			if err := writeMode(h, insert(group(1, 4, 1))); err != nil {
				t.Errorf("a later batch using the member: %v", err)
			}
		})
	}
}

// ---- §5 Client arbitration, §16.2 Client Arbitration Update ----

func (cl *client) sendArbConfig(device uint64, role string, id *p4v1.Uint128, cfg *anypb.Any) {
	cl.t.Helper()
	upd := &p4v1.MasterArbitrationUpdate{DeviceId: device, ElectionId: id, Role: &p4v1.Role{Name: role, Config: cfg}}
	if err := cl.stream.Send(&p4v1.StreamMessageRequest{Update: &p4v1.StreamMessageRequest_Arbitration{Arbitration: upd}}); err != nil {
		cl.t.Fatalf("send arbitration: %v", err)
	}
}

// arbUpdate waits for the next message and requires an arbitration update.
func (cl *client) arbUpdate() *p4v1.MasterArbitrationUpdate {
	cl.t.Helper()
	m := cl.next()
	if m.GetArbitration() == nil {
		cl.t.Fatalf("expected an arbitration update, got %v", m)
	}
	return m.GetArbitration()
}

func arbCode(a *p4v1.MasterArbitrationUpdate) codes.Code { return codes.Code(a.GetStatus().GetCode()) }

// primaryAndBackup opens a primary with election id 5 and a backup with 3,
// and returns them with the backup's first arbitration update.
func (h *harness) primaryAndBackup() (p, b *client, first *p4v1.MasterArbitrationUpdate) {
	h.t.Helper()
	p = h.primary(5)
	b = h.openStream()
	b.sendArb(1, "", eid(3))
	return p, b, b.arbUpdate()
}

func TestConformanceArbitrationStreamErrors(t *testing.T) {
	badCfg, _ := anypb.New(&p4v1.Uint128{Low: 1})
	for _, tc := range []struct {
		name string
		run  func(h *harness) *client // returns the client whose stream must end
		want codes.Code
	}{
		{"§5.3 1.1 device_id does not match any of the devices ... NOT_FOUND", func(h *harness) *client {
			cl := h.openStream()
			cl.sendArb(2, "", eid(1))
			return cl
		}, codes.NotFound},
		{"§5.1 device_id, which must be non-zero (0 is not this device)", func(h *harness) *client {
			cl := h.openStream()
			cl.sendArb(0, "", eid(1))
			return cl
		}, codes.NotFound},
		{"§5.3 1.2 election_id is set and is already used by another live controller ... INVALID_ARGUMENT", func(h *harness) *client {
			h.primary(3)
			cl := h.openStream()
			cl.sendArb(1, "", eid(3))
			return cl
		}, codes.InvalidArgument},
		{"§5.3 1.3 role.config does not match the out-of-band scheme ... INVALID_ARGUMENT", func(h *harness) *client {
			cl := h.openStream()
			cl.sendArbConfig(1, "r", eid(1), badCfg)
			return cl
		}, codes.InvalidArgument},
		{"§5.3 2.1 device_id does not match the one already assigned to this stream ... FAILED_PRECONDITION", func(h *harness) *client {
			cl := h.primary(1)
			cl.sendArb(2, "", eid(1))
			return cl
		}, codes.FailedPrecondition},
		{"§5.3 2.2 role does not match the current role assigned to this stream ... FAILED_PRECONDITION", func(h *harness) *client {
			cl := h.primary(1)
			cl.sendArb(1, "other", eid(1))
			return cl
		}, codes.FailedPrecondition},
		{"§5.3 2.3 role.config does not match the scheme (live stream) ... INVALID_ARGUMENT", func(h *harness) *client {
			cl := h.openStream()
			cl.sendArb(1, "r", eid(1))
			cl.arbUpdate()
			cl.sendArbConfig(1, "r", eid(1), badCfg)
			return cl
		}, codes.InvalidArgument},
		{"§5.3 2.4 election_id ... already used by another live controller (excluding the controller making the request) ... INVALID_ARGUMENT", func(h *harness) *client {
			h.primary(5)
			cl := h.openStream()
			cl.sendArb(1, "", eid(3))
			cl.arbUpdate()
			cl.sendArb(1, "", eid(5))
			return cl
		}, codes.InvalidArgument},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			cl := tc.run(h)
			// §16.6: "client arbitration errors are never reported using
			// the StreamError message": ended fails on any message first.
			if got := cl.ended(); got != tc.want {
				t.Errorf("stream ended with %v, want %v", got, tc.want)
			}
		})
	}
}

func TestConformanceArbitrationNotifications(t *testing.T) {
	t.Run("§5.3 1.1: no primary before ... advisory notification to all controllers; §5.4 election_id left unset if no primary at all", func(t *testing.T) {
		h := newHarness(t)
		backup := h.openStream()
		backup.sendArb(1, "", nil)
		a := backup.arbUpdate()
		if arbCode(a) != codes.NotFound || a.GetElectionId() != nil {
			t.Fatalf("backup with no primary ever: %v, want NOT_FOUND and no election_id", a)
		}
		p := h.openStream()
		p.sendArb(1, "", eid(4))
		if a := p.arbUpdate(); arbCode(a) != codes.OK || a.GetElectionId().GetLow() != 4 || a.GetDeviceId() != 1 {
			t.Errorf("new primary: %v, want OK, election id 4, device 1", a)
		}
		if a := backup.arbUpdate(); arbCode(a) != codes.AlreadyExists || a.GetElectionId().GetLow() != 4 {
			t.Errorf("backup told of the new primary: %v, want ALREADY_EXISTS with election id 4", a)
		}
	})
	t.Run("§5.3 2: becomes a backup ... advisory message is only sent to the controller that sent it", func(t *testing.T) {
		h := newHarness(t)
		p, _, a := h.primaryAndBackup()
		if arbCode(a) != codes.AlreadyExists || a.GetElectionId().GetLow() != 5 {
			t.Errorf("backup: %v, want ALREADY_EXISTS with the highest election id 5", a)
		}
		// Ordered check instead of a timed one: the primary's next
		// message must be the answer to its own re-arbitration.
		p.sendArb(1, "", eid(5))
		if a := p.arbUpdate(); arbCode(a) != codes.OK {
			t.Errorf("primary's next message: %v, want its own OK (no advisory for a new backup)", a)
		}
	})
	t.Run("§5.3 2: previously a primary (and downgraded itself) ... advisory message is sent to all", func(t *testing.T) {
		h := newHarness(t)
		p, b, _ := h.primaryAndBackup()
		p.sendArb(1, "", eid(2))
		for name, cl := range map[string]*client{"old primary": p, "backup": b} {
			if a := cl.arbUpdate(); arbCode(a) != codes.NotFound || a.GetElectionId().GetLow() != 5 {
				t.Errorf("%s after the primary stepped down: %v, want NOT_FOUND with election id 5", name, a)
			}
		}
	})
	t.Run("§5 When a primary channel gets broken ... advisory to all other controllers ... without a primary", func(t *testing.T) {
		h := newHarness(t)
		p, b, _ := h.primaryAndBackup()
		h.setPipeline(conformanceP4Info(t), 5)
		p.cancel()
		if a := b.arbUpdate(); arbCode(a) != codes.NotFound {
			t.Errorf("backup after the primary left: %v, want NOT_FOUND", a)
		}
		if got := status.Code(h.write(3, insert(exactEntry(1)))); got != codes.PermissionDenied {
			t.Errorf("Write by the backup: %v, want PERMISSION_DENIED (no primary)", got)
		}
		b.sendArb(1, "", eid(3))
		if a := b.arbUpdate(); arbCode(a) != codes.NotFound {
			t.Errorf("backup re-sending 3 < election_id_past 5: %v, want NOT_FOUND", a)
		}
	})
	t.Run("§5.3 The server stops accepting Write requests from the previous primary ... PERMISSION_DENIED", func(t *testing.T) {
		h := newHarness(t)
		h.primary(1)
		h.setPipeline(conformanceP4Info(t), 1)
		h.primary(2)
		if got := status.Code(h.write(1, insert(exactEntry(1)))); got != codes.PermissionDenied {
			t.Errorf("Write by the old primary: %v, want PERMISSION_DENIED", got)
		}
		if err := h.write(2, insert(exactEntry(1))); err != nil {
			t.Errorf("Write by the new primary: %v", err)
		}
	})
	t.Run("§5.4 role.config is updated by the primary, all controllers ... informed; role.config set to the most recent", func(t *testing.T) {
		h := newHarness(t)
		cfgA, err := NewRoleConfig([]string{"t_exact"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		cfgB, _ := NewRoleConfig([]string{"t_tern"}, nil)
		p := h.openStream()
		p.sendArbConfig(1, "r", eid(5), cfgA)
		p.arbUpdate()
		b := h.openStream()
		b.sendArb(1, "r", eid(3))
		if a := b.arbUpdate(); a.GetRole().GetName() != "r" || !proto.Equal(a.GetRole().GetConfig(), cfgA) {
			t.Errorf("backup's first update: role %v, want r with config A", a.GetRole())
		}
		p.sendArbConfig(1, "r", eid(5), cfgB)
		if a := p.arbUpdate(); arbCode(a) != codes.OK {
			t.Errorf("primary: %v, want OK", a)
		}
		a := b.arbUpdate()
		if arbCode(a) != codes.AlreadyExists || !proto.Equal(a.GetRole().GetConfig(), cfgB) {
			t.Errorf("backup after the config change: %v, want ALREADY_EXISTS with config B", a)
		}
		var got structpb.Struct
		if err := a.GetRole().GetConfig().UnmarshalTo(&got); err != nil || got.GetFields()[roleConfigField].GetListValue().GetValues()[0].GetStringValue() != "t_tern" {
			t.Errorf("config in the advisory: %v, %v", &got, err)
		}
	})
	t.Run("§5 election_id can be the same for different roles", func(t *testing.T) {
		h := newHarness(t)
		for _, role := range []string{"a", "b"} {
			cl := h.openStream()
			cl.sendArb(1, role, eid(1))
			if c, _ := cl.arbStatus(); c != codes.OK {
				t.Errorf("role %s with election id 1: %v, want OK", role, c)
			}
		}
	})
	t.Run("§16.2 the highest election_id is remembered; a full restart is the only way to reset it", func(t *testing.T) {
		h := newHarness(t)
		p := h.primary(5)
		p.cancel()
		if got := p.ended(); got != codes.Canceled {
			t.Logf("primary stream ended with %v", got)
		}
		lower := h.openStream()
		lower.sendArb(1, "", eid(3))
		if a := lower.arbUpdate(); arbCode(a) == codes.OK || a.GetElectionId().GetLow() != 5 {
			t.Errorf("election id 3 after 5 left: %v, want a backup told of 5", a)
		}
		lower.cancel()
		h.sw.Restart()
		again := h.openStream()
		again.sendArb(1, "", eid(3))
		if c, _ := again.arbStatus(); c != codes.OK {
			t.Errorf("election id 3 after a full restart: %v, want OK", c)
		}
	})
	t.Run("§16.2.1 unset election_id ... will thus never become primary; {0,0} is different from unset", func(t *testing.T) {
		h := newHarness(t)
		u := h.openStream()
		u.sendArb(1, "", nil)
		if c, _ := u.arbStatus(); c != codes.NotFound {
			t.Errorf("unset election id on a fresh switch: %v, want NOT_FOUND (never primary)", c)
		}
		z := h.openStream()
		z.sendArb(1, "", &p4v1.Uint128{})
		if a := z.arbUpdate(); arbCode(a) != codes.OK || a.GetElectionId() == nil {
			t.Errorf("election id {0,0}: %v, want OK with election_id {0,0} set", a)
		}
	})
}

// ---- §16.6 Stream Error Reporting ----

func TestConformanceStreamErrors(t *testing.T) {
	h := confHarness(t)
	cl := h.openStream()
	cl.sendArb(1, "", eid(2))
	cl.arbUpdate()
	send := func(m *p4v1.StreamMessageRequest) {
		t.Helper()
		if err := cl.stream.Send(m); err != nil {
			t.Fatalf("send: %v", err)
		}
	}
	other, _ := anypb.New(&p4v1.Uint128{Low: 42})
	nextError := func() *p4v1.StreamError {
		t.Helper()
		m := cl.next()
		if m.GetError() == nil {
			t.Fatalf("expected a StreamError, got %v", m)
		}
		return m.GetError()
	}

	// A valid ack (the digest exists) has nothing to report: the next
	// message must be the answer to the `other` sent after it.
	send(&p4v1.StreamMessageRequest{Update: &p4v1.StreamMessageRequest_DigestAck{DigestAck: &p4v1.DigestListAck{DigestId: dgLearn, ListId: 1}}})
	send(&p4v1.StreamMessageRequest{Update: &p4v1.StreamMessageRequest_Other{Other: other}})
	e := nextError()
	t.Run("§16.6 details: set the appropriate field in the oneof ... (other)", func(t *testing.T) {
		if e.GetOther() == nil || !proto.Equal(e.GetOther().GetOther(), other) {
			t.Errorf("StreamError for `other`: %v, want details.other with the message copied (and no error for the valid ack before it)", e)
		}
		if codes.Code(e.GetCanonicalCode()) != codes.Unimplemented {
			t.Errorf("canonical_code %v, want UNIMPLEMENTED", codes.Code(e.GetCanonicalCode()))
		}
	})

	ack := &p4v1.DigestListAck{DigestId: 999, ListId: 7}
	send(&p4v1.StreamMessageRequest{Update: &p4v1.StreamMessageRequest_DigestAck{DigestAck: ack}})
	e = nextError()
	t.Run("§16.6 digest_id ... does not match any Digest entry in P4Info, the code should be set to INVALID_ARGUMENT", func(t *testing.T) {
		if codes.Code(e.GetCanonicalCode()) != codes.InvalidArgument {
			t.Errorf("canonical_code %v, want INVALID_ARGUMENT", codes.Code(e.GetCanonicalCode()))
		}
		if e.GetDigestListAck() == nil || !proto.Equal(e.GetDigestListAck().GetDigestListAck(), ack) {
			t.Errorf("details: %v, want digest_list_ack with the ack copied", e.GetDetails())
		}
	})
}

// ---- §17 Capabilities ----

func TestConformanceCapabilities(t *testing.T) {
	h := newHarness(t)
	semver := regexp.MustCompile(`^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`).MatchString
	for _, tc := range []struct {
		name   string
		device uint64
		want   codes.Code
	}{
		{"§17 If device_id is unset (i.e. 0) ... server-wide", 0, codes.OK},
		{"§17 device_id set to a valid id", 1, codes.OK},
		{"§17 A NOT_FOUND error is returned if the device_id is not recognized", 7, codes.NotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := h.c.Capabilities(h.ctx, &p4v1.CapabilitiesRequest{DeviceId: tc.device})
			if status.Code(err) != tc.want {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if err == nil && (!semver(r.GetP4RuntimeApiVersion()) || !strings.HasPrefix(r.GetP4RuntimeApiVersion(), "1.5.")) {
				t.Errorf("p4runtime_api_version %q: must be the full semantic version string of v1.5", r.GetP4RuntimeApiVersion())
			}
		})
	}
}

// TestConformanceSharedProfileActions: §9.2.1 "If multiple table
// implementations share an extern instance, then the actions attributes of
// the tables must have an identical list of P4 actions": a P4Info breaking
// it is refused when the pipeline is set.
func TestConformanceSharedProfileActions(t *testing.T) {
	for _, tc := range []struct {
		name    string
		actions []uint32
		want    codes.Code
	}{
		{"§9.2.1 tables sharing a profile with identical actions", []uint32{aFwd, aDrop}, codes.OK},
		{"§9.2.1 tables sharing a profile with different actions ... must have an identical list", []uint32{aFwd}, codes.InvalidArgument},
	} {
		t.Run(tc.name, func(t *testing.T) {
			info := conformanceP4Info(t)
			second := &p4configv1.Table{Preamble: &p4configv1.Preamble{Id: 107, Name: "Ing.t_lpm2", Alias: "t_lpm2"},
				MatchFields: info.GetTables()[2].GetMatchFields(), ImplementationId: apSel, Size: 4}
			for _, a := range tc.actions {
				second.ActionRefs = append(second.ActionRefs, &p4configv1.ActionRef{Id: a})
			}
			info.Tables = append(info.Tables, second)
			info.ActionProfiles[0].TableIds = append(info.ActionProfiles[0].TableIds, 107)
			h := newHarness(t)
			h.primary(1)
			_, err := h.c.SetForwardingPipelineConfig(h.ctx, &p4v1.SetForwardingPipelineConfigRequest{DeviceId: 1, ElectionId: eid(1),
				Action: p4v1.SetForwardingPipelineConfigRequest_VERIFY_AND_COMMIT, Config: &p4v1.ForwardingPipelineConfig{P4Info: info}})
			if status.Code(err) != tc.want {
				t.Errorf("got %v, want %v", err, tc.want)
			}
		})
	}
}
