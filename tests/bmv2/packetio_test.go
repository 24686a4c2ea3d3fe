package bmv2

import (
	"bytes"
	"context"
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc"

	"github.com/p4qos/p4qos/compiler/contract"
	"github.com/p4qos/p4qos/controlplane"
)

// TestPacketIO checks the CPU port of the v1model program on BMv2
// (docs/pipeline.md, "CPU port") through the controlplane's packet I/O: a
// PacketOut naming port 2 leaves port 2 byte for byte, untouched by the
// qos pipeline (no route is installed, so a routed packet would be
// dropped, and its TTL is 1); a frame with the probe EtherType arriving on
// port 1 reaches the controller as a PacketIn with ingress_port 1 and
// leaves no port.
func TestPacketIO(t *testing.T) {
	b := newBed(t, 2)
	got := make(chan *p4v1.PacketIn, 8)
	s, err := controlplane.Dial(controlplane.SwitchConfig{Name: "bmv2", Address: b.sw.Addr(), DeviceID: deviceID},
		controlplane.WithElectionID(controlplane.ElectionID{Low: 2}),
		controlplane.WithDialOptions(grpc.WithContextDialer(b.sw.Dial)),
		controlplane.WithPacketIn(func(_ string, p *p4v1.PacketIn) { got <- p }))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := s.WaitPrimary(ctx); err != nil {
		t.Fatal(err)
	}
	codec, err := controlplane.NewPacketCodec(b.schema.P4Info())
	if err != nil {
		t.Fatal(err)
	}

	out := pkt{src: netip.MustParseAddr("10.0.0.1"), dst: netip.MustParseAddr("10.9.9.9"), ttl: 1, l4: udpL4, sport: 1, dport: 2, dscp: 46, payload: 20}.bytes()
	po, err := codec.EncodeOut(controlplane.Packet{Payload: out, Metadata: map[string]uint64{contract.MetaEgressPort: 2}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SendPacketOut(ctx, po); err != nil {
		t.Fatal(err)
	}
	f, err := b.sw.Port(2).Recv(10 * time.Second)
	if err != nil {
		t.Fatalf("packet-out to port 2 did not leave port 2: %v", err)
	}
	if !bytes.Equal(f, out) {
		t.Errorf("packet-out left port 2 changed:\n got  %x\n want %x", f, out)
	}

	probe := append(append(append([]byte{}, switchMAC...), hostMAC...), 0, 0)
	binary.BigEndian.PutUint16(probe[12:], contract.ProbeEtherType)
	probe = append(probe, []byte("p4qos probe test, padded to 60 bytes .....................")[:46]...)
	if err := b.sw.Port(1).Send(probe); err != nil {
		t.Fatal(err)
	}
	select {
	case pi := <-got:
		p, err := codec.DecodeIn(pi)
		if err != nil {
			t.Fatal(err)
		}
		if p.Metadata[contract.MetaIngressPort] != 1 || !bytes.Equal(p.Payload, probe) {
			t.Errorf("packet-in: metadata %v payload %x; want ingress_port 1 and the probe %x", p.Metadata, p.Payload, probe)
		}
	case <-ctx.Done():
		t.Fatal("probe on port 1 did not reach the controller")
	}
	if f, err := b.sw.Port(2).Recv(300 * time.Millisecond); err == nil && f != nil {
		t.Errorf("the probe also left port 2: %x", f)
	}
}
