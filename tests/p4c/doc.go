// Package p4c holds the tests that tie the committed compiler outputs in
// p4src/build to the P4 sources and to the name contract in docs/pipeline.md.
//
// The contract test always runs: it reads the committed P4Info. The
// recompilation tests need p4c (p4c-bm2-ss for v1model, p4test plus the TNA
// include files for Tofino) on PATH or in /opt/p4/bin, and skip with the
// reason otherwise.
package p4c
