// Package p4qos carries the files the p4qos binary needs when it runs
// outside the repository: the compiled qos pipeline and the example
// topologies and policy (internal/assets serves them). The code lives in the
// packages below this one; README.md is the guide.
package p4qos

import "embed"

// Files are the repository files embedded in the binary, by their paths
// relative to the repository root.
//
//go:embed p4src/build/qos.json p4src/build/qos.p4info.txtpb topo/examples/*.yaml
var Files embed.FS
