// Package sim is an embedded P4Runtime target: a gRPC server that behaves
// like a conforming P4Runtime v1.5 switch for any P4Info, plus a
// deterministic traffic model for the p4qos "qos" pipeline.
//
// The server side implements client arbitration (spec §5, §16.2) with
// role configs that scope writes (a scheme of the sim's own, see
// NewRoleConfig), SetForwardingPipelineConfig / GetForwardingPipelineConfig
// (§14, §15), Write with per-update p4.Error reporting (§12), applied in
// chunks so that concurrent Reads are not stalled yet never see part of it,
// Read with wildcards (§13.2, §9.1.6), indirect and direct counters and
// meters (§9.3, §9.4), action profiles and selectors (§9.2) and
// Capabilities (§17), over plaintext or (mutual) TLS. Everything is keyed
// off the P4Info the client pushes; no P4 object ID is hard-coded.
//
// When the committed P4Info carries the pipeline contract names of
// docs/pipeline.md (classifier, class_meter, color_action, phb, ipv4_lpm /
// ipv6_lpm, class_counter, queue_counter), the switch also runs a traffic
// model: synthetic flows set with SetFlows go through the installed entries
// and BMv2-like egress queues (strict priority, per-queue rates and depths,
// SetQueue) when the caller drives the clock with Advance. Nothing depends
// on the wall clock, so tests are deterministic. See docs/sim.md.
package sim
