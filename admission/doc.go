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
// Controlled load is checked against measured queue loads (Measurements;
// WindowMax is Jamin et al.'s time-window estimator, fed by the daemon's
// counter reads), or against the reserved rates where there is no
// measurement (offline).
//
// The package reads the topology only (topo, internal/units,
// internal/yamlerr): it installs nothing. The compiler turns admitted
// reservations into policed entries (compiler.WithReservations) and the
// controller keeps them as intent.
package admission
