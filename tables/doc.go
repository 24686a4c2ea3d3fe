// Package tables turns a P4Info into a typed, name-addressed view of a P4
// pipeline and builds, validates, identifies, diffs and renders P4Runtime
// entities against it.
//
// # Loading
//
//	s, err := tables.Load("p4src/build/qos.p4info.txtpb") // .txt/.txtpb/.pb.txt text, .pb/.bin binary, .json
//	s, err := tables.Parse(data, tables.FormatText)
//	s, err := tables.New(info)                              // an already-decoded *p4configv1.P4Info
//
// Objects are looked up by full P4Info name ("QosIngress.classifier"), by
// alias, or by any dot-separated suffix of the name ("classifier") when that
// suffix names exactly one object of the kind; an ambiguous suffix is an error
// wrapping [ErrAmbiguous], an unknown name one wrapping [ErrNotFound]. Each
// kind also has a ByID lookup: [Schema.Table], [Schema.TableByID],
// [Schema.Action], [Schema.ActionProfile], [Schema.Meter],
// [Schema.DirectMeter], [Schema.Counter], [Schema.DirectCounter],
// [Schema.MatchField], [Schema.ActionParam].
//
// # Building entities from human values
//
// Values ([EncodeValue]) may be Go integers, []byte (big-endian), *big.Int,
// netip.Addr, net.IP, net.HardwareAddr, or strings: decimal "42", hex "0x2a",
// IPv4 "10.0.0.1", IPv6 "2001:db8::1", MAC "00:11:22:33:44:55". Every builder
// produces canonical bytestrings (P4Runtime v1.5 §8.3: the shortest
// big-endian string, zero is one 0x00 byte) and rejects what a conforming
// server would reject, with the same gRPC code:
//
//	te, err := s.TableEntry("classifier",
//		[]tables.Match{
//			tables.Ternary("ipv4_src", "10.0.0.0", "255.0.0.0"),
//			tables.Range("l4_dst_port", 5000, 5100),
//		},
//		tables.Action("set_class", tables.Param("class_id", 3), tables.Param("dscp", 46)),
//		tables.Priority(10))
//	te, err := s.TableEntry("ipv4_lpm", []tables.Match{tables.LPM("ipv4_dst", "10.1.0.0/16")}, tables.Group(7))
//	def, err := s.TableEntry("classifier", nil, tables.Action("set_default_class"), tables.AsDefault())
//	me, err := s.MeterEntry("class_meter", 3, &tables.MeterConfig{CIR: 125000, CBurst: 10000, PIR: 250000, PBurst: 20000})
//	m, err := s.ActionProfileMember("ecmp_selector", 1, tables.Action("set_next_hop", ...))
//	g, err := s.ActionProfileGroup("ecmp_selector", 7, []tables.GroupMember{{ID: 1, Weight: 1}}, 64)
//
// Don't-care matches (ternary mask 0, LPM prefix length 0, a range covering
// the whole field, an Optional with a nil value) are omitted from the entry as
// §9.1.1 requires. Wrap results with [EntityOf] to get a *p4v1.Entity.
//
// # Validation
//
// [Schema.ValidateEntity] checks an entity's shape the way a conforming
// server does (widths, LPM/ternary/range rules, priority, action membership,
// parameters, meter configs); [Schema.ValidateUpdate] adds the rules that
// depend on the update type (default entries and meters/counters are
// MODIFY-only, INSERT needs an action, DELETE looks only at the key). Errors
// are *[ValidationError] carrying a gRPC code; it implements GRPCStatus, so a
// server can return it as is, and status.Code(err) or [Code](err) gives the
// code. Unknown object IDs are InvalidArgument, as the PI reference server
// answers (the error still wraps [ErrNotFound]); unknown *names* in the
// builders are NotFound.
// Non-canonical bytestrings (extra leading zero bytes) are accepted as the
// spec requires; [Canonicalize] rewrites an entity to canonical form.
//
// # Identity and diff
//
// [Schema.Key] returns the identity the switch uses (table + match +
// priority, or the default-entry flag; meter/counter + index; profile +
// member or group id). [Diff] turns (current, intent) into a [Plan]: phases of
// updates, each phase safe to send as one WriteRequest, phases in order so
// that every reference is valid when it is written (P4Runtime §12.1 gives no
// ordering inside a batch): members, groups, table entries, meters and
// direct resources are inserted or modified first, then table entries,
// groups and members are deleted in that order. Meters, counters, direct
// resources and default entries always exist on a switch, so they are only
// ever MODIFYed; a meter that disappears from the intent is reset to its
// default (MODIFY with no config, §9.4), a changed default entry is reset
// with a MODIFY without action (§9.1.3), and counters absent from the
// intent are left alone (their values are statistics, not intent). Const
// entries and constant defaults are never written. Changing a group's
// max_size is an error wrapping [ErrImmutableChange]; two entities with the
// same key, one wrapping [ErrDuplicateKey].
//
// # Rendering
//
// [Schema.FormatText] (prototext), [Schema.FormatJSON] (protojson array),
// [Schema.FormatTable] (aligned, values decoded back to IP/MAC/integers) and
// [Schema.Describe] (one line, for logs and errors). [FormatValue] renders
// one bytestring the way EncodeValue reads it back.
package tables
