// Package e2e holds end-to-end tests that run p4qos against BMv2 switches in
// a Mininet lab (p4qos lab up): every test skips, with the reason, unless it
// runs as root on a machine with Mininet (Debian package), BMv2
// simple_switch_grpc and, for the traffic tests, the compiled pipeline
// (p4src/build/qos.json) and iperf3.
//
//   - TestLabDownAfterCrash: lab down leaves nothing behind after lab up or
//     Mininet crashed.
//   - TestEFProtected (issue 6 test 1): EF probes vs a best-effort flood.
//   - TestAllocationEnforced (test 2): per-tenant rates vs p4qos allocate.
//   - TestECMPUsesBothSpines, TestWCMPFollowsAllocation (test 3).
//   - TestClosedLoop (test 4): the controller's loop follows a demand drop.
//   - TestTeachingLabs: runs the steps of docs/labs/lab*.md as written.
//
// Test 5 (link failure) is not here: the controller does not react to link
// state yet.
package e2e
