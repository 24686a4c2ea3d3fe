// Package p4wire decodes P4Runtime ReadResponse messages without protobuf
// reflection, for the entity shapes a reconcile reads back: table entries
// (exact, ternary, LPM, range and optional matches; a direct action, a
// profile member or a group), action profile members and groups, meter,
// counter, direct meter and direct counter entries.
//
// Why: reading the switches is the largest cost of a large fabric's
// start-up and steady state (docs/performance.md, "Controller scale"), and
// most of it was protobuf-go's generic unmarshalling, a third of that
// allocating the wrappers of oneof fields through reflection.
//
// The decoder gives up on anything else — an entity kind or field it does
// not know, a wire type that does not match, a singular message or oneof
// that appears twice (protobuf merges those) — and the whole message is
// then decoded by proto.Unmarshal, so the result is always what
// proto.Unmarshal gives (FuzzUnmarshalReadResponse and
// TestUnmarshalMatchesProto compare the two).
package p4wire
