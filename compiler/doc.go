// Package compiler turns a QoS policy (docs/policy.md) for a topology
// (package topo) into the P4Runtime entities of every switch of the qos
// pipeline (docs/pipeline.md), addressed by name through a tables.Schema.
//
//	pol, err := compiler.LoadPolicy("policy.yaml")       // or ParsePolicy(name, data)
//	res, err := compiler.Compile(ctx, pol, topology, schema,
//		compiler.WithDemands(estimates))                 // optional: measured demands
//	res.Switches["leaf1"]                                // []*p4v1.Entity in dependency order
//
// What it derives:
//   - classes → classifier entries (set_class / trust_dscp, priority =
//     precedence), class ids in file order from 1; on edge switches an
//     entry per fabric port trusts arriving DSCP (classify once, at the
//     DiffServ boundary);
//   - meters → class_meter entries (bytes/s, bytes; MeterConfigFor), and
//     color handling → color_action entries (AF remarks, EF red drop, or
//     the policy's override);
//   - the DSCP→queue map (DefaultQueue plus overrides) → all 64 phb entries;
//   - per-port ECN thresholds → ecn_threshold entries; queue rates and
//     depths, which P4Runtime cannot set, → Result.QueueSettings;
//   - tenants and flow groups → one effective bandwidth function per flow
//     group (BwE's delegation down the hierarchy) → allocator.Allocate over
//     the topology's paths → meter rates (from: allocator) and WCMP weights;
//   - routes → ecmp_selector members (one per next hop), groups (ECMP, or
//     WCMP weights) and ipv4_lpm/ipv6_lpm entries per host address.
//
// Input errors are all collected into an Errors list (yamlerr.List), each
// with file, line, column, YAML path and what was expected: structural
// errors from ParsePolicy, and from Compile those that need the topology
// or the P4Info: unknown hosts and switches, classes that overlap at
// equal precedence or can never hit, sizes beyond the pipeline's tables.
// A P4Info that is not the qos pipeline yields an error wrapping
// ErrSchema.
package compiler
