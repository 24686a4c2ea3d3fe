package tables

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	p4configv1 "github.com/p4lang/p4runtime/go/p4/config/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	"github.com/p4qos/p4qos/internal/inputfile"
	"github.com/p4qos/p4qos/internal/yamlerr"
)

// ErrNotFound is wrapped by every lookup of an unknown name or ID.
var ErrNotFound = errors.New("not found")

// ErrAmbiguous is wrapped when a short name matches several objects.
var ErrAmbiguous = errors.New("ambiguous name")

// Format is the encoding of a P4Info file.
type Format int

const (
	// FormatAuto guesses from the content: JSON if it starts with '{',
	// otherwise text, falling back to binary.
	FormatAuto Format = iota
	// FormatText is protobuf text format (p4c --p4runtime-files x.txtpb).
	FormatText
	// FormatBinary is protobuf wire format.
	FormatBinary
	// FormatJSON is protojson.
	FormatJSON
)

// String names the format.
func (f Format) String() string {
	switch f {
	case FormatText:
		return "text"
	case FormatBinary:
		return "binary"
	case FormatJSON:
		return "json"
	default:
		return "auto"
	}
}

// MaxBitwidth is the widest match field or action parameter a P4Info may
// declare. Real header fields are at most 128 bits (IPv6 addresses); 2048
// leaves room for custom keys. Without a bound, a P4Info field of 100,000
// bits was accepted and every entry for it failed later with a misleading
// message ("prefix ... has host bits set"), and values of such widths cost
// kilobytes each.
const MaxBitwidth = 2048

// Schema is a P4Info with name and ID indexes. It is immutable after New and
// safe for concurrent use.
type Schema struct {
	info *p4configv1.P4Info

	tables         index[*p4configv1.Table]
	actions        index[*p4configv1.Action]
	profiles       index[*p4configv1.ActionProfile]
	meters         index[*p4configv1.Meter]
	directMeters   index[*p4configv1.DirectMeter]
	counters       index[*p4configv1.Counter]
	directCounters index[*p4configv1.DirectCounter]

	tableInfo  map[uint32]*tableInfo
	actionInfo map[uint32]*actionInfo
	names      map[uint32]string // any P4Info ID -> full name
}

// tableInfo is what validation and rendering need about a table, computed once.
type tableInfo struct {
	t           *p4configv1.Table
	fields      map[uint32]*p4configv1.MatchField
	fieldByName map[string]*p4configv1.MatchField
	fieldPos    map[uint32]int // field id -> position in t.MatchFields
	actions     map[uint32]p4configv1.ActionRef_Scope
	needsPrio   bool
	profile     *p4configv1.ActionProfile // nil for direct tables
	directMeter uint32
	directCount uint32
}

type actionInfo struct {
	a          *p4configv1.Action
	params     map[uint32]*p4configv1.Action_Param
	paramByNam map[string]*p4configv1.Action_Param
	paramPos   map[uint32]int // param id -> position in a.Params
}

// index maps names and IDs of one kind of P4Info object.
type index[T any] struct {
	kind   string
	byID   map[uint32]T
	byName map[string]T   // full names and aliases
	short  map[string][]T // every dot-suffix of the full name
}

func newIndex[T any](kind string) index[T] {
	return index[T]{kind: kind, byID: map[uint32]T{}, byName: map[string]T{}, short: map[string][]T{}}
}

