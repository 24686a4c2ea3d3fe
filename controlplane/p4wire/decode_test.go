package p4wire

import (
	"math/rand/v2"
	"testing"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// randBytes is nil, empty or 1–8 random bytes.
func randBytes(r *rand.Rand) []byte {
	switch r.IntN(6) {
	case 0:
		return nil
	case 1:
		return []byte{}
	}
	b := make([]byte, 1+r.IntN(8))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// randInt is 0, a small value, or any 64-bit value (negative ones too).
func randInt(r *rand.Rand) uint64 {
	switch r.IntN(3) {
	case 0:
		return 0
	case 1:
		return uint64(r.IntN(300))
	}
	return r.Uint64()
}

func randAction(r *rand.Rand) *p4v1.Action {
	a := &p4v1.Action{ActionId: uint32(randInt(r))}
	for range r.IntN(4) {
		a.Params = append(a.Params, &p4v1.Action_Param{ParamId: uint32(randInt(r)), Value: randBytes(r)})
	}
	return a
}

func randMeterConfig(r *rand.Rand) *p4v1.MeterConfig {
	if r.IntN(3) == 0 {
		return nil
	}
	return &p4v1.MeterConfig{Cir: int64(randInt(r)), Cburst: int64(randInt(r)), Pir: int64(randInt(r)), Pburst: int64(randInt(r)), Eburst: int64(randInt(r))}
}

func randCounterData(r *rand.Rand) *p4v1.CounterData {
	if r.IntN(3) == 0 {
		return nil
	}
	return &p4v1.CounterData{ByteCount: int64(randInt(r)), PacketCount: int64(randInt(r))}
}

func randMeterCounterData(r *rand.Rand) *p4v1.MeterCounterData {
	if r.IntN(3) == 0 {
		return nil
	}
	return &p4v1.MeterCounterData{Green: randCounterData(r), Yellow: randCounterData(r), Red: randCounterData(r)}
}

func randIndex(r *rand.Rand) *p4v1.Index {
	if r.IntN(4) == 0 {
		return nil
	}
	return &p4v1.Index{Index: int64(randInt(r))}
}

// randTableEntry makes a table entry of the shapes the decoder knows; with
// odd, one of a shape it does not (the decoder must fall back).
func randTableEntry(r *rand.Rand, odd bool) *p4v1.TableEntry {
	te := &p4v1.TableEntry{TableId: uint32(randInt(r)), Priority: int32(randInt(r)), IsDefaultAction: r.IntN(4) == 0,
		IsConst: r.IntN(8) == 0, ControllerMetadata: randInt(r) % 3, IdleTimeoutNs: int64(randInt(r) % 2), Metadata: randBytes(r),
		MeterConfig: randMeterConfig(r), CounterData: randCounterData(r), MeterCounterData: randMeterCounterData(r)}
	for range r.IntN(5) {
		m := &p4v1.FieldMatch{FieldId: uint32(randInt(r))}
		switch r.IntN(6) {
		case 0:
			m.FieldMatchType = &p4v1.FieldMatch_Exact_{Exact: &p4v1.FieldMatch_Exact{Value: randBytes(r)}}
		case 1:
			m.FieldMatchType = &p4v1.FieldMatch_Ternary_{Ternary: &p4v1.FieldMatch_Ternary{Value: randBytes(r), Mask: randBytes(r)}}
		case 2:
			m.FieldMatchType = &p4v1.FieldMatch_Lpm{Lpm: &p4v1.FieldMatch_LPM{Value: randBytes(r), PrefixLen: int32(randInt(r))}}
		case 3:
			m.FieldMatchType = &p4v1.FieldMatch_Range_{Range: &p4v1.FieldMatch_Range{Low: randBytes(r), High: randBytes(r)}}
		case 4:
			m.FieldMatchType = &p4v1.FieldMatch_Optional_{Optional: &p4v1.FieldMatch_Optional{Value: randBytes(r)}}
		}
		te.Match = append(te.Match, m)
	}
	switch r.IntN(4) {
	case 0:
		te.Action = &p4v1.TableAction{Type: &p4v1.TableAction_Action{Action: randAction(r)}}
	case 1:
		te.Action = &p4v1.TableAction{Type: &p4v1.TableAction_ActionProfileMemberId{ActionProfileMemberId: uint32(randInt(r))}}
	case 2:
		te.Action = &p4v1.TableAction{Type: &p4v1.TableAction_ActionProfileGroupId{ActionProfileGroupId: uint32(randInt(r))}}
	}
	if odd {
		switch r.IntN(3) {
		case 0:
			te.TimeSinceLastHit = &p4v1.TableEntry_IdleTimeout{ElapsedNs: 5}
		case 1:
			te.Action = &p4v1.TableAction{Type: &p4v1.TableAction_ActionProfileActionSet{ActionProfileActionSet: &p4v1.ActionProfileActionSet{}}}
		case 2:
			te.Match = append(te.Match, &p4v1.FieldMatch{FieldId: 1, FieldMatchType: &p4v1.FieldMatch_Other{Other: &anypb.Any{TypeUrl: "x"}}})
		}
	}
	return te
}

// randEntity makes an entity of a kind the decoder knows, or (odd) one it
// does not or with a field it does not.
func randEntity(r *rand.Rand, odd bool) *p4v1.Entity {
	if odd {
		switch r.IntN(4) {
		case 0:
			return &p4v1.Entity{Entity: &p4v1.Entity_RegisterEntry{RegisterEntry: &p4v1.RegisterEntry{RegisterId: 3}}}
		case 1:
			return &p4v1.Entity{Entity: &p4v1.Entity_ExternEntry{ExternEntry: &p4v1.ExternEntry{ExternTypeId: 1}}}
		case 2:
			return &p4v1.Entity{Entity: &p4v1.Entity_DigestEntry{DigestEntry: &p4v1.DigestEntry{DigestId: 2}}}
		}
		return &p4v1.Entity{Entity: &p4v1.Entity_TableEntry{TableEntry: randTableEntry(r, true)}}
	}
	switch r.IntN(8) {
	case 6:
		return &p4v1.Entity{} // no entity set: an empty message both ways
	case 0:
		m := &p4v1.ActionProfileMember{ActionProfileId: uint32(randInt(r)), MemberId: uint32(randInt(r))}
		if r.IntN(4) > 0 {
			m.Action = randAction(r)
		}
		return &p4v1.Entity{Entity: &p4v1.Entity_ActionProfileMember{ActionProfileMember: m}}
	case 1:
		g := &p4v1.ActionProfileGroup{ActionProfileId: uint32(randInt(r)), GroupId: uint32(randInt(r)), MaxSize: int32(randInt(r))}
		for range r.IntN(4) {
			m := &p4v1.ActionProfileGroup_Member{MemberId: uint32(randInt(r)), Weight: int32(randInt(r))}
			switch r.IntN(3) {
			case 0:
				m.WatchKind = &p4v1.ActionProfileGroup_Member_Watch{Watch: int32(randInt(r))}
			case 1:
				m.WatchKind = &p4v1.ActionProfileGroup_Member_WatchPort{WatchPort: randBytes(r)}
			}
			g.Members = append(g.Members, m)
		}
		return &p4v1.Entity{Entity: &p4v1.Entity_ActionProfileGroup{ActionProfileGroup: g}}
	case 2:
		return &p4v1.Entity{Entity: &p4v1.Entity_MeterEntry{MeterEntry: &p4v1.MeterEntry{MeterId: uint32(randInt(r)), Index: randIndex(r),
			Config: randMeterConfig(r), CounterData: randMeterCounterData(r)}}}
	case 3:
		return &p4v1.Entity{Entity: &p4v1.Entity_CounterEntry{CounterEntry: &p4v1.CounterEntry{CounterId: uint32(randInt(r)), Index: randIndex(r), Data: randCounterData(r)}}}
	case 4:
		return &p4v1.Entity{Entity: &p4v1.Entity_DirectMeterEntry{DirectMeterEntry: &p4v1.DirectMeterEntry{TableEntry: randTableEntry(r, odd),
			Config: randMeterConfig(r), CounterData: randMeterCounterData(r)}}}
	case 5:
		return &p4v1.Entity{Entity: &p4v1.Entity_DirectCounterEntry{DirectCounterEntry: &p4v1.DirectCounterEntry{TableEntry: randTableEntry(r, odd), Data: randCounterData(r)}}}
	}
	return &p4v1.Entity{Entity: &p4v1.Entity_TableEntry{TableEntry: randTableEntry(r, odd)}}
}

// check decodes b both ways and fails unless both fail or both give equal
// messages; it reports whether the fast path (not the fallback) decoded it.
func check(t *testing.T, b []byte) (fast bool) {
	t.Helper()
	want := &p4v1.ReadResponse{}
	wantErr := proto.Unmarshal(b, want)
	got := &p4v1.ReadResponse{Entities: []*p4v1.Entity{{}}} // replaced, not merged into
	gotErr := UnmarshalReadResponse(b, got)
	if (wantErr == nil) != (gotErr == nil) {
		t.Fatalf("%x: proto.Unmarshal error %v, UnmarshalReadResponse error %v", b, wantErr, gotErr)
	}
	if wantErr == nil && !proto.Equal(want, got) {
		t.Fatalf("%x: differs from proto.Unmarshal:\n got %v\nwant %v", b, got, want)
	}
	_, fast = (&decoder{arena: append([]byte(nil), b...)}).entities()
	return fast
}

// TestUnmarshalMatchesProto: random read responses of every shape the
// decoder knows decode (on the fast path) to what proto.Unmarshal gives;
// ones holding something it does not know decode the same through the
// fallback; and the decoded message keeps nothing of the input buffer.
func TestUnmarshalMatchesProto(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		name     string
		odd      bool
		wantFast bool
	}{
		{"known shapes", false, true},
		{"with an unknown kind or field", true, false},
	} {
		fast := 0
		const n = 2000
		for i := range n {
			resp := &p4v1.ReadResponse{}
			for range r.IntN(6) {
				resp.Entities = append(resp.Entities, randEntity(r, false))
			}
			if tc.odd {
				resp.Entities = append(resp.Entities, randEntity(r, true))
			}
			b, err := proto.Marshal(resp)
			if err != nil {
				t.Fatal(err)
			}
			if check(t, b) {
				fast++
			} else if tc.wantFast {
				t.Fatalf("%s %d: %v took the fallback", tc.name, i, resp)
			}
		}
		if !tc.wantFast && fast > 0 {
			t.Errorf("%s: %d of %d on the fast path, want all through the fallback", tc.name, fast, n)
		}
	}

	// Nothing of the input is kept: overwrite it after decoding.
	resp := &p4v1.ReadResponse{Entities: []*p4v1.Entity{randEntity(rand.New(rand.NewPCG(3, 4)), false)}}
	resp.Entities[0] = &p4v1.Entity{Entity: &p4v1.Entity_TableEntry{TableEntry: &p4v1.TableEntry{TableId: 1,
		Match: []*p4v1.FieldMatch{{FieldId: 1, FieldMatchType: &p4v1.FieldMatch_Exact_{Exact: &p4v1.FieldMatch_Exact{Value: []byte{1, 2, 3}}}}}}}}
	b, _ := proto.Marshal(resp)
	for name, decode := range map[string]func([]byte, *p4v1.ReadResponse) error{
		"UnmarshalReadResponse": UnmarshalReadResponse,
		"Codec": func(b []byte, m *p4v1.ReadResponse) error {
			var r Raw
			if err := Codec().Unmarshal(mem.BufferSlice{mem.SliceBuffer(b)}, &r); err != nil {
				return err
			}
			return r.Decode(m)
		},
	} {
		in := append([]byte(nil), b...)
		got := &p4v1.ReadResponse{}
		if err := decode(in, got); err != nil {
			t.Fatal(err)
		}
		clear(in)
		if !proto.Equal(got, resp) {
			t.Errorf("%s: the decoded message changed with its input buffer: %v", name, got)
		}
	}
}

// FuzzUnmarshalReadResponse: for any bytes, UnmarshalReadResponse fails
// exactly when proto.Unmarshal does and otherwise gives an equal message.
func FuzzUnmarshalReadResponse(f *testing.F) {
	r := rand.New(rand.NewPCG(5, 6))
	for i := range 20 {
		resp := &p4v1.ReadResponse{}
		for range 1 + r.IntN(3) {
			resp.Entities = append(resp.Entities, randEntity(r, i%4 == 0))
		}
		b, _ := proto.Marshal(resp)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) { check(t, b) })
}

