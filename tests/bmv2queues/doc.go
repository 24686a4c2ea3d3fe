// Package bmv2queues proves with real packets on BMv2 that the controller
// owns queue rates (issue #10): queue settings are intent, applied by the
// controller through simple_switch's thrift interface, not by a lab script.
//
// Each test starts simple_switch_grpc (--priority-queues 8) in a network
// namespace of its own with two data-plane ports (tests/internal/bmv2env),
// and pushes nothing itself: it runs the controller through its library
// API, controller.New and Run, as `p4qos run` does, with a one-switch
// topology and a policy written to a temporary directory, the committed
// P4Info and BMv2 JSON (p4src/build), and controller.WithDialer so that the
// controller's P4Runtime and thrift connections are opened inside the
// namespace. The policy classifies UDP to port 5001 as AF11 (queue 2) and
// gives queue 2 of the egress port a rate and a depth. The switch ports run
// without segmentation offloads (bmv2env.WithoutSegmentationOffload), so
// that a burst of 120 frames reaches the pipeline whole instead of
// overflowing simple_switch's ~31-frame libpcap receive ring.
//
// The tests send bursts of 1500-byte IPv4/UDP packets (the packet size of
// BMv2's queue rate unit, target.PacketsPerSecond) into one port and
// measure the departure rate at the other from the capture's timestamps:
//
//   - TestControllerAppliesQueueRates: the departure rate of the shaped
//     queue is the policy's (200 pps for 2.4Mbps), a burst larger than
//     BMv2's default depth is not dropped (the depth was applied), and an
//     unshaped queue of the same port is much faster.
//   - TestQueueRateReloadHalvesDepartures: Controller.ApplyPolicy with half
//     the rate halves the departure rate.
//   - TestQueueRateRestoredAfterDrift: a rate set behind the controller's
//     back with simple_switch_CLI shapes the traffic until the next periodic
//     reconcile (every second here), which writes the policy's rate again:
//     BMv2 cannot read queue rates back, so every reconcile re-applies them.
//
// Run them as root, with simple_switch_grpc and simple_switch_CLI on PATH or
// in /opt/p4/bin (the CLI's Python needs the thrift module):
//
//	sudo go test -v ./tests/bmv2queues/
//
// They skip, saying why, with -short, without root or iproute2, without the
// BMv2 tools, or without the compiled p4src/build/qos.json.
package bmv2queues
