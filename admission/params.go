package admission

import (
	"time"

	"github.com/p4qos/p4qos/topo"
)

// Params are the admission parameters. The zero value of a field means its
// default (DefaultParams).
type Params struct {
	// EFShare is the fraction of each link's capacity the EF queue may be
	// reserved to, 0 < EFShare ≤ 1 (default 0.5). The EF queue is the
	// strict-priority top queue, so the rest of the link is left to the
	// lower queues.
	EFShare float64
	// MaxLowPacket is the largest lower-priority packet in bytes (default
	// 1500): strict priority is non-preemptive, so an EF packet can wait
	// for one such packet already on the wire, MaxLowPacket·8/C.
	MaxLowPacket float64
	// SwitchLatency is the per-hop processing latency of a switch of each
	// target, added to each hop's service-curve latency. Defaults
	// (DefaultSwitchLatency) are placeholders to be replaced by lab
	// measurements: BMv2's in particular must be measured on the machine
	// that runs it (a software switch on a shared machine is not line-rate
	// hardware).
	SwitchLatency map[topo.Target]time.Duration
	// CLTarget is the target utilisation for controlled load (default
	// 0.9): measured load + new rate ≤ CLTarget × (capacity − EF reserved).
	CLTarget float64
	// CLWindow is the window T of the controlled-load estimator (default
	// 10s, ten rounds of the daemon's default 1s loop): the measured load
	// of a queue is the largest per-round rate of the last CLWindow
	// (WindowMax).
	CLWindow time.Duration
	// MaxPaths caps the ECMP paths considered per flow (default 64); a
	// flow with more equal-cost paths is refused, since a bound over a
	// subset of the paths the hash may choose would not be sound.
	MaxPaths int
}

// DefaultSwitchLatency: Tofino's port-to-port latency is below 1µs in
// its data sheet; the sim forwards in zero simulated time; BMv2's 1ms is a
// conservative placeholder until it is measured in the lab
// (docs/admission.md, "Parameters").
var DefaultSwitchLatency = map[topo.Target]time.Duration{
	topo.TargetTofino: time.Microsecond,
	topo.TargetSim:    0,
	topo.TargetBMv2:   time.Millisecond,
}

// DefaultParams returns the defaults.
func DefaultParams() Params {
	return Params{EFShare: 0.5, MaxLowPacket: 1500, SwitchLatency: DefaultSwitchLatency, CLTarget: 0.9, CLWindow: 10 * time.Second, MaxPaths: 64}
}

func (p Params) withDefaults() Params {
	d := DefaultParams()
	if p.EFShare == 0 {
		p.EFShare = d.EFShare
	}
	if p.MaxLowPacket == 0 {
		p.MaxLowPacket = d.MaxLowPacket
	}
	if p.SwitchLatency == nil {
		p.SwitchLatency = d.SwitchLatency
	}
	if p.CLTarget == 0 {
		p.CLTarget = d.CLTarget
	}
	if p.CLWindow == 0 {
		p.CLWindow = d.CLWindow
	}
	if p.MaxPaths == 0 {
		p.MaxPaths = d.MaxPaths
	}
	return p
}
