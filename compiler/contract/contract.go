// Package contract names the objects of the qos pipeline (docs/pipeline.md):
// the tables, actions, action parameters, match fields, meters, counters and
// the action selector that p4src/v1model/qos.p4 and p4src/tna/qos.p4 both
// implement. The compiler, the controller, the embedded switch, the lab
// recorder and the tests address the pipeline by these names only (never by
// P4Info id), so they are spelled here and nowhere else.
//
// Names are the short forms that the tables package resolves by unique
// suffix ("classifier" for QosIngress.classifier, or pipe.QosIngress.classifier
// on Tofino).
package contract

// Tables.
const (
	Classifier   = "classifier"
	ColorAction  = "color_action"
	PHB          = "phb"
	IPv4LPM      = "ipv4_lpm"
	IPv6LPM      = "ipv6_lpm"
	ECNThreshold = "ecn_threshold"
	// Reservation polices admitted reservations (docs/admission.md) at
	// their ingress edge switch, each entry with its own direct meter.
	Reservation = "reservation"
)

// Tables lists every table of the contract.
var Tables = []string{Classifier, Reservation, ColorAction, PHB, IPv4LPM, IPv6LPM, ECNThreshold}

// Externs.
const (
	ClassMeter   = "class_meter"   // indirect meter indexed by class id
	ClassCounter = "class_counter" // egress counter indexed by class id
	QueueCounter = "queue_counter" // egress counter indexed by port*8 + queue
	ECMPSelector = "ecmp_selector" // action selector of ipv4_lpm and ipv6_lpm
	// ReservationMeter is the reservation table's direct meter (trTCM,
	// bytes): one per admitted reservation, configured from its TSpec.
	ReservationMeter = "reservation_meter"
)

// Actions.
const (
	SetClass        = "set_class"
	TrustDSCP       = "trust_dscp"
	SetDefaultClass = "set_default_class"
	RemarkDSCP      = "remark_dscp"
	Drop            = "drop"
	SetQueue        = "set_queue"
	SetNextHop      = "set_next_hop"
	SetECNThreshold = "set_ecn_threshold"
	Reserve         = "reserve" // of reservation: class, DSCP (the PHB), out-of-profile handling
)

// Match fields.
const (
	KeyIngressPort = "ingress_port"
	KeyIPVersion   = "ip_version"
	KeyIPv4Src     = "ipv4_src"
	KeyIPv4Dst     = "ipv4_dst"
	KeyIPv6Src     = "ipv6_src"
	KeyIPv6Dst     = "ipv6_dst"
	KeyIPProto     = "ip_proto"
	KeyL4SrcPort   = "l4_src_port"
	KeyL4DstPort   = "l4_dst_port"
	KeyDSCP        = "dscp"
	KeyClassID     = "class_id"
	KeyColor       = "color"
	KeyEgressPort  = "egress_port"
	KeyQueue       = "queue"
	// KeySrc and KeyDst are the reservation table's addresses: an IPv4
	// address zero-extended to 128 bits, or an IPv6 address; ip_version
	// tells them apart.
	KeySrc = "src"
	KeyDst = "dst"
)

// Action parameters.
const (
	ParamClassID   = "class_id"
	ParamDSCP      = "dscp"
	ParamQueue     = "queue"
	ParamPort      = "port"
	ParamSMAC      = "smac"
	ParamDMAC      = "dmac"
	ParamThreshold = "threshold"
	// ParamExcessDrop of reserve: 1 drops the reservation's out-of-profile
	// (not green) packets, 0 remarks them to best effort (class 0, DSCP 0).
	ParamExcessDrop = "excess_drop"
)

// Packet I/O (docs/pipeline.md, "CPU port"): the P4Info's
// controller_packet_metadata names and their metadata fields. A PacketIn
// carries the port the packet arrived on, a PacketOut the port to send it
// from; both ports are 9 bits wide.
const (
	PacketIn        = "packet_in"
	PacketOut       = "packet_out"
	MetaIngressPort = "ingress_port" // of PacketIn
	MetaEgressPort  = "egress_port"  // of PacketOut
	PortBits        = 9
)

// ProbeEtherType is the EtherType of link-liveness probes: IEEE 802 local
// experimental EtherType 1. The pipeline punts every frame with it to the
// controller as a PacketIn, before classification.
const ProbeEtherType = 0x88b5

// CPUPortBMv2 is the CPU port of the v1model program: simple_switch_grpc
// must run with --cpu-port 255. The TNA program's is 192 on Tofino 1 and 0
// on Tofino 2 (docs/pipeline.md, "CPU port").
const CPUPortBMv2 = 255

// Sizes the contract fixes.
const (
	MeterCells      = 256 // class_meter and class_counter cells: class ids 0..255
	QueuesPerPort   = 8   // queue ids 0..7; queue_counter index = port*8 + queue
	MaxECMPGroupLen = 64  // ecmp_selector max group size (sum of weights)
	// ReservationEntries is the reservation table's size: reservations
	// one ingress edge switch can police (docs/pipeline.md).
	ReservationEntries = 1024
)

// Names maps contract names to the names a target's P4Info gives the same
// objects, where the two differ; a name it does not list is the same on the
// target. Each target driver supplies its own (target.Driver.Names): on
// Tofino, bf-p4c's standard-extern P4Info names the selector's action
// profile after the TNA ActionProfile instance, ecmp_profile
// (docs/targets.md, "P4Info names").
type Names map[string]string

// Of returns the target's name for a contract name.
func (n Names) Of(name string) string {
	if v, ok := n[name]; ok {
		return v
	}
	return name
}
