// Package controlplane is the P4Runtime controller: it keeps many switches
// converged with the intent the compiler produces.
//
// The package is organised by job:
//
//   - session.go: one switch. A gRPC connection with keepalive and the
//     message-size limits the P4Runtime spec's appendix asks for, a
//     StreamChannel with 128-bit election ids (spec §5), observable
//     primary/backup state, and reconnection with capped, jittered backoff.
//   - pipeline.go: SetForwardingPipelineConfig VERIFY_AND_COMMIT with a
//     cookie, skipped when the switch already runs the same pipeline, and the
//     Target interface that packs the device config (BMv2 JSON, Tofino
//     tofino.bin + context.json, or nothing for the embedded sim).
//   - write.go: batched writes in dependency-ordered phases (spec §12.1),
//     per-update p4.Error decoding into typed errors (spec §12.3), and the
//     undo of a partially applied change (BMv2 only offers CONTINUE_ON_ERROR).
//   - reconcile.go: wildcard read-back, diff against the intent, apply only
//     the difference; drift is counted and repaired.
//   - loop.go: the closed loop (counters → demand → allocation → meters and
//     WCMP weights, with hysteresis).
//   - daemon.go: many switches at once, policy reload, metrics, shutdown.
//   - errors.go: typed errors and the terminal/retryable distinction.
//
// Nothing here trusts what a switch sends back: malformed responses become
// errors, never panics.
package controlplane