func (ix *index[T]) add(p *p4configv1.Preamble, v T) error {
	if p == nil {
		return fmt.Errorf("%s without preamble", ix.kind)
	}
	if p.Id == 0 {
		return fmt.Errorf("%s %s has id 0", ix.kind, yamlerr.Quote(p.Name))
	}
	if _, dup := ix.byID[p.Id]; dup {
		return fmt.Errorf("duplicate %s id %#x (%s)", ix.kind, p.Id, yamlerr.Quote(p.Name))
	}
	if _, dup := ix.byName[p.Name]; dup {
		return fmt.Errorf("duplicate %s name %s", ix.kind, yamlerr.Quote(p.Name))
	}
	ix.byID[p.Id] = v
	ix.byName[p.Name] = v
	for _, suffix := range suffixes(p.Name) {
		ix.short[suffix] = append(ix.short[suffix], v)
	}
	if p.Alias != "" && p.Alias != p.Name {
		if _, taken := ix.byName[p.Alias]; !taken {
			ix.byName[p.Alias] = v
		}
	}
	return nil
}

// suffixes returns the proper dot-suffixes of name: "a.b.c" -> "b.c", "c".
func suffixes(name string) []string {
	var out []string
	for i := 0; i < len(name); i++ {
		if name[i] == '.' && i+1 < len(name) {
			out = append(out, name[i+1:])
		}
	}
	return out
}

func (ix *index[T]) get(name string) (T, error) {
	var zero T
	if v, ok := ix.byName[name]; ok {
		return v, nil
	}
	switch c := ix.short[name]; len(c) {
	case 0:
		return zero, fmt.Errorf("%s %s: %w", ix.kind, yamlerr.Quote(name), ErrNotFound)
	case 1:
		return c[0], nil
	default:
		return zero, fmt.Errorf("%s %s matches %d objects, use the full name: %w", ix.kind, yamlerr.Quote(name), len(c), ErrAmbiguous)
	}
}

func (ix *index[T]) getID(id uint32) (T, error) {
	if v, ok := ix.byID[id]; ok {
		return v, nil
	}
	var zero T
	return zero, fmt.Errorf("%s id %d (%#x): %w", ix.kind, id, id, ErrNotFound)
}

// Load reads a P4Info file; the extension chooses the format: .json is JSON,
// .pb and .bin are binary, anything else (.txt, .txtpb, .pb.txt, .p4info) is
// text. The file must be a regular file of at most inputfile.P4Info.Limit()
// bytes.
func Load(path string) (*Schema, error) {
	data, err := inputfile.Read(path, inputfile.P4Info)
	if err != nil {
		return nil, fmt.Errorf("load p4info: %w", err)
	}
	f := FormatText
	switch strings.ToLower(filepath.Ext(path)) {
	case ".json":
		f = FormatJSON
	case ".pb", ".bin":
		f = FormatBinary
	}
	s, err := Parse(data, f)
	if err != nil {
		return nil, fmt.Errorf("load p4info %s: %w", yamlerr.Path(path), err)
	}
	return s, nil
}

// LoadArg is Load, or for path "-" a P4Info read from stdin in whichever
// format it is (JSON, text or binary).
func LoadArg(path string, stdin io.Reader) (*Schema, error) {
	if path != inputfile.Stdin {
		return Load(path)
	}
	data, err := inputfile.ReadArg(path, stdin, inputfile.P4Info)
	if err != nil {
		return nil, fmt.Errorf("load p4info: %w", err)
	}
	s, err := Parse(data, FormatAuto)
	if err != nil {
		return nil, fmt.Errorf("load p4info <stdin>: %w", err)
	}
	return s, nil
}

// Parse decodes a P4Info in the given format and indexes it.
func Parse(data []byte, format Format) (*Schema, error) {
	info := &p4configv1.P4Info{}
	var err error
	switch format {
	case FormatText:
		err = prototext.Unmarshal(data, info)
	case FormatBinary:
		err = proto.Unmarshal(data, info)
	case FormatJSON:
		err = protojson.Unmarshal(data, info)
	case FormatAuto:
		trimmed := strings.TrimSpace(string(data))
		switch {
		case strings.HasPrefix(trimmed, "{"):
			err = protojson.Unmarshal(data, info)
		default:
			if err = prototext.Unmarshal(data, info); err != nil {
				info.Reset()
				if errBin := proto.Unmarshal(data, info); errBin == nil {
					err = nil
				}
			}
		}
	default:
		return nil, fmt.Errorf("parse p4info: unknown format %d", format)
	}
	if err != nil {
		// The protobuf parsers quote the input in their messages.
		return nil, fmt.Errorf("parse p4info (%s): %s", format, yamlerr.Brief(err.Error()))
	}
	return New(info)
}

