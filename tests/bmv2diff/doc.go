// Package bmv2diff is a differential test of the embedded sim target
// against BMv2: both are programmed with the same P4Runtime entities for the
// qos pipeline, the same packets go through both, and for every packet the
// class, DSCP, queue and egress port decisions (or the drop) must agree.
//
// BMv2 runs as simple_switch_grpc inside a network namespace the test
// creates, with veth pairs as switch ports; frames are sent and captured
// with AF_PACKET sockets opened on an OS thread that entered the namespace.
// On BMv2 the class and queue of a delivered packet are read from the
// class_counter and queue_counter cells its passage incremented; on the sim
// they come from FlowStats. Meters are configured so that colors do not
// depend on timing (a committed burst smaller than a packet is always
// yellow, both bursts smaller is always red), and groups have one member,
// since the sim's selector hash is not BMv2's.
//
// The namespace, switch and socket machinery is tests/internal/bmv2env. The
// test skips, saying why, with -short and unless it runs as root with
// iproute2, simple_switch_grpc (PATH or /opt/p4/bin) and
// p4src/build/qos.json.
package bmv2diff
