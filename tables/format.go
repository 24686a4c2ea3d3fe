package tables

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"text/tabwriter"

	p4configv1 "github.com/p4lang/p4runtime/go/p4/config/v1"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/prototext"
)

// FormatText writes each entity as a multi-line P4Runtime text proto, blocks
// separated by a blank line. The output parses back with prototext into
// p4v1.Entity messages (protobuf-go varies insignificant whitespace between
// builds, so compare parsed messages, not bytes).
func (s *Schema) FormatText(w io.Writer, es []*p4v1.Entity) error {
	opts := prototext.MarshalOptions{Multiline: true, Indent: "  "}
	for i, e := range es {
		b, err := opts.Marshal(e)
		if err != nil {
			return fmt.Errorf("format text: entity %d: %w", i, err)
		}
		if i > 0 {
			if _, err := io.WriteString(w, "\n"); err != nil {
				return err
			}
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return nil
}

// FormatWriteRequest writes one p4.v1.WriteRequest in text format: the
// device id, then each update with a comment naming what it writes (the
// Describe line), e.g.
//
//	device_id: 1
//	# table_entry QosIngress.phb dscp=46 -> QosIngress.set_queue(queue=7)
//	updates {
//	  type: INSERT
//	  entity {
//	    table_entry { ... }
//	  }
//	}
//
// It parses with prototext (and Python's text_format, so p4runtime-shell's
// Write takes the file; grpcurl -format text takes it too). There is no
// election_id: the client that sends it must add its own (p4runtime-shell
// does), and no role (the default role).
func (s *Schema) FormatWriteRequest(w io.Writer, deviceID uint64, updates []*p4v1.Update) error {
	opts := prototext.MarshalOptions{Multiline: true, Indent: "  "}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "device_id: %d\n", deviceID)
	for i, u := range updates {
		b, err := opts.Marshal(u.GetEntity())
		if err != nil {
			return fmt.Errorf("format write request: update %d: %w", i, err)
		}
		fmt.Fprintf(&buf, "# %s\nupdates {\n  type: %s\n  entity {\n", strings.ReplaceAll(s.Describe(u.GetEntity()), "\n", " "), u.GetType())
		for _, line := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
			buf.WriteString("    ")
			buf.WriteString(line)
			buf.WriteByte('\n')
		}
		buf.WriteString("  }\n}\n")
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// FormatJSON writes the entities as one JSON array of protojson objects
// (proto field names, bytes as base64), indented by two spaces. The
// whitespace is normalised, so the output is byte-stable.
func (s *Schema) FormatJSON(w io.Writer, es []*p4v1.Entity) error {
	var buf bytes.Buffer
	buf.WriteByte('[')
	opts := protojson.MarshalOptions{UseProtoNames: true}
	for i, e := range es {
		b, err := opts.Marshal(e)
		if err != nil {
			return fmt.Errorf("format json: entity %d: %w", i, err)
		}
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(b)
	}
	buf.WriteByte(']')
	var out bytes.Buffer
	if err := json.Indent(&out, compactJSON(buf.Bytes()), "", "  "); err != nil {
		return fmt.Errorf("format json: %w", err)
	}
	out.WriteByte('\n')
	_, err := w.Write(out.Bytes())
	return err
}

func compactJSON(b []byte) []byte {
	var c bytes.Buffer
	if err := json.Compact(&c, b); err != nil {
		return b
	}
	return c.Bytes()
}

// FormatTable writes a readable, aligned table: one row per entity with its
// kind, object name, key (matches decoded to addresses, MACs and integers,
// or the index/id), action or configuration, and priority.
func (s *Schema) FormatTable(w io.Writer, es []*p4v1.Entity) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tNAME\tKEY\tACTION\tPRIORITY")
	for _, e := range es {
		r := s.describe(e)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.kind, r.name, dash(r.key), dash(r.action), dash(r.prio))
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Describe renders an entity on one line for logs and error messages, e.g.
//
//	table_entry QosIngress.classifier ipv4_src=10.0.0.0&&&255.0.0.0 prio=10 -> QosIngress.set_class(class_id=3, dscp=46)
func (s *Schema) Describe(e *p4v1.Entity) string {
	r := s.describe(e)
	var b strings.Builder
	b.WriteString(r.kind)
	b.WriteByte(' ')
	b.WriteString(r.name)
	if r.key != "" {
		b.WriteByte(' ')
		b.WriteString(r.key)
	}
	if r.prio != "" {
		b.WriteString(" prio=")
		b.WriteString(r.prio)
	}
	if r.action != "" {
		b.WriteString(" -> ")
		b.WriteString(r.action)
	}
	return b.String()
}

type row struct{ kind, name, key, action, prio string }

func entityKind(e *p4v1.Entity) string {
	switch e.GetEntity().(type) {
	case *p4v1.Entity_TableEntry:
		return "table_entry"
	case *p4v1.Entity_ActionProfileMember:
		return "action_profile_member"
	case *p4v1.Entity_ActionProfileGroup:
		return "action_profile_group"
	case *p4v1.Entity_MeterEntry:
		return "meter_entry"
	case *p4v1.Entity_DirectMeterEntry:
		return "direct_meter_entry"
	case *p4v1.Entity_CounterEntry:
		return "counter_entry"
	case *p4v1.Entity_DirectCounterEntry:
		return "direct_counter_entry"
	case nil:
		return "empty_entity"
	}
	return "entity"
}

func (s *Schema) nameOr(id uint32) string {
	if n := s.Name(id); n != "" {
		return n
	}
	return "#" + strconv.FormatUint(uint64(id), 10)
}

func (s *Schema) describe(e *p4v1.Entity) row {
	r := row{kind: entityKind(e)}
	switch x := e.GetEntity().(type) {
	case *p4v1.Entity_TableEntry:
		s.describeTableEntry(&r, x.TableEntry)
	case *p4v1.Entity_ActionProfileMember:
		m := x.ActionProfileMember
		r.name = s.nameOr(m.ActionProfileId)
		r.key = "member=" + strconv.FormatUint(uint64(m.MemberId), 10)
		r.action = s.formatAction(m.Action)
	case *p4v1.Entity_ActionProfileGroup:
		g := x.ActionProfileGroup
		r.name = s.nameOr(g.ActionProfileId)
		r.key = "group=" + strconv.FormatUint(uint64(g.GroupId), 10)
		parts := make([]string, 0, len(g.Members))
		for _, m := range g.Members {
			parts = append(parts, fmt.Sprintf("%d*%d", m.MemberId, m.Weight))
		}
		r.action = fmt.Sprintf("members[%s] max_size=%d", strings.Join(parts, " "), g.MaxSize)
	case *p4v1.Entity_MeterEntry:
		m := x.MeterEntry
		r.name = s.nameOr(m.MeterId)
		r.key = formatIndex(m.Index)
		r.action = formatMeterConfig(m.Config)
		if m.Config != nil {
			// Rates with units (cir=40Mbps), as a person reads them.
			r.action = s.Decode(e).Meter.Text()
		}
	case *p4v1.Entity_CounterEntry:
		c := x.CounterEntry
		r.name = s.nameOr(c.CounterId)
		r.key = formatIndex(c.Index)
		if c.Data != nil {
			r.action = fmt.Sprintf("packets=%d bytes=%d", c.Data.PacketCount, c.Data.ByteCount)
		}
	case *p4v1.Entity_DirectMeterEntry:
		s.describeTableEntry(&r, x.DirectMeterEntry.GetTableEntry())
		r.action = formatMeterConfig(x.DirectMeterEntry.Config)
	case *p4v1.Entity_DirectCounterEntry:
		s.describeTableEntry(&r, x.DirectCounterEntry.GetTableEntry())
		r.action = ""
		if d := x.DirectCounterEntry.Data; d != nil {
			r.action = fmt.Sprintf("packets=%d bytes=%d", d.PacketCount, d.ByteCount)
		}
	default:
		r.name = "-"
		r.key = compactText(e)
	}
	return r
}

func compactText(e *p4v1.Entity) string {
	b, err := prototext.MarshalOptions{}.Marshal(e)
	if err != nil {
		return "?"
	}
	return strings.Join(strings.Fields(string(b)), " ")
}

func formatIndex(i *p4v1.Index) string {
	if i == nil {
		return "index=*"
	}
	return "index=" + strconv.FormatInt(i.Index, 10)
}

func formatMeterConfig(c *p4v1.MeterConfig) string {
	if c == nil {
		return "default(green)"
	}
	s := fmt.Sprintf("cir=%d cburst=%d pir=%d pburst=%d", c.Cir, c.Cburst, c.Pir, c.Pburst)
	if c.Eburst != 0 {
		s += fmt.Sprintf(" eburst=%d", c.Eburst)
	}
	return s
}

func (s *Schema) describeTableEntry(r *row, te *p4v1.TableEntry) {
	if te == nil {
		r.name = "-"
		return
	}
	r.name = s.nameOr(te.TableId)
	ti := s.tableInfo[te.TableId]
	if te.IsDefaultAction {
		r.key = "(default)"
	} else {
		parts := make([]string, 0, len(te.Match))
		for _, fm := range te.Match {
			var f *p4configv1.MatchField
			if ti != nil {
				f = ti.fields[fm.FieldId]
			}
			parts = append(parts, formatFieldMatch(f, fm))
		}
		r.key = strings.Join(parts, " ")
		if r.key == "" {
			r.key = "(match all)"
		}
	}
	if te.Priority != 0 {
		r.prio = strconv.FormatInt(int64(te.Priority), 10)
	}
	switch a := te.GetAction().GetType().(type) {
	case *p4v1.TableAction_Action:
		r.action = s.formatAction(a.Action)
	case *p4v1.TableAction_ActionProfileMemberId:
		r.action = "member " + strconv.FormatUint(uint64(a.ActionProfileMemberId), 10)
	case *p4v1.TableAction_ActionProfileGroupId:
		r.action = "group " + strconv.FormatUint(uint64(a.ActionProfileGroupId), 10)
	case *p4v1.TableAction_ActionProfileActionSet:
		parts := make([]string, 0, len(a.ActionProfileActionSet.ActionProfileActions))
		for _, apa := range a.ActionProfileActionSet.ActionProfileActions {
			parts = append(parts, fmt.Sprintf("%d*%s", apa.Weight, s.formatAction(apa.Action)))
		}
		r.action = "{" + strings.Join(parts, ", ") + "}"
	case nil:
		if te.IsDefaultAction {
			r.action = "(reset)"
		}
	}
	if te.MeterConfig != nil {
		r.action += " meter{" + formatMeterConfig(te.MeterConfig) + "}"
	}
}

func formatFieldMatch(f *p4configv1.MatchField, fm *p4v1.FieldMatch) string {
	name := "#" + strconv.FormatUint(uint64(fm.FieldId), 10)
	var w int32 = 0
	if f != nil {
		name, w = f.Name, f.Bitwidth
	}
	switch m := fm.FieldMatchType.(type) {
	case *p4v1.FieldMatch_Exact_:
		return name + "=" + FormatValue(m.Exact.Value, w, name)
	case *p4v1.FieldMatch_Lpm:
		return name + "=" + FormatValue(m.Lpm.Value, w, name) + "/" + strconv.Itoa(int(m.Lpm.PrefixLen))
	case *p4v1.FieldMatch_Ternary_:
		return name + "=" + FormatValue(m.Ternary.Value, w, name) + "&&&" + formatMask(m.Ternary.Mask, w, name)
	case *p4v1.FieldMatch_Range_:
		return name + "=" + FormatValue(m.Range.Low, w, name) + ".." + FormatValue(m.Range.High, w, name)
	case *p4v1.FieldMatch_Optional_:
		return name + "=" + FormatValue(m.Optional.Value, w, name)
	}
	return name + "=?"
}

// formatMask prints masks of address fields like the addresses, others in
// hex, where the bit pattern is what a reader wants to see.
func formatMask(b []byte, w int32, name string) string {
	if k := valueKind(w, name); k != kindInt {
		return FormatValue(b, w, name)
	}
	return "0x" + hex.EncodeToString(Canonical(b))
}

func (s *Schema) formatAction(a *p4v1.Action) string {
	if a == nil {
		return ""
	}
	ai := s.actionInfo[a.ActionId]
	if ai == nil {
		return "#" + strconv.FormatUint(uint64(a.ActionId), 10) + "(?)"
	}
	parts := make([]string, 0, len(a.Params))
	for _, p := range a.Params {
		pi := ai.params[p.ParamId]
		if pi == nil {
			parts = append(parts, fmt.Sprintf("#%d=0x%x", p.ParamId, p.Value))
			continue
		}
		parts = append(parts, pi.Name+"="+FormatValue(p.Value, pi.Bitwidth, pi.Name))
	}
	return ai.a.Preamble.Name + "(" + strings.Join(parts, ", ") + ")"
}

type valueKindT int

const (
	kindInt valueKindT = iota
	kindIPv4
	kindIPv6
	kindMAC
)

// valueKind guesses how a human writes a field from its width and name: 128
// bits is an IPv6 address, 48 bits a MAC, 32 bits an IPv4 address when the
// name says so (ip, addr, src, dst), anything else an integer.
func valueKind(w int32, name string) valueKindT {
	switch w {
	case 128:
		return kindIPv6
	case 48:
		return kindMAC
	case 32:
		n := strings.ToLower(name)
		for _, hint := range []string{"ip", "addr", "src", "dst", "nexthop", "nhop"} {
			if strings.Contains(n, hint) {
				return kindIPv4
			}
		}
	}
	return kindInt
}

// FormatValue renders a bytestring of a field of width w named name the way
// a human writes it: IPv4/IPv6 addresses, MACs, or decimal integers (hex
// above 64 bits). The output is accepted back by EncodeValue.
func FormatValue(b []byte, w int32, name string) string {
	switch valueKind(w, name) {
	case kindIPv4:
		if v, ok := padTo(b, 4); ok {
			return netip.AddrFrom4([4]byte(v)).String()
		}
	case kindIPv6:
		if v, ok := padTo(b, 16); ok {
			return netip.AddrFrom16([16]byte(v)).String()
		}
	case kindMAC:
		if v, ok := padTo(b, 6); ok {
			parts := make([]string, 6)
			for i, c := range v {
				parts[i] = hex.EncodeToString([]byte{c})
			}
			return strings.Join(parts, ":")
		}
	}
	c := Canonical(b)
	if len(c) <= 8 {
		var u uint64
		for _, x := range c {
			u = u<<8 | uint64(x)
		}
		return strconv.FormatUint(u, 10)
	}
	return "0x" + hex.EncodeToString(c)
}

// padTo left-pads the canonical value to n bytes; false if it is wider.
func padTo(b []byte, n int) ([]byte, bool) {
	c := Canonical(b)
	if len(c) > n {
		return nil, false
	}
	out := make([]byte, n)
	copy(out[n-len(c):], c)
	return out, true
}