// New indexes info. The Schema keeps a reference to info; do not modify it
// afterwards. It fails on duplicate or zero IDs, duplicate names, and
// references to IDs that do not exist.
func New(info *p4configv1.P4Info) (*Schema, error) {
	if info == nil {
		return nil, errors.New("nil p4info")
	}
	s := &Schema{
		info:           info,
		tables:         newIndex[*p4configv1.Table]("table"),
		actions:        newIndex[*p4configv1.Action]("action"),
		profiles:       newIndex[*p4configv1.ActionProfile]("action profile"),
		meters:         newIndex[*p4configv1.Meter]("meter"),
		directMeters:   newIndex[*p4configv1.DirectMeter]("direct meter"),
		counters:       newIndex[*p4configv1.Counter]("counter"),
		directCounters: newIndex[*p4configv1.DirectCounter]("direct counter"),
		tableInfo:      map[uint32]*tableInfo{},
		actionInfo:     map[uint32]*actionInfo{},
		names:          map[uint32]string{},
	}
	// The first yamlerr.MaxErrors problems, then a count: a hostile P4Info
	// has a problem per few bytes, and an error per table once printed 8 MB.
	var errs []error
	more := 0
	add := func(err error) {
		switch {
		case err == nil:
		case len(errs) < yamlerr.MaxErrors:
			errs = append(errs, err)
		default:
			more++
		}
	}
	for _, a := range info.Actions {
		if err := s.actions.add(a.GetPreamble(), a); err != nil {
			add(err)
			continue // the schema is invalid: indexing the rest of it is wasted
		}
		ai := &actionInfo{a: a, params: map[uint32]*p4configv1.Action_Param{},
			paramByNam: map[string]*p4configv1.Action_Param{}, paramPos: map[uint32]int{}}
		for i, p := range a.Params {
			if p.Bitwidth < 0 || p.Bitwidth > MaxBitwidth { // 0: a translated (string) type
				add(fmt.Errorf("action %s: parameter %s has bitwidth %d (expected 0..%d)", yamlerr.Quote(a.GetPreamble().GetName()), yamlerr.Quote(p.Name), p.Bitwidth, MaxBitwidth))
			}
			ai.paramPos[p.Id] = i
			if _, dup := ai.params[p.Id]; dup {
				add(fmt.Errorf("action %s: duplicate param id %d", yamlerr.Quote(a.GetPreamble().GetName()), p.Id))
			}
			ai.params[p.Id] = p
			ai.paramByNam[p.Name] = p
		}
		s.actionInfo[a.GetPreamble().GetId()] = ai
	}
	for _, p := range info.ActionProfiles {
		add(s.profiles.add(p.GetPreamble(), p))
	}
	for _, m := range info.Meters {
		add(s.meters.add(m.GetPreamble(), m))
	}
	for _, m := range info.DirectMeters {
		add(s.directMeters.add(m.GetPreamble(), m))
	}
	for _, c := range info.Counters {
		add(s.counters.add(c.GetPreamble(), c))
	}
	for _, c := range info.DirectCounters {
		add(s.directCounters.add(c.GetPreamble(), c))
	}
	for _, t := range info.Tables {
		if err := s.tables.add(t.GetPreamble(), t); err != nil {
			add(err)
			continue // the schema is invalid: indexing the rest of it is wasted
		}
		ti := &tableInfo{
			t:           t,
			fields:      map[uint32]*p4configv1.MatchField{},
			fieldByName: map[string]*p4configv1.MatchField{},
			fieldPos:    map[uint32]int{},
			actions:     map[uint32]p4configv1.ActionRef_Scope{},
		}
		name := t.GetPreamble().GetName()
		for i, f := range t.MatchFields {
			ti.fieldPos[f.Id] = i
			if _, dup := ti.fields[f.Id]; dup {
				add(fmt.Errorf("table %s: duplicate match field id %d", yamlerr.Quote(name), f.Id))
			}
			if f.Bitwidth <= 0 || f.Bitwidth > MaxBitwidth {
				add(fmt.Errorf("table %s: match field %s has bitwidth %d (expected 1..%d)", yamlerr.Quote(name), yamlerr.Quote(f.Name), f.Bitwidth, MaxBitwidth))
			}
			ti.fields[f.Id] = f
			ti.fieldByName[f.Name] = f
			switch f.GetMatchType() {
			case p4configv1.MatchField_TERNARY, p4configv1.MatchField_RANGE, p4configv1.MatchField_OPTIONAL:
				ti.needsPrio = true
			}
		}
		for _, ref := range t.ActionRefs {
			if _, ok := s.actions.byID[ref.Id]; !ok {
				add(fmt.Errorf("table %s references unknown action id %d", yamlerr.Quote(name), ref.Id))
			}
			ti.actions[ref.Id] = ref.Scope
		}
		if t.ImplementationId != 0 {
			p, err := s.profiles.getID(t.ImplementationId)
			if err != nil {
				add(fmt.Errorf("table %s implementation: %w", yamlerr.Quote(name), err))
			}
			ti.profile = p
		}
		for _, id := range t.DirectResourceIds {
			switch {
			case s.directMeters.byID[id] != nil:
				ti.directMeter = id
			case s.directCounters.byID[id] != nil:
				ti.directCount = id
			}
		}
		s.tableInfo[t.GetPreamble().GetId()] = ti
	}
	for id, v := range s.tables.byID {
		s.names[id] = v.Preamble.Name
	}
	for id, v := range s.actions.byID {
		s.names[id] = v.Preamble.Name
	}
	for id, v := range s.profiles.byID {
		s.names[id] = v.Preamble.Name
	}
	for id, v := range s.meters.byID {
		s.names[id] = v.Preamble.Name
	}
	for id, v := range s.directMeters.byID {
		s.names[id] = v.Preamble.Name
	}
	for id, v := range s.counters.byID {
		s.names[id] = v.Preamble.Name
	}
	for id, v := range s.directCounters.byID {
		s.names[id] = v.Preamble.Name
	}
	if more > 0 {
		errs = append(errs, fmt.Errorf("and %d more problems", more))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("invalid p4info: %w", errors.Join(errs...))
	}
	return s, nil
}

