// Package p4qos carries the files the p4qos binary needs when it runs
// outside the repository: the compiled qos pipelines and the example
// topologies and policy (internal/assets serves them). The code lives in the
// packages below this one; README.md is the guide.
package p4qos

import "embed"

// Files are the repository files embedded in the binary, by their paths
// relative to the repository root: the BMv2 pipeline, bf-p4c's Tofino 1 and
// 2 outputs that tofino switches get by default (about 9 MB of the
// binary; docs/targets.md), and the examples.
//
//go:embed p4src/build/qos.json p4src/build/qos.p4info.txtpb topo/examples/*.yaml
//go:embed p4src/build/tofino/qos.p4info.txtpb p4src/build/tofino/bf-rt.json p4src/build/tofino/context.json p4src/build/tofino/tofino.bin
//go:embed p4src/build/tofino2/qos.p4info.txtpb p4src/build/tofino2/bf-rt.json p4src/build/tofino2/context.json p4src/build/tofino2/tofino2.bin
var Files embed.FS
