// Package admission decides whether a reservation (a flow between two hosts
// with a token-bucket TSpec) can be admitted to the fabric, in the two
// IntServ services: guaranteed (a deterministic end-to-end delay bound by
// network calculus over every ECMP path the flow may take) and
// controlled-load (by measured queue load against a target utilisation).
//
// A Ledger holds the admitted reservations. Admit recomputes the bounds of
// every guaranteed reservation with the candidate added and refuses it if
// any promised bound or any EF share would be broken; the refusal names the
// hop, the resource and the numbers. The model, the theorems and the
// parameters are in docs/admission.md.
//
// The package reads the topology only (topo, internal/units,
// internal/yamlerr): it installs nothing. Enforcement in the data plane
// (per-reservation policers) is not done yet.
package admission
