// Package mininet runs a p4qos topology as a Mininet lab of BMv2 switches.
//
// A lab lives in a network namespace of its own (p4qos-<topology name>):
// Mininet, the BMv2 simple_switch_grpc processes and the controller run
// there, so the switches' P4Runtime ports are 127.0.0.1 ports of that
// namespace and BMv2's thrift server, which binds 0.0.0.0 whatever it is
// told, is not reachable from anywhere else. Its state (spec, pids, logs)
// lives in a state directory under /run/p4qos. Down removes all of it — the
// processes, the namespace (and with it every switch-side veth) and the
// state directory — also after Up crashed half-way.
package mininet
