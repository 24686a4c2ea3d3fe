package tables

import (
	"encoding/hex"
	"fmt"
	"math/big"
	"net/netip"
	"strconv"
	"strings"

	p4configv1 "github.com/p4lang/p4runtime/go/p4/config/v1"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"

	"github.com/p4qos/p4qos/compiler/contract"
	"github.com/p4qos/p4qos/internal/units"
)

// Decoded is a P4Runtime entity decoded by name with the P4Info: what
// `show` and `diff` print, and their JSON (docs/inspect.md), and what
// compile's table and JSON views show.
type Decoded struct {
	// Kind is table_entry, default_entry, action_profile_member,
	// action_profile_group, meter, direct_meter, counter or direct_counter.
	Kind string `json:"kind"`
	// Object is the P4Info name of the table, profile, meter or counter.
	Object   string         `json:"object"`
	Match    []DecodedValue `json:"match,omitempty"`
	Priority int32          `json:"priority,omitempty"`
	Action   *DecodedAction `json:"action,omitempty"`
	// Member and Group are a profile member's or group's id, or the member
	// or group a table entry points to.
	Member  *uint32         `json:"member,omitempty"`
	Group   *uint32         `json:"group,omitempty"`
	Members []DecodedMember `json:"members,omitempty"`
	MaxSize int32           `json:"max_size,omitempty"`
	// Index is a meter's or counter's cell, Cell what it stands for in
	// the qos pipeline ("class 3", "port 2 queue 7").
	Index   *int64          `json:"index,omitempty"`
	Cell    string          `json:"cell,omitempty"`
	Meter   *DecodedMeter   `json:"meter,omitempty"`
	Counter *DecodedCounter `json:"counter,omitempty"`
}

// DecodedValue is a decoded match field or action parameter: DecodedValue as a person
// writes it (10.0.1.0/24, EF, 5001..5010, tcp, red), Raw the bytestrings
// in hex as the switch holds them.
type DecodedValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
	Raw   string `json:"raw"`
}

// DecodedAction is an action call.
type DecodedAction struct {
	Name   string         `json:"name"`
	Params []DecodedValue `json:"params,omitempty"`
}

// DecodedMember is a member of an action profile group.
type DecodedMember struct {
	Member uint32 `json:"member"`
	Weight int32  `json:"weight"`
}

// DecodedMeter is a meter configuration; rates in the meter's unit per second
// (bytes or packets), bursts in the unit, and the rates for people.
type DecodedMeter struct {
	Unit   string `json:"unit"`
	Set    bool   `json:"configured"`
	CIR    int64  `json:"cir"`
	CBurst int64  `json:"cburst"`
	PIR    int64  `json:"pir"`
	PBurst int64  `json:"pburst"`
	// CIRText and PIRText are the rates with units (40Mbps, 1000pps).
	CIRText string `json:"cir_text,omitempty"`
	PIRText string `json:"pir_text,omitempty"`
	// Green, Yellow and Red are the per-color counters where the target
	// reports them.
	Green  *DecodedCounter `json:"green,omitempty"`
	Yellow *DecodedCounter `json:"yellow,omitempty"`
	Red    *DecodedCounter `json:"red,omitempty"`
}

// DecodedCounter is a counter cell.
type DecodedCounter struct {
	Packets int64 `json:"packets"`
	Bytes   int64 `json:"bytes"`
}

// decoder decodes entities of one P4Info.
type decoder struct{ s *Schema }

// Decode decodes e by name with the P4Info: match fields and parameters
// as a person writes them (prefixes, DSCP names, protocols, colors), meter
// rates with units. It never fails: unknown ids print as #ID.
func (s *Schema) Decode(e *p4v1.Entity) Decoded { return decoder{s}.entity(e) }

func (d decoder) name(id uint32) string {
	if n := d.s.Name(id); n != "" {
		return n
	}
	return "#" + strconv.FormatUint(uint64(id), 10)
}

