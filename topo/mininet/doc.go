// Package mininet runs a p4qos topology as a Mininet lab of BMv2 switches.
//
// A lab lives in a network namespace of its own (p4qos-<topology name>):
// Mininet, the BMv2 simple_switch_grpc processes and the controller run
// there, so the switches' P4Runtime ports are 127.0.0.1 ports of that
// namespace and BMv2's thrift server, which binds 0.0.0.0 whatever it is
// told, is not reachable from anywhere else. Its state (spec, pids, logs,
// the controller's generated config) lives in a state directory under
// /run/p4qos. Up starts Mininet (lab.py, embedded), then — with
// WithController — programs the switches with `p4qos run --once`, applies
// the queue rates and depths P4Runtime cannot carry over thrift, and leaves
// `p4qos run` running. Down removes all of it — the processes, those in the
// hosts' namespaces too, the namespace (and with it every switch-side veth)
// and the state directory — also after Up or Mininet crashed half-way.
// RecordClassRates samples the pipeline's class counters for plots.
//
// See docs/labs/README.md.
package mininet
