// Package p4compile holds the tests that tie the committed compiler outputs in
// p4src/build to the P4 sources and to the name contract in docs/pipeline.md.
//
// Always run (no tools needed): the committed BMv2 P4Info honours the
// contract (names, widths, match kinds, sizes, ids); every contract name
// resolves in every committed P4Info (BMv2, Tofino 1, Tofino 2) through its
// target driver (bmv2, sim, tofino built from the committed outputs), whose
// Names carry the one Tofino difference (the action profile is ecmp_profile,
// not ecmp_selector) and may not map a name that resolves unmapped; the
// .bfa parser check finds a state without its match; and the TNA program
// declares the same tables, keys and actions as the v1model one (source
// level).
//
// Need p4c (PATH or /opt/p4/bin), else skip with the reason: the committed
// BMv2 P4Info equals what p4c-bm2-ss emits for p4src/v1model/qos.p4 today;
// the committed Tofino 1 and 2 P4Infos equal what bf-p4c emits for
// p4src/tna/qos.p4, whose parsers keep their selects (p4lang/p4c#5753); and p4test accepts p4src/tna/qos.p4 with the TNA
// include files for Tofino 1 and 2.
package p4compile