// entity decodes e.
func (d decoder) entity(e *p4v1.Entity) Decoded {
	var out Decoded
	switch x := e.GetEntity().(type) {
	case *p4v1.Entity_TableEntry:
		d.tableEntry(&out, x.TableEntry)
	case *p4v1.Entity_ActionProfileMember:
		m := x.ActionProfileMember
		out.Kind, out.Object, out.Member = "action_profile_member", d.name(m.GetActionProfileId()), ptr(m.GetMemberId())
		out.Action = d.action(m.GetAction())
	case *p4v1.Entity_ActionProfileGroup:
		g := x.ActionProfileGroup
		out.Kind, out.Object, out.Group, out.MaxSize = "action_profile_group", d.name(g.GetActionProfileId()), ptr(g.GetGroupId()), g.GetMaxSize()
		for _, m := range g.GetMembers() {
			out.Members = append(out.Members, DecodedMember{Member: m.GetMemberId(), Weight: m.GetWeight()})
		}
	case *p4v1.Entity_MeterEntry:
		m := x.MeterEntry
		out.Kind, out.Object = "meter", d.name(m.GetMeterId())
		d.index(&out, m.GetIndex())
		unit := p4configv1.MeterSpec_BYTES
		if mi, err := d.s.MeterByID(m.GetMeterId()); err == nil {
			unit = mi.GetSpec().GetUnit()
		}
		out.Meter = meter(unit, m.GetConfig(), m.GetCounterData())
	case *p4v1.Entity_DirectMeterEntry:
		dm := x.DirectMeterEntry
		d.tableEntry(&out, dm.GetTableEntry())
		out.Kind, out.Action = "direct_meter", nil
		unit := p4configv1.MeterSpec_BYTES
		if mi, err := d.s.DirectMeterByID(dm.GetTableEntry().GetTableId()); err == nil {
			unit = mi.GetSpec().GetUnit()
		}
		out.Meter = meter(unit, dm.GetConfig(), dm.GetCounterData())
	case *p4v1.Entity_CounterEntry:
		c := x.CounterEntry
		out.Kind, out.Object, out.Counter = "counter", d.name(c.GetCounterId()), counter(c.GetData())
		d.index(&out, c.GetIndex())
	case *p4v1.Entity_DirectCounterEntry:
		dc := x.DirectCounterEntry
		d.tableEntry(&out, dc.GetTableEntry())
		out.Kind, out.Action, out.Counter = "direct_counter", nil, counter(dc.GetData())
	default:
		out.Kind, out.Object = "unknown", "-"
	}
	return out
}

func ptr[T any](v T) *T { return &v }

func counter(c *p4v1.CounterData) *DecodedCounter {
	if c == nil {
		return nil
	}
	return &DecodedCounter{Packets: c.GetPacketCount(), Bytes: c.GetByteCount()}
}

func meter(unit p4configv1.MeterSpec_Unit, c *p4v1.MeterConfig, data *p4v1.MeterCounterData) *DecodedMeter {
	m := &DecodedMeter{Unit: "bytes"}
	rate := func(v int64) string { return units.FormatBitrate(float64(v) * 8) }
	if unit == p4configv1.MeterSpec_PACKETS {
		m.Unit = "packets"
		rate = func(v int64) string { return strconv.FormatInt(v, 10) + "pps" }
	}
	if c != nil {
		m.Set, m.CIR, m.CBurst, m.PIR, m.PBurst = true, c.GetCir(), c.GetCburst(), c.GetPir(), c.GetPburst()
		m.CIRText, m.PIRText = rate(m.CIR), rate(m.PIR)
	}
	if data != nil {
		m.Green, m.Yellow, m.Red = counter(data.GetGreen()), counter(data.GetYellow()), counter(data.GetRed())
	}
	return m
}

// index sets the cell and what it stands for in the qos pipeline.
func (d decoder) index(out *Decoded, idx *p4v1.Index) {
	if idx == nil {
		return
	}
	i := idx.GetIndex()
	out.Index = &i
	switch ShortName(out.Object) {
	case contract.ClassMeter, contract.ClassCounter:
		out.Cell = "class " + strconv.FormatInt(i, 10)
	case contract.QueueCounter:
		out.Cell = fmt.Sprintf("port %d queue %d", i/contract.QueuesPerPort, i%contract.QueuesPerPort)
	}
}

// ShortName is the last component of a P4Info name (QosIngress.classifier →
// classifier).
func ShortName(name string) string {
	return name[strings.LastIndexByte(name, '.')+1:]
}