// BenchmarkUnmarshalReadResponse: 500 table entries (a read chunk of the
// sim) of the shape the controller reads most (exact and LPM matches, an
// action with two parameters), this decoder against proto.Unmarshal.
func BenchmarkUnmarshalReadResponse(b *testing.B) {
	resp := &p4v1.ReadResponse{}
	for i := range 500 {
		resp.Entities = append(resp.Entities, &p4v1.Entity{Entity: &p4v1.Entity_TableEntry{TableEntry: &p4v1.TableEntry{TableId: 33554433,
			Match: []*p4v1.FieldMatch{
				{FieldId: 1, FieldMatchType: &p4v1.FieldMatch_Exact_{Exact: &p4v1.FieldMatch_Exact{Value: []byte{1}}}},
				{FieldId: 2, FieldMatchType: &p4v1.FieldMatch_Lpm{Lpm: &p4v1.FieldMatch_LPM{Value: []byte{10, byte(i >> 8), byte(i), 0}, PrefixLen: 24}}},
			},
			Action: &p4v1.TableAction{Type: &p4v1.TableAction_Action{Action: &p4v1.Action{ActionId: 16777217, Params: []*p4v1.Action_Param{
				{ParamId: 1, Value: []byte{2, 0, 0, 0, 0, 1}}, {ParamId: 2, Value: []byte{3}}}}}}}}})
	}
	data, err := proto.Marshal(resp)
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name   string
		decode func([]byte, *p4v1.ReadResponse) error
	}{
		{"p4wire", UnmarshalReadResponse},
		{"proto.Unmarshal", func(b []byte, m *p4v1.ReadResponse) error { return proto.Unmarshal(b, m) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				m := &p4v1.ReadResponse{}
				if err := bc.decode(data, m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
