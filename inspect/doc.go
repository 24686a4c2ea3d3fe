// Package inspect looks inside running switches without touching them:
// `p4qos show`, `p4qos diff` and `p4qos top` (docs/inspect.md).
//
// Every read goes through a controlplane session made WithReadOnly: it
// opens no StreamChannel, so it takes no part in arbitration, never
// becomes primary and cannot write; it runs beside the controller (and
// beside any other primary) without disturbing it.
//
// The package is organised by job:
//
//   - options.go: the flags the commands share, and resolving a switch
//     from an address, a topology (-t) or a daemon config (-c) through
//     controller.LoadFabric, so names, device ids, targets, P4Infos and
//     queue interfaces are the ones `p4qos run` uses.
//   - read.go: the reads (entries, counters, meters with per-color
//     counts, action profiles, the pipeline) and errors that name the
//     switch (unreachable, timeout, wrong device id).
//   - decode.go: entities decoded by name with the P4Info: addresses and
//     prefixes, DSCP names, protocols, colors, rates with units, the qos
//     pipeline's cells (class N, port P queue Q).
//   - show.go, diff.go, top.go: the commands and their table and JSON
//     renderings. diff classifies the plan of controlplane.Session.Compare,
//     the reconciler's own read-back and tables.Diff, into missing, extra
//     and differing entities. top samples class_counter, queue_counter,
//     class_meter's per-color counts and color_action twice per frame;
//     queue.go asks the target's queue interface (the sim's thrift
//     read-back calls) for settings, backlog and tail drops.
//   - cli.go: the commands' help and flags for cmd/p4qos, which stays a
//     thin shell. Errors carry their exit status (ExitCode): 2 for usage,
//     diff's 1 (differs) and 3 (could not compare); other errors are 1.
//
// Flow-group rows in top (demand, allocation, enforced rate) are the
// controller's, not a switch's: FlowGroupSource is the seam for the
// daemon's status API; until it exists top shows none.
package inspect
