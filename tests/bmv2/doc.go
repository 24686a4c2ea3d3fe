// Package bmv2 proves the qos pipeline's behaviour with real packets on BMv2.
//
// Each test starts its own simple_switch_grpc (--priority-queues 8) inside a
// network namespace that the test creates, with veth pairs whose switch ends
// are the switch ports and whose other ends, in the same namespace, are where
// the test sends and captures frames through AF_PACKET sockets. The test
// process itself stays in the host namespace: it opens each socket (gRPC and
// AF_PACKET) on an OS thread that has entered the test namespace with
// setns(2), and a socket belongs to the namespace it was created in. Nothing
// is configured in the host namespace, and simple_switch's thrift server
// (0.0.0.0:9090, not configurable) is only reachable inside the namespace.
//
// The namespace, switch and socket machinery is tests/internal/bmv2env,
// shared with tests/bmv2diff and tests/bmv2ctl. The tests skip, saying why,
// with -short and unless they run as root with `ip` (iproute2),
// simple_switch_grpc and simple_switch_CLI (PATH or /opt/p4/bin), and the
// committed p4src/build/qos.json. The pipeline is programmed over P4Runtime
// with entities built by the tables package from the committed P4Info.
package bmv2
