package sim

import (
	"encoding/binary"
	"math/big"
	"sync/atomic"

	p4configv1 "github.com/p4lang/p4runtime/go/p4/config/v1"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc/codes"

	"github.com/p4qos/p4qos/compiler/contract"
)

// Packet I/O (P4Runtime §16.1) and cables between sim switches.
//
// The sim has no packet parser: what it does with frames is what the qos
// pipeline's CPU port does (docs/pipeline.md, "CPU port"). A PacketOut
// leaves by its packet_out.egress_port; when a Link cables that port and the
// link is up, the frame arrives at the peer's port. A frame arriving at a
// port is punted to the controller (a PacketIn with packet_in.ingress_port,
// sent to the primary of every role) when its EtherType is the probe
// EtherType, and dropped otherwise. Both need a pipeline whose P4Info has
// the packet_in / packet_out controller headers.

// Link is a cable between two ports of two sim switches. It starts up.
type Link struct {
	a, b   *Switch
	ap, bp uint32
	up     atomic.Bool
}

// Connect cables port ap of a to port bp of b (replacing what either port
// was cabled to) and returns the link, up.
func Connect(a *Switch, ap uint32, b *Switch, bp uint32) *Link {
	l := &Link{a: a, b: b, ap: ap, bp: bp}
	l.up.Store(true)
	for _, end := range []struct {
		s    *Switch
		port uint32
	}{{a, ap}, {b, bp}} {
		end.s.mu.Lock()
		if end.s.cables == nil {
			end.s.cables = map[uint32]*Link{}
		}
		end.s.cables[end.port] = l
		end.s.mu.Unlock()
	}
	return l
}

// SetUp takes the link up or down, as pulling or plugging the cable would:
// while down no frame crosses it and the traffic model delivers nothing on
// its ports; group members that watch either port are not chosen.
func (l *Link) SetUp(up bool) { l.up.Store(up) }

// Cable returns the link on port, or nil when the port is not cabled.
func (s *Switch) Cable(port uint32) *Link {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.cables[port]
}

// Up reports whether the link is up.
func (l *Link) Up() bool { return l.up.Load() }

// peer returns the switch and port at the other end from s's port.
func (l *Link) peer(s *Switch, port uint32) (*Switch, uint32) {
	if l.a == s && l.ap == port {
		return l.b, l.bp
	}
	return l.a, l.ap
}

// PortUp reports whether a port can carry traffic: false only when a Link
// cables it and that link is down (an uncabled port is an access port,
// always up). Call with mu held.
func (s *Switch) portUpLocked(port uint32) bool {
	l := s.cables[port]
	return l == nil || l.Up()
}

// PortUp reports whether the port carries traffic (see Link.SetUp).
func (s *Switch) PortUp(port uint32) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.portUpLocked(port)
}

// PacketStats counts the switch's packet I/O since it started.
type PacketStats struct {
	// Out: packet-outs accepted from the primary; Sent: of those, frames
	// that crossed an up link.
	Out, Sent uint64
	// In: packet-ins sent to controllers; Dropped: frames that arrived at
	// a port and were neither punted nor delivered (not a probe, no
	// pipeline, or a controller's stream queue was full).
	In, Dropped uint64
}

type packetCounters struct{ out, sent, in, dropped atomic.Uint64 }

// PacketStats returns the packet I/O counts.
func (s *Switch) PacketStats() PacketStats {
	return PacketStats{Out: s.packets.out.Load(), Sent: s.packets.sent.Load(), In: s.packets.in.Load(), Dropped: s.packets.dropped.Load()}
}

func packetOutError(po *p4v1.PacketOut, code codes.Code, msg string) *p4v1.StreamMessageResponse {
	return &p4v1.StreamMessageResponse{Update: &p4v1.StreamMessageResponse_Error{Error: &p4v1.StreamError{
		CanonicalCode: int32(code), Message: msg, Space: errorSpace,
		Details: &p4v1.StreamError_PacketOut{PacketOut: &p4v1.PacketOutError{PacketOut: po}},
	}}}
}

// controllerHeader returns the P4Info's controller_packet_metadata named name.
func controllerHeader(info *p4configv1.P4Info, name string) *p4configv1.ControllerPacketMetadata {
	for _, c := range info.GetControllerPacketMetadata() {
		if c.GetPreamble().GetName() == name {
			return c
		}
	}
	return nil
}

// packetOut handles a PacketOut from st: checked under mu, delivered to the
// peer after mu is released (the peer takes its own lock).
func (s *Switch) packetOut(st *stream, po *p4v1.PacketOut) {
	s.mu.RLock()
	peer, port, errMsg := s.routePacketOut(st, po)
	s.mu.RUnlock()
	if errMsg != nil {
		st.send(errMsg)
		return
	}
	s.packets.out.Add(1)
	if peer != nil {
		s.packets.sent.Add(1)
		peer.Receive(port, po.GetPayload())
	}
}

