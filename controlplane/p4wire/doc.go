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
//
// Memory: the bytes fields of the decoded entities (match values, action
// parameters) point into one copy of the response, so an entity kept
// keeps the whole response alive. That is a good trade only while nobody
// keeps read entities: the daemon does not — a reconcile's read state and
// its plan (the old entities it undoes to) end with the reconcile, the
// closed loop keeps byte counts, not counter entries, and the intent it
// compares with is compiled, never read. Code that keeps a read entity for
// long should proto.Clone it.
package p4wire
