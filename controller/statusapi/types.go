package statusapi

import "time"

// Version is the API version in every path (/api/v1/...) and document.
const Version = "v1"

// Stream states of a switch.
const (
	StreamPrimary = "primary" // arbitrated, this controller writes
	StreamBackup  = "backup"  // arbitrated, another controller is primary
	StreamDown    = "down"    // no arbitrated stream
)

// Source is what the API serves: the controller implements it.
type Source interface {
	// Status is the whole document (switches and allocation included).
	Status() Status
}

// Status is /api/v1/status.
type Status struct {
	APIVersion string `json:"api_version"`
	Build      Build  `json:"build"`
	// Ready: every switch converged with the intent at least once.
	Ready bool `json:"ready"`
	// IntentRevision counts the intents the controller has run: 1 for the
	// policy it started with, +1 per accepted reload.
	IntentRevision uint64       `json:"intent_revision"`
	Started        time.Time    `json:"started"`
	Switches       []Switch     `json:"switches"`
	Allocation     Allocation   `json:"allocation"`
	Classes        []ClassShare `json:"classes"`
}

// Build identifies the running binary.
type Build struct {
	Version   string `json:"version"`
	Revision  string `json:"revision"`
	GoVersion string `json:"go_version"`
}

// Switch is one switch's synchronisation state (/api/v1/switches).
type Switch struct {
	Name     string `json:"name"`
	Address  string `json:"address"`
	DeviceID uint64 `json:"device_id"`
	// Stream is primary, backup or down.
	Stream string `json:"stream"`
	// PipelineCookie is the intent's pipeline cookie (hex), empty when the
	// controller leaves the pipeline alone.
	PipelineCookie string `json:"pipeline_cookie,omitempty"`
	// Converged: the switch held the intent after its last reconcile;
	// ConvergedOnce: it did at least once (what /readyz waits for).
	Converged     bool `json:"converged"`
	ConvergedOnce bool `json:"converged_once"`
	// LastReconcile is the end of the latest reconcile, nil before the first.
	LastReconcile *time.Time `json:"last_reconcile,omitempty"`
	Reconciles    int        `json:"reconciles"`
	// DriftRepaired counts entities and queue parameters found changed
	// behind the controller's back and put back.
	DriftRepaired int `json:"drift_repaired"`
	// ReconcileErrors counts failed reconciles; LastError is the latest.
	ReconcileErrors int    `json:"reconcile_errors"`
	LastError       string `json:"last_error,omitempty"`
}

// Allocation is /api/v1/allocation: the closed loop's latest round.
type Allocation struct {
	IntentRevision uint64 `json:"intent_revision"`
	// Time is the round's (simulated in the demo), nil before the first.
	Time       *time.Time  `json:"time,omitempty"`
	Rounds     int         `json:"rounds"`
	FlowGroups []FlowGroup `json:"flow_groups"`
	Links      []Link      `json:"links"`
	// History is the allocation of the latest rounds that allocated
	// (at most MaxHistory), oldest first: the dashboard's chart.
	History []Round `json:"history"`
}

// MaxHistory bounds Allocation.History.
const MaxHistory = 120

// Round is one closed-loop round's allocation per flow group (bits/s).
type Round struct {
	Round      int                `json:"round"`
	Time       time.Time          `json:"time"`
	Allocation map[string]float64 `json:"allocation_bps"`
}

// FlowGroup is one flow group's share. Rates are bits per second.
type FlowGroup struct {
	Name   string  `json:"name"`
	Tenant string  `json:"tenant"`
	Usage  float64 `json:"usage_bps"`
	Demand float64 `json:"demand_bps"`
	// Allocation is what the allocator gave; Enforced the meter rate (CIR)
	// installed for the flow group's class on its ingress switch.
	Allocation float64 `json:"allocation_bps"`
	Enforced   float64 `json:"enforced_bps"`
	// Bottleneck is the link that limits the flow group ("demand" when its
	// demand is met, "" when unknown).
	Bottleneck string `json:"bottleneck,omitempty"`
}

// Link is one topology link with its measured load (egress bytes of the
// switch port that feeds it, from queue_counter).
type Link struct {
	Name     string  `json:"name"`
	A        string  `json:"a"`
	B        string  `json:"b"`
	Capacity float64 `json:"capacity_bps"`
	Load     float64 `json:"load_bps"`
	Down     bool    `json:"down"`
}

// ClassShare is a traffic class's meter colour counts (packets, cumulative
// over the fabric), where the target reports them.
type ClassShare struct {
	Class  string `json:"class"`
	Green  uint64 `json:"green_packets"`
	Yellow uint64 `json:"yellow_packets"`
	Red    uint64 `json:"red_packets"`
}

// Event is one controller event on /api/v1/events (SSE event "controller").
type Event struct {
	Kind   string    `json:"kind"`
	Time   time.Time `json:"time"`
	Switch string    `json:"switch,omitempty"`
	What   string    `json:"what,omitempty"`
	Count  int       `json:"count,omitempty"`
	Error  string    `json:"error,omitempty"`
}

// Error is every error response's body.
type Error struct {
	Error  string `json:"error"`
	Status int    `json:"status"`
}