func (d decoder) tableEntry(out *Decoded, te *p4v1.TableEntry) {
	out.Kind, out.Object, out.Priority = "table_entry", d.name(te.GetTableId()), te.GetPriority()
	if te.GetIsDefaultAction() {
		out.Kind = "default_entry"
	}
	fields := map[uint32]*p4configv1.MatchField{}
	if t, err := d.s.TableByID(te.GetTableId()); err == nil {
		for _, f := range t.GetMatchFields() {
			fields[f.GetId()] = f
		}
	}
	for _, fm := range te.GetMatch() {
		out.Match = append(out.Match, matchValue(fields[fm.GetFieldId()], fm))
	}
	switch a := te.GetAction().GetType().(type) {
	case *p4v1.TableAction_Action:
		out.Action = d.action(a.Action)
	case *p4v1.TableAction_ActionProfileMemberId:
		out.Member = ptr(a.ActionProfileMemberId)
	case *p4v1.TableAction_ActionProfileGroupId:
		out.Group = ptr(a.ActionProfileGroupId)
	}
	if te.GetMeterConfig() != nil {
		out.Meter = meter(p4configv1.MeterSpec_BYTES, te.GetMeterConfig(), te.GetMeterCounterData())
	}
	if te.GetCounterData() != nil {
		out.Counter = counter(te.GetCounterData())
	}
}

func (d decoder) action(a *p4v1.Action) *DecodedAction {
	if a == nil {
		return nil
	}
	out := &DecodedAction{Name: d.name(a.GetActionId())}
	params := map[uint32]*p4configv1.Action_Param{}
	if ai, err := d.s.ActionByID(a.GetActionId()); err == nil {
		for _, p := range ai.GetParams() {
			params[p.GetId()] = p
		}
	}
	for _, p := range a.GetParams() {
		name, width := "#"+strconv.FormatUint(uint64(p.GetParamId()), 10), int32(0)
		if pi := params[p.GetParamId()]; pi != nil {
			name, width = pi.GetName(), pi.GetBitwidth()
		}
		out.Params = append(out.Params, DecodedValue{Name: name, Value: formatValue(name, width, p.GetValue()), Raw: rawHex(p.GetValue())})
	}
	return out
}

func rawHex(b []byte) string { return "0x" + hex.EncodeToString(Canonical(b)) }

// matchValue renders one field match: LPM and address ternaries with a
// prefix mask as prefixes, a full mask or a one-value range as the value.
func matchValue(f *p4configv1.MatchField, fm *p4v1.FieldMatch) DecodedValue {
	name, w := "#"+strconv.FormatUint(uint64(fm.GetFieldId()), 10), int32(0)
	if f != nil {
		name, w = f.GetName(), f.GetBitwidth()
	}
	v := DecodedValue{Name: name}
	switch m := fm.GetFieldMatchType().(type) {
	case *p4v1.FieldMatch_Exact_:
		v.Value, v.Raw = formatValue(name, w, m.Exact.GetValue()), rawHex(m.Exact.GetValue())
	case *p4v1.FieldMatch_Lpm:
		v.Value = formatValue(name, w, m.Lpm.GetValue()) + "/" + strconv.Itoa(int(m.Lpm.GetPrefixLen()))
		v.Raw = rawHex(m.Lpm.GetValue()) + "/" + strconv.Itoa(int(m.Lpm.GetPrefixLen()))
	case *p4v1.FieldMatch_Ternary_:
		val, mask := m.Ternary.GetValue(), m.Ternary.GetMask()
		v.Raw = rawHex(val) + "&&&" + rawHex(mask)
		n, isPrefix := prefixLen(mask, w)
		switch {
		case w > 0 && n == int(w):
			v.Value = formatValue(name, w, val)
		case isPrefix && (w == 32 || w == 128) && isAddress(name):
			v.Value = formatValue(name, w, val) + "/" + strconv.Itoa(n)
		default:
			v.Value = formatValue(name, w, val) + "&&&" + rawHex(mask)
		}
	case *p4v1.FieldMatch_Range_:
		lo, hi := m.Range.GetLow(), m.Range.GetHigh()
		v.Raw = rawHex(lo) + ".." + rawHex(hi)
		v.Value = formatValue(name, w, lo)
		if new(big.Int).SetBytes(lo).Cmp(new(big.Int).SetBytes(hi)) != 0 {
			v.Value += ".." + formatValue(name, w, hi)
		}
	case *p4v1.FieldMatch_Optional_:
		v.Value, v.Raw = formatValue(name, w, m.Optional.GetValue()), rawHex(m.Optional.GetValue())
	default:
		v.Value, v.Raw = "?", "?"
	}
	return v
}

// prefixLen is the number of leading ones of a w-bit mask and whether
// the rest is zeros.
func prefixLen(mask []byte, w int32) (int, bool) {
	m := new(big.Int).SetBytes(mask)
	n := 0
	for i := int(w) - 1; i >= 0 && m.Bit(i) == 1; i-- {
		n++
	}
	for i := int(w) - 1 - n; i >= 0; i-- {
		if m.Bit(i) == 1 {
			return n, false
		}
	}
	return n, true
}