// routePacketOut validates po and finds where it goes: the peer switch and
// port, or nil when the port is uncabled or its link down (the frame is
// lost, as on a wire). Called with mu held.
func (s *Switch) routePacketOut(st *stream, po *p4v1.PacketOut) (*Switch, uint32, *p4v1.StreamMessageResponse) {
	if rs := s.roles[st.role]; !st.arbitrated || rs == nil || rs.primary != st {
		return nil, 0, packetOutError(po, codes.PermissionDenied, "only the primary can send packets")
	}
	if s.dp == nil {
		return nil, 0, packetOutError(po, codes.FailedPrecondition, "no forwarding pipeline config")
	}
	hdr := controllerHeader(s.dp.config.GetP4Info(), contract.PacketOut)
	if hdr == nil {
		return nil, 0, packetOutError(po, codes.Unimplemented, "the pipeline has no packet_out controller header")
	}
	var port uint64
	found := false
	for _, m := range po.GetMetadata() {
		var md *p4configv1.ControllerPacketMetadata_Metadata
		for _, f := range hdr.GetMetadata() {
			if f.GetId() == m.GetMetadataId() {
				md = f
			}
		}
		if md == nil {
			return nil, 0, packetOutError(po, codes.InvalidArgument, "unknown packet_out metadata id")
		}
		v := new(big.Int).SetBytes(m.GetValue())
		if v.BitLen() > int(md.GetBitwidth()) {
			return nil, 0, packetOutError(po, codes.InvalidArgument, "packet_out metadata "+md.GetName()+" wider than its bitwidth")
		}
		if md.GetName() == contract.MetaEgressPort {
			port, found = v.Uint64(), true
		}
	}
	if !found {
		return nil, 0, packetOutError(po, codes.InvalidArgument, "packet_out without "+contract.MetaEgressPort)
	}
	l := s.cables[uint32(port)]
	if l == nil || !l.Up() {
		return nil, 0, nil
	}
	peer, pp := l.peer(s, uint32(port))
	return peer, pp, nil
}

// Receive is a frame arriving at port from the wire (a test hook, and how
// a cabled peer's packet-outs arrive): a probe is punted to the primary
// controller of every role as a PacketIn; anything else is dropped.
func (s *Switch) Receive(port uint32, frame []byte) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var hdr *p4configv1.ControllerPacketMetadata
	if s.dp != nil {
		hdr = controllerHeader(s.dp.config.GetP4Info(), contract.PacketIn)
	}
	if hdr == nil || len(frame) < 14 || binary.BigEndian.Uint16(frame[12:14]) != contract.ProbeEtherType || !s.portUpLocked(port) {
		s.packets.dropped.Add(1)
		return
	}
	pi := &p4v1.PacketIn{Payload: append([]byte(nil), frame...)}
	for _, f := range hdr.GetMetadata() {
		v := []byte{0}
		if f.GetName() == contract.MetaIngressPort {
			v = big.NewInt(int64(port)).Bytes()
			if len(v) == 0 {
				v = []byte{0}
			}
		}
		pi.Metadata = append(pi.Metadata, &p4v1.PacketMetadata{MetadataId: f.GetId(), Value: v})
	}
	msg := &p4v1.StreamMessageResponse{Update: &p4v1.StreamMessageResponse_Packet{Packet: pi}}
	for _, rs := range s.roles {
		if rs.primary == nil {
			continue
		}
		// A full queue loses the packet, not the stream.
		select {
		case rs.primary.out <- msg:
			s.packets.in.Add(1)
		default:
			s.packets.dropped.Add(1)
		}
	}
}

// dropPortBMv2 is v1model's drop port (egress_spec 511), the highest
// number of the pipeline's port width: not a port.
const dropPortBMv2 = 1<<contract.PortBits - 1

// checkWatch applies §9.2.2 to a group member's watch port: "The value
// must be empty or the SDN port of an existing port on the device,
// otherwise the server must return INVALID_ARGUMENT. If the target does
// not support using the SDN port as a watch port ... UNIMPLEMENTED." The
// sim's ports are BMv2's: every number of the pipeline's 9-bit port width
// but the drop port 511 (no port list to consult: an uncabled port is an
// access port). The CPU port exists but has no link to watch.
func checkWatch(profile string, gm *p4v1.ActionProfileGroup_Member) error {
	var port *big.Int
	switch w := gm.GetWatchKind().(type) {
	case *p4v1.ActionProfileGroup_Member_WatchPort:
		if len(w.WatchPort) == 0 {
			return nil
		}
		port = new(big.Int).SetBytes(w.WatchPort)
	case *p4v1.ActionProfileGroup_Member_Watch:
		port = big.NewInt(int64(w.Watch))
	default:
		return nil
	}
	switch {
	case port.Sign() < 0 || port.Cmp(big.NewInt(dropPortBMv2)) >= 0:
		return statusf(codes.InvalidArgument, "%q: member %d watches port %s, which the switch does not have (ports 0..%d)", profile, gm.GetMemberId(), port, dropPortBMv2-1)
	case port.Int64() == contract.CPUPortBMv2:
		return statusf(codes.Unimplemented, "%q: member %d watches the CPU port %d, which has no link state to watch", profile, gm.GetMemberId(), contract.CPUPortBMv2)
	}
	return nil
}

// memberLive says whether a group member may be chosen: its watch port
// (§9.2.3; the deprecated int32 watch too) is up. Called with mu held.
func (s *Switch) memberLive(gm *p4v1.ActionProfileGroup_Member) bool {
	switch w := gm.GetWatchKind().(type) {
	case *p4v1.ActionProfileGroup_Member_WatchPort:
		v := new(big.Int).SetBytes(w.WatchPort)
		return !v.IsUint64() || v.Uint64() > 1<<32-1 || s.portUpLocked(uint32(v.Uint64()))
	case *p4v1.ActionProfileGroup_Member_Watch:
		return s.portUpLocked(uint32(w.Watch))
	}
	return true
}
