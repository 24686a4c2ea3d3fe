// Package bmv2ctl tests the controller against BMv2 simple_switch_grpc,
// started on loopback with no data-plane interfaces (so no root is needed),
// through tests/internal/bmv2env.
//
// The generic tests use BMv2's own p4c-compiled test programs from its
// source tree (targets/simple_switch_grpc/tests/testdata; BMV2_SRC, default
// /opt/p4/src/behavioral-model): meter.p4, turned into a table plus an
// indirect byte meter, for pipeline push, reconcile, meter rounding, drift,
// undo and restart; ternary.p4 for write throughput. The demo-policy test
// needs the compiled qos pipeline (p4src/build/qos.json). Every test skips,
// saying why, when the binary or its program is missing.
package bmv2ctl