func isAddress(name string) bool {
	n := strings.ToLower(name)
	return strings.Contains(n, "ip") || strings.Contains(n, "addr") || strings.Contains(n, "src") || strings.Contains(n, "dst")
}

var protocols = map[uint64]string{1: "icmp", 6: "tcp", 17: "udp", 58: "icmpv6"}

// MeterColors are the meter colors by value (0 green, 1 yellow, 2 red).
var MeterColors = []string{"green", "yellow", "red"}

// formatValue renders a value of the qos pipeline's fields and
// parameters by name: DSCP codepoints by name (EF, AF41, CS1, DF),
// protocols (tcp, udp), meter colors, addresses; other fields as
// FormatValue does (integers, MACs, IPv4/IPv6 addresses).
func formatValue(name string, w int32, b []byte) string {
	c := Canonical(b)
	n := strings.ToLower(name)
	small := len(c) <= 8
	var u uint64
	for _, x := range c {
		u = u<<8 | uint64(x)
	}
	switch {
	case small && strings.Contains(n, "dscp") && w == 6:
		return contract.DSCPName(uint8(u))
	case small && n == contract.KeyIPProto && protocols[u] != "":
		return protocols[u]
	case small && n == contract.KeyColor && u < uint64(len(MeterColors)):
		return MeterColors[u]
	case w == 32 && isAddress(n) && len(c) <= 4:
		var a [4]byte
		copy(a[4-len(c):], c)
		return netip.AddrFrom4(a).String()
	}
	return FormatValue(b, w, name)
}

// Line renders a decoded entity on one line, for tables and diffs:
//
//	classifier ipv4_src=10.0.1.1 ip_proto=tcp l4_dst_port=5001 prio=200 -> set_class(class_id=3, dscp=AF41)
func (e Decoded) Line() string {
	var b strings.Builder
	b.WriteString(ShortName(e.Object))
	if e.Kind == "default_entry" {
		b.WriteString(" (default)")
	}
	if e.Cell != "" {
		b.WriteString(" [" + e.Cell + "]")
	} else if e.Index != nil {
		fmt.Fprintf(&b, " [%d]", *e.Index)
	}
	for _, m := range e.Match {
		b.WriteString(" " + m.Name + "=" + m.Value)
	}
	if e.Kind == "table_entry" && len(e.Match) == 0 {
		b.WriteString(" (match all)")
	}
	if e.Priority != 0 {
		fmt.Fprintf(&b, " prio=%d", e.Priority)
	}
	if t := e.What(); t != "" {
		b.WriteString(" -> " + t)
	}
	return b.String()
}

// What is the entity's action, members, meter or counter, for people.
func (e Decoded) What() string {
	var parts []string
	switch {
	case e.Kind == "action_profile_group" && e.Group != nil:
		ms := make([]string, 0, len(e.Members))
		for _, m := range e.Members {
			ms = append(ms, fmt.Sprintf("%d×%d", m.Member, m.Weight))
		}
		parts = append(parts, fmt.Sprintf("group %d members[%s] max_size=%d", *e.Group, strings.Join(ms, " "), e.MaxSize))
	case e.Member != nil:
		parts = append(parts, fmt.Sprintf("member %d", *e.Member))
	case e.Group != nil:
		parts = append(parts, fmt.Sprintf("group %d", *e.Group))
	}
	if a := e.Action; a != nil {
		ps := make([]string, 0, len(a.Params))
		for _, p := range a.Params {
			ps = append(ps, p.Name+"="+p.Value)
		}
		parts = append(parts, ShortName(a.Name)+"("+strings.Join(ps, ", ")+")")
	}
	if m := e.Meter; m != nil {
		parts = append(parts, m.Text())
	}
	if c := e.Counter; c != nil {
		parts = append(parts, fmt.Sprintf("%d packets %s", c.Packets, units.FormatBytes(uint64(max(c.Bytes, 0)))))
	}
	return strings.Join(parts, " ")
}

func (m *DecodedMeter) Text() string {
	if !m.Set {
		return "unconfigured (all green)"
	}
	return fmt.Sprintf("cir=%s cburst=%s pir=%s pburst=%s", m.CIRText, m.Burst(m.CBurst), m.PIRText, m.Burst(m.PBurst))
}

// burst renders a burst in the meter's unit.
func (m *DecodedMeter) Burst(v int64) string {
	if m.Unit == "packets" {
		return strconv.FormatInt(v, 10) + "pkts"
	}
	return units.FormatBytes(uint64(max(v, 0)))
}
