// Package bmv2ctl tests the controller against BMv2 simple_switch_grpc:
// installing the demo policy and reading it back, re-programming a
// restarted switch, primary/backup arbitration, and write throughput. The
// tests start simple_switch_grpc on loopback with no data-plane
// interfaces (so no root is needed) and skip, saying why, when the binary
// or the compiled qos pipeline (p4src/build/qos.json) is missing.
package bmv2ctl
