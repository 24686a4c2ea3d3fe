// Package tofinomodel is the harness of the packet tests on the Tofino
// model: Intel's tofino-model (the ASIC simulator) and bf_switchd (the
// driver, with its P4Runtime server) from open-p4studio, which this
// repository neither ships nor builds (docs/targets.md, "Tofino model").
//
// A test gets a network namespace of its own with one veth pair per switch
// port, exactly as on BMv2: the namespace, veth, packet-socket, process and
// P4Runtime helpers are tests/internal/bmv2env's, reused here, and device
// port p of the model is the SwitchIface(p) end of pair p. tofino-model and
// bf_switchd both run inside that namespace, so their TCP ports (the
// model's DMA channel at 8001 and up, the P4Runtime server) are private to
// the test; each is started in a process group of its own and killed by
// its pid when the test ends, whatever the outcome.
//
// The P4 program is not in bf_switchd's configuration: the switch starts
// with --skip-p4, and Push loads the committed Tofino 1 outputs
// (p4src/build/tofino/) over P4Runtime through a p4qos session, with the
// device config packed by target/tofino as the server reads it
// (tofino.FormatPIBfrt).
//
// The SDE is found under $P4QOS_SDE (default /opt/sde/install): bin/
// tofino-model, bin/bf_switchd and lib/. Require and Start skip the test,
// saying what is missing, without it, without a P4Runtime server in
// bf_switchd, without root and `ip`, or with -short; the configuration
// files and the device config are built and tested without any of them.
package tofinomodel
