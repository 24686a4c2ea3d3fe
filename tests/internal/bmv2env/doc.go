// Package bmv2env is the shared harness of the BMv2 tests: it finds the
// BMv2 tools and skips a test, saying why, when they (or root) are missing;
// creates a network namespace owned by one test with veth pairs as switch
// ports; runs simple_switch_grpc, either inside that namespace or on the
// host's loopback; dials its gRPC server from the test process; runs
// simple_switch_CLI against its thrift server; and sends and captures frames
// with AF_PACKET sockets.
//
// The test process stays in the host namespace. It opens each socket (TCP
// or AF_PACKET) on an OS thread that has entered the test namespace with
// setns(2), since a socket belongs to the namespace it was created in.
// Nothing is configured in the host namespace, and a namespaced switch's
// thrift server (which listens on 0.0.0.0) is only reachable inside it.
//
// Everything a test starts is stopped by t.Cleanup, whatever the outcome:
// the switch process is killed through its own process group (Proc), and
// deleting the namespace deletes its veth pairs.
//
// The namespace, packet-socket, process and P4Runtime helpers are not
// BMv2-specific: tests/internal/tofinomodel runs the Tofino model with
// them.
package bmv2env
