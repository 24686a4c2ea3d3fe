// Package writebench is the shared half of the P4Runtime write-path
// benchmarks (issue #18 item 3): the yardstick p4qos's session is measured
// against — a minimal loop of p4.v1.Write RPCs with fixed batches — and the
// harness that runs the session and that loop side by side, in rotating
// order, within each benchmark iteration, so that both see the same
// machine load and the same table sizes.
//
// It imports nothing of the project (only the P4Runtime protos), so both
// controlplane's in-package benchmark against the sim and the BMv2
// benchmark in tests/bmv2ctl use the same raw loop without an import cycle.
package writebench
