// Package bmv2 proves the qos pipeline's behaviour with real packets on BMv2
// and, where it is installed, on the Tofino model.
//
// The packet tests of the contract's behaviour (classification,
// trTCM colors, EF before BE, ECMP and WCMP, TTL, ECN) run once per target
// (target_test.go): BMv2 with the v1model program, and tofino-model with
// bf_switchd and the TNA program compiled for Tofino 1
// (tests/internal/tofinomodel), each as a subtest named after the target. A
// target that is not installed skips its subtests, saying why; where the
// Tofino model legitimately differs (meter arithmetic, queues p4qos cannot
// configure there) the test states its tolerance or its reason to skip.
// The remaining tests (packet I/O, P4Runtime errors, malformed packets) are
// BMv2's alone.
//
// On BMv2, each test starts its own simple_switch_grpc (--priority-queues 8)
// inside a network namespace that the test creates, with veth pairs whose switch ends
// are the switch ports and whose other ends, in the same namespace, are where
// the test sends and captures frames through AF_PACKET sockets. The test
// process itself stays in the host namespace: it opens each socket (gRPC and
// AF_PACKET) on an OS thread that has entered the test namespace with
// setns(2), and a socket belongs to the namespace it was created in. Nothing
// is configured in the host namespace, and simple_switch's thrift server
// (0.0.0.0:9090, not configurable) is only reachable inside the namespace.
//
// The namespace, switch and socket machinery is tests/internal/bmv2env,
// shared with tests/bmv2diff, tests/bmv2ctl and the Tofino model harness. The tests skip, saying why,
// with -short and unless they run as root with `ip` (iproute2),
// simple_switch_grpc and simple_switch_CLI (PATH or /opt/p4/bin), and the
// committed p4src/build/qos.json. The pipeline is programmed over P4Runtime
// with entities built by the tables package from the committed P4Info.
package bmv2
