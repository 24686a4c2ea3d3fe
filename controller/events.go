package controller

import (
	"time"

	"github.com/p4qos/p4qos/controlplane"
)

// EventKind says what happened.
type EventKind string

// Event kinds.
const (
	// ReloadAccepted: a new policy and/or topology is now the intent.
	ReloadAccepted EventKind = "reload-accepted"
	// ReloadRejected: a new policy or topology was refused (Err says why);
	// the running intent stays.
	ReloadRejected EventKind = "reload-rejected"
	// SwitchConverged: a reconcile left the switch holding the intent.
	SwitchConverged EventKind = "switch-converged"
	// SwitchFailed: a reconcile failed (Err); it is retried.
	SwitchFailed EventKind = "switch-failed"
	// DriftRepaired: a converged switch had changed behind the controller's
	// back (Count entities or queue parameters) and was repaired.
	DriftRepaired EventKind = "drift-repaired"
	// QueuesApplied: queue settings were written to a switch (Count).
	QueuesApplied EventKind = "queues-applied"
	// AllocationChanged: the closed loop wrote new meter rates or WCMP
	// weights (Count entities on Switch).
	AllocationChanged EventKind = "allocation-changed"
	// NotPrimary: the closed loop had something to write to Switch but this
	// controller is not its primary, so it wrote nothing.
	NotPrimary EventKind = "not-primary"

	// Cluster mode (docs/controller.md "Cluster"):

	// MastershipAcquired: this instance became Switch's master (What: its
	// fencing election id).
	MastershipAcquired EventKind = "mastership-acquired"
	// MastershipReleased: this instance gave Switch up (What: why:
	// rebalance, lease lost, taken over, fenced, shutdown).
	MastershipReleased EventKind = "mastership-released"
	// WriteFenced: Switch refused Count writes with PERMISSION_DENIED
	// because a newer master had taken over.
	WriteFenced EventKind = "write-fenced"
	// IntentApplied: intent revision Count from the store is the running
	// intent (What: its note).
	IntentApplied EventKind = "intent-applied"
	// ClusterJoined: registered with a new lease (What: the backup id).
	ClusterJoined EventKind = "cluster-joined"
	// ClusterUnreachable: etcd could not be reached or the lease was lost
	// (Err); this instance masters nothing until it is back.
	ClusterUnreachable EventKind = "cluster-unreachable"
	// LinkDown: link liveness took the link What out of the compiled
	// topology (probes unanswered); LinkUp: it answered again and is back.
	// Err is set when the recompilation failed and the intent stayed.
	LinkDown EventKind = "link-down"
	LinkUp   EventKind = "link-up"
	// LinkUnknown: a probe arrived over a link (What, from-to) that the
	// topology lacks; reported once, never used.
	LinkUnknown EventKind = "link-unknown"

	// Admission control (docs/admission.md); What is the reservation id.

	// ReservationAdmitted / ReservationReleased: a dynamic reservation
	// entered or left the intent through the API.
	ReservationAdmitted EventKind = "reservation-admitted"
	ReservationReleased EventKind = "reservation-released"
	// ReservationBroken: a topology change (a link failure, a new
	// topology file) made the reservation fail admission (Err says where);
	// ReservationRestored: it passes again.
	ReservationBroken   EventKind = "reservation-broken"
	ReservationRestored EventKind = "reservation-restored"
)

// Event is something the controller did or saw. Tests and status views
// observe the controller through events rather than its log.
type Event struct {
	Kind   EventKind
	Time   time.Time
	Switch string // empty for fabric-wide events
	// What is "policy", "topology" or both ("policy+topology") for
	// reload events, the link's name for link events.
	What  string
	Count int
	Err   error
	// Stats are the reconcile's figures (SwitchConverged, SwitchFailed,
	// DriftRepaired, QueuesApplied).
	Stats controlplane.ReconcileStats
}