// P4Info returns the P4Info the schema was built from; do not modify it.
func (s *Schema) P4Info() *p4configv1.P4Info { return s.info }

// Name returns the full P4Info name of any object by ID, or "" if unknown.
func (s *Schema) Name(id uint32) string { return s.names[id] }

// Names returns the full name of every object of the P4Info, in no order.
func (s *Schema) Names() []string {
	out := make([]string, 0, len(s.names))
	for _, n := range s.names {
		out = append(out, n)
	}
	return out
}

// Table looks up a table by full name, alias or unique dot-suffix.
func (s *Schema) Table(name string) (*p4configv1.Table, error) { return s.tables.get(name) }

// TableByID looks up a table by P4Info ID.
func (s *Schema) TableByID(id uint32) (*p4configv1.Table, error) { return s.tables.getID(id) }

// Action looks up an action by full name, alias or unique dot-suffix.
func (s *Schema) Action(name string) (*p4configv1.Action, error) { return s.actions.get(name) }

// ActionByID looks up an action by P4Info ID.
func (s *Schema) ActionByID(id uint32) (*p4configv1.Action, error) { return s.actions.getID(id) }

// ActionProfile looks up an action profile or selector by name.
func (s *Schema) ActionProfile(name string) (*p4configv1.ActionProfile, error) {
	return s.profiles.get(name)
}

