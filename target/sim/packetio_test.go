package sim

import (
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	p4configv1 "github.com/p4lang/p4runtime/go/p4/config/v1"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc/codes"

	"github.com/p4qos/p4qos/compiler/contract"
	"github.com/p4qos/p4qos/tables"
)

// metaID is the id of a controller header's metadata field, by name.
func metaID(t *testing.T, info *p4configv1.P4Info, header, field string) uint32 {
	t.Helper()
	for _, f := range controllerHeader(info, header).GetMetadata() {
		if f.GetName() == field {
			return f.GetId()
		}
	}
	t.Fatalf("no %s.%s in the P4Info", header, field)
	return 0
}

func probeFrame(tag byte) []byte {
	f := make([]byte, 20)
	binary.BigEndian.PutUint16(f[12:], contract.ProbeEtherType)
	f[19] = tag
	return f
}

func packetOut(t *testing.T, info *p4configv1.P4Info, port uint32, frame []byte) *p4v1.StreamMessageRequest {
	return &p4v1.StreamMessageRequest{Update: &p4v1.StreamMessageRequest_Packet{Packet: &p4v1.PacketOut{
		Payload:  frame,
		Metadata: []*p4v1.PacketMetadata{{MetadataId: metaID(t, info, contract.PacketOut, contract.MetaEgressPort), Value: []byte{byte(port)}}},
	}}}
}

// cabledPair is two sim switches with the qos pipeline, each with a primary
// stream, port 3 of a cabled to port 7 of b.
func cabledPair(t *testing.T) (a, b *harness, ca, cb *client, l *Link, info *p4configv1.P4Info) {
	info = loadP4Info(t, qosP4InfoPath)
	a, b = newHarness(t), newHarness(t, WithDeviceID(2))
	ca, cb = a.primary(1), b.primary(1)
	a.setPipeline(info, 1)
	b.setPipeline(info, 1)
	return a, b, ca, cb, Connect(a.sw, 3, b.sw, 7), info
}

// TestPacketOutCrossesCable: a probe sent out of a's port 3 arrives at b as
// a PacketIn whose ingress_port is 7; with the link down nothing arrives
// and nothing breaks; a backup's packet-out is refused with
// PERMISSION_DENIED; a packet-out without egress_port is INVALID_ARGUMENT.
func TestPacketOutCrossesCable(t *testing.T) {
	a, b, ca, cb, l, info := cabledPair(t)
	if err := ca.stream.Send(packetOut(t, info, 3, probeFrame(1))); err != nil {
		t.Fatal(err)
	}
	pi := cb.next().GetPacket()
	if pi == nil || pi.GetPayload()[19] != 1 {
		t.Fatalf("b got %v, want the probe as a PacketIn", pi)
	}
	ingress := metaID(t, info, contract.PacketIn, contract.MetaIngressPort)
	var port []byte
	for _, m := range pi.GetMetadata() {
		if m.GetMetadataId() == ingress {
			port = m.GetValue()
		}
	}
	if len(port) != 1 || port[0] != 7 {
		t.Errorf("ingress_port = %v, want [7]", port)
	}

	l.SetUp(false)
	if a.sw.PortUp(3) || b.sw.PortUp(7) || !a.sw.PortUp(1) {
		t.Errorf("PortUp(3)=%v PortUp(7)=%v PortUp(1)=%v, want false false true", a.sw.PortUp(3), b.sw.PortUp(7), a.sw.PortUp(1))
	}
	if err := ca.stream.Send(packetOut(t, info, 3, probeFrame(2))); err != nil {
		t.Fatal(err)
	}
	cb.noMessage(b)
	l.SetUp(true)
	// b sends back the other way: cables are full duplex.
	if err := cb.stream.Send(packetOut(t, info, 7, probeFrame(3))); err != nil {
		t.Fatal(err)
	}
	if pi := ca.next().GetPacket(); pi == nil || pi.GetPayload()[19] != 3 {
		t.Fatalf("a got %v, want probe 3", pi)
	}
	if st := a.sw.PacketStats(); st.Out != 2 || st.Sent != 1 || st.In != 1 {
		t.Errorf("a's packet stats %+v, want 2 out, 1 sent, 1 in", st)
	}

	backup := a.openStream()
	backup.sendArb(a.sw.DeviceID(), "", eid(0))
	backup.next() // its arbitration answer
	if err := backup.stream.Send(packetOut(t, info, 3, probeFrame(4))); err != nil {
		t.Fatal(err)
	}
	if e := backup.next().GetError(); codes.Code(e.GetCanonicalCode()) != codes.PermissionDenied || e.GetPacketOut() == nil {
		t.Errorf("backup's packet-out: %v, want PERMISSION_DENIED with the packet", e)
	}
	bad := &p4v1.StreamMessageRequest{Update: &p4v1.StreamMessageRequest_Packet{Packet: &p4v1.PacketOut{Payload: probeFrame(5)}}}
	if err := ca.stream.Send(bad); err != nil {
		t.Fatal(err)
	}
	if e := ca.next().GetError(); codes.Code(e.GetCanonicalCode()) != codes.InvalidArgument {
		t.Errorf("packet-out without egress_port: %v, want INVALID_ARGUMENT", e)
	}
}

