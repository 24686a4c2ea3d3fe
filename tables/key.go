package tables

import (
	"encoding/binary"
	"slices"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/protobuf/proto"
)

// Key returns the identity of an entity as the switch sees it: two entities
// with the same Key address the same switch object, so writing one after the
// other is a MODIFY. It is
//   - table entry: table id + priority + the match fields sorted by id with
//     canonical bytestrings (§9.1: match and priority identify an entry), or
//     table id + "default" for the default entry;
//   - action profile member/group: profile id + member/group id (members and
//     groups are separate id scopes, §9.2.2);
//   - meter/counter entry: id + index (or "all cells" when index is unset);
//   - direct meter/counter entry: its kind + the key of its table entry.
//
// The key is an opaque binary string, stable across processes and versions
// of this package's callers; use Describe to show an entity to a human.
// Non-canonical bytestrings (extra leading zeros) give the same key as
// canonical ones. Unknown table, profile, meter or counter IDs are an
// error (InvalidArgument, wrapping ErrNotFound).
func (s *Schema) Key(e *p4v1.Entity) (string, error) {
	b, err := s.appendKey(make([]byte, 0, 64), e)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// Key kinds; one byte each, first in the key.
const (
	keyTable         = 'T'
	keyMember        = 'M'
	keyGroup         = 'G'
	keyMeter         = 'm'
	keyDirectMeter   = 'd'
	keyCounter       = 'c'
	keyDirectCounter = 'e'
)

func (s *Schema) appendKey(b []byte, e *p4v1.Entity) ([]byte, error) {
	switch x := e.GetEntity().(type) {
	case *p4v1.Entity_TableEntry:
		return s.appendTableKey(append(b, keyTable), x.TableEntry)
	case *p4v1.Entity_ActionProfileMember:
		m := x.ActionProfileMember
		if s.profiles.byID[m.ActionProfileId] == nil {
			return nil, unknownID("unknown action profile id %d", m.ActionProfileId)
		}
		b = binary.BigEndian.AppendUint32(append(b, keyMember), m.ActionProfileId)
		return binary.BigEndian.AppendUint32(b, m.MemberId), nil
	case *p4v1.Entity_ActionProfileGroup:
		g := x.ActionProfileGroup
		if s.profiles.byID[g.ActionProfileId] == nil {
			return nil, unknownID("unknown action profile id %d", g.ActionProfileId)
		}
		b = binary.BigEndian.AppendUint32(append(b, keyGroup), g.ActionProfileId)
		return binary.BigEndian.AppendUint32(b, g.GroupId), nil
	case *p4v1.Entity_MeterEntry:
		m := x.MeterEntry
		if s.meters.byID[m.MeterId] == nil {
			return nil, unknownID("unknown meter id %d", m.MeterId)
		}
		return appendIndex(binary.BigEndian.AppendUint32(append(b, keyMeter), m.MeterId), m.Index), nil
	case *p4v1.Entity_CounterEntry:
		c := x.CounterEntry
		if s.counters.byID[c.CounterId] == nil {
			return nil, unknownID("unknown counter id %d", c.CounterId)
		}
		return appendIndex(binary.BigEndian.AppendUint32(append(b, keyCounter), c.CounterId), c.Index), nil
	case *p4v1.Entity_DirectMeterEntry:
		return s.appendTableKey(append(b, keyDirectMeter), x.DirectMeterEntry.GetTableEntry())
	case *p4v1.Entity_DirectCounterEntry:
		return s.appendTableKey(append(b, keyDirectCounter), x.DirectCounterEntry.GetTableEntry())
	case nil:
		return nil, invalidArg("entity not set")
	default:
		// Other entities are not diffed by this package; the full message
		// is its own identity so that they at least compare exactly.
		raw, err := proto.MarshalOptions{Deterministic: true}.Marshal(e)
		if err != nil {
			return nil, err
		}
		return append(append(b, '?'), raw...), nil
	}
}

func appendIndex(b []byte, idx *p4v1.Index) []byte {
	if idx == nil {
		return append(b, '*')
	}
	return binary.BigEndian.AppendUint64(append(b, '#'), uint64(idx.Index))
}

func (s *Schema) appendTableKey(b []byte, te *p4v1.TableEntry) ([]byte, error) {
	if te == nil {
		return nil, invalidArg("table entry not set")
	}
	if s.tableInfo[te.TableId] == nil {
		return nil, unknownID("unknown table id %d", te.TableId)
	}
	b = binary.BigEndian.AppendUint32(b, te.TableId)
	if te.IsDefaultAction {
		return append(b, 'D'), nil
	}
	b = binary.BigEndian.AppendUint32(append(b, 'P'), uint32(te.Priority))
	ms := te.Match
	if !slices.IsSortedFunc(ms, cmpFieldID) {
		ms = slices.SortedFunc(slices.Values(ms), cmpFieldID)
	}
	for _, fm := range ms {
		b = binary.BigEndian.AppendUint32(b, fm.FieldId)
		switch m := fm.FieldMatchType.(type) {
		case *p4v1.FieldMatch_Exact_:
			b = appendBytes(append(b, 'x'), m.Exact.GetValue())
		case *p4v1.FieldMatch_Lpm:
			b = appendBytes(append(b, 'l'), m.Lpm.GetValue())
			b = binary.BigEndian.AppendUint32(b, uint32(m.Lpm.GetPrefixLen()))
		case *p4v1.FieldMatch_Ternary_:
			b = appendBytes(append(b, 't'), m.Ternary.GetValue())
			b = appendBytes(b, m.Ternary.GetMask())
		case *p4v1.FieldMatch_Range_:
			b = appendBytes(append(b, 'r'), m.Range.GetLow())
			b = appendBytes(b, m.Range.GetHigh())
		case *p4v1.FieldMatch_Optional_:
			b = appendBytes(append(b, 'o'), m.Optional.GetValue())
		default:
			raw, err := proto.MarshalOptions{Deterministic: true}.Marshal(fm)
			if err != nil {
				return nil, err
			}
			b = appendBytes(append(b, '?'), raw)
		}
	}
	return b, nil
}

func cmpFieldID(a, b *p4v1.FieldMatch) int {
	switch {
	case a.FieldId < b.FieldId:
		return -1
	case a.FieldId > b.FieldId:
		return 1
	}
	return 0
}

// appendBytes appends the canonical form of v, length-prefixed so that
// adjacent values cannot run into each other.
func appendBytes(b, v []byte) []byte {
	v = Canonical(v)
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

func sortMatches(ms []*p4v1.FieldMatch) { slices.SortFunc(ms, cmpFieldID) }