// ActionProfileByID looks up an action profile or selector by P4Info ID.
func (s *Schema) ActionProfileByID(id uint32) (*p4configv1.ActionProfile, error) {
	return s.profiles.getID(id)
}

// Meter looks up an indirect meter by name.
func (s *Schema) Meter(name string) (*p4configv1.Meter, error) { return s.meters.get(name) }

// MeterByID looks up an indirect meter by P4Info ID.
func (s *Schema) MeterByID(id uint32) (*p4configv1.Meter, error) { return s.meters.getID(id) }

// DirectMeter looks up a direct meter by name.
func (s *Schema) DirectMeter(name string) (*p4configv1.DirectMeter, error) {
	return s.directMeters.get(name)
}

// DirectMeterByID looks up a direct meter by P4Info ID.
func (s *Schema) DirectMeterByID(id uint32) (*p4configv1.DirectMeter, error) {
	return s.directMeters.getID(id)
}

// Counter looks up an indirect counter by name.
func (s *Schema) Counter(name string) (*p4configv1.Counter, error) { return s.counters.get(name) }

// CounterByID looks up an indirect counter by P4Info ID.
func (s *Schema) CounterByID(id uint32) (*p4configv1.Counter, error) { return s.counters.getID(id) }

// DirectCounter looks up a direct counter by name.
func (s *Schema) DirectCounter(name string) (*p4configv1.DirectCounter, error) {
	return s.directCounters.get(name)
}

// DirectCounterByID looks up a direct counter by P4Info ID.
func (s *Schema) DirectCounterByID(id uint32) (*p4configv1.DirectCounter, error) {
	return s.directCounters.getID(id)
}

// MatchField looks up a key field of a table by its P4Info name (the @name
// annotation when present) or a unique dot-suffix of it ("dst" for
// "hdr.ipv4.dst" if no other key field ends in ".dst").
func (s *Schema) MatchField(table, field string) (*p4configv1.MatchField, error) {
	t, err := s.Table(table)
	if err != nil {
		return nil, err
	}
	return s.tableInfo[t.Preamble.Id].field(field)
}

func (ti *tableInfo) field(name string) (*p4configv1.MatchField, error) {
	if f, ok := ti.fieldByName[name]; ok {
		return f, nil
	}
	var found []*p4configv1.MatchField
	for _, f := range ti.t.MatchFields {
		if strings.HasSuffix(f.Name, "."+name) {
			found = append(found, f)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return nil, fmt.Errorf("table %s has no match field %s: %w", yamlerr.Quote(ti.t.Preamble.Name), yamlerr.Quote(name), ErrNotFound)
	default:
		return nil, fmt.Errorf("table %s: match field %s: %w", yamlerr.Quote(ti.t.Preamble.Name), yamlerr.Quote(name), ErrAmbiguous)
	}
}

// ActionParam looks up a parameter of an action by name.
func (s *Schema) ActionParam(action, param string) (*p4configv1.Action_Param, error) {
	a, err := s.Action(action)
	if err != nil {
		return nil, err
	}
	p, ok := s.actionInfo[a.Preamble.Id].paramByNam[param]
	if !ok {
		return nil, fmt.Errorf("action %s has no parameter %s: %w", yamlerr.Quote(a.Preamble.Name), yamlerr.Quote(param), ErrNotFound)
	}
	return p, nil
}

// NeedsPriority reports whether entries of t must carry a non-zero priority:
// true iff t has a TERNARY, RANGE or OPTIONAL key field (P4Runtime §9.1).
func NeedsPriority(t *p4configv1.Table) bool {
	for _, f := range t.GetMatchFields() {
		switch f.GetMatchType() {
		case p4configv1.MatchField_TERNARY, p4configv1.MatchField_RANGE, p4configv1.MatchField_OPTIONAL:
			return true
		}
	}
	return false
}