// TestReceivePuntsOnlyProbes: a frame of another EtherType arriving at a
// port is not punted.
func TestReceivePuntsOnlyProbes(t *testing.T) {
	_, b, _, cb, _, _ := cabledPair(t)
	other := probeFrame(9)
	binary.BigEndian.PutUint16(other[12:], 0x0800)
	b.sw.Receive(7, other)
	cb.noMessage(b)
	b.sw.Receive(7, probeFrame(9))
	if pi := cb.next().GetPacket(); pi == nil {
		t.Fatal("probe not punted")
	}
	if st := b.sw.PacketStats(); st.Dropped != 1 || st.In != 1 {
		t.Errorf("stats %+v, want 1 dropped, 1 in", st)
	}
}

// TestTrafficHonoursLinkState: a flow routed to a port whose link is down
// is lost on the wire (LinkDropped, not delivered); with a group whose
// members watch their ports, the data plane moves it to the live member.
func TestTrafficHonoursLinkState(t *testing.T) {
	h, s := qosHarness(t)
	peer := newHarness(t, WithDeviceID(2))
	l4 := Connect(h.sw, 4, peer.sw, 1)
	Connect(h.sw, 5, peer.sw, 2)
	for i, port := range []int{4, 5} {
		m, err := s.ActionProfileMember(contract.ECMPSelector, uint32(i+1), nextHop(port))
		h.mustWrite(1, insert(ent(t)(m, err)))
	}
	watch := func(p byte) []byte { return []byte{p} }
	g, err := s.ActionProfileGroup(contract.ECMPSelector, 1, []tables.GroupMember{{ID: 1, Weight: 1, WatchPort: watch(4)}, {ID: 2, Weight: 1, WatchPort: watch(5)}}, contract.MaxECMPGroupLen)
	h.mustWrite(1, insert(ent(t)(g, err)))
	h.mustWrite(1, insert(te(t, s, contract.IPv4LPM, []tables.Match{tables.LPM(contract.KeyIPv4Dst, "10.0.0.0/8")}, tables.Group(1))))
	// Member 1 alone, unwatched, for 11.0.0.0/8.
	h.mustWrite(1, insert(te(t, s, contract.IPv4LPM, []tables.Match{tables.LPM(contract.KeyIPv4Dst, "11.0.0.0/8")}, tables.Member(1))))

	var flows []Flow
	for i := range 8 {
		flows = append(flows, udpFlow(fmt.Sprintf("192.168.0.%d", i+1), "10.1.1.1", 5000, 8e6, 1000))
	}
	flows = append(flows, udpFlow("192.168.1.1", "11.1.1.1", 5000, 8e6, 1000))
	if err := h.sw.SetFlows(flows); err != nil {
		t.Fatal(err)
	}
	h.sw.Advance(10 * time.Millisecond)
	onFour := 0
	for _, fs := range h.sw.FlowStats()[:8] {
		if fs.EgressPort == 4 {
			onFour++
		}
	}
	if onFour == 0 || onFour == 8 {
		t.Fatalf("%d of 8 group flows on port 4 with both links up; want them spread", onFour)
	}
	before := h.sw.FlowStats()[8].DeliveredPackets
	l4.SetUp(false)
	h.sw.Advance(10 * time.Millisecond)
	for _, fs := range h.sw.FlowStats()[:8] {
		if fs.EgressPort != 5 || fs.LinkDroppedPackets != 0 {
			t.Errorf("%s: port %d, %d lost on the wire; want port 5 (watch_port failover), none lost", fs.Flow.SrcIP, fs.EgressPort, fs.LinkDroppedPackets)
		}
	}
	single := h.sw.FlowStats()[8]
	if single.EgressPort != 4 || single.LinkDroppedPackets == 0 || single.DeliveredPackets != before || before == 0 {
		t.Errorf("flow on the dead port: port %d, %d lost, %d delivered; want port 4, losses, only the %d of the first Advance delivered",
			single.EgressPort, single.LinkDroppedPackets, single.DeliveredPackets, before)
	}
}
