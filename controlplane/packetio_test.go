package controlplane

import (
	"context"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"

	"github.com/p4qos/p4qos/compiler/contract"
	"github.com/p4qos/p4qos/target/sim"
)

func TestPacketCodec(t *testing.T) {
	c, err := NewPacketCodec(qosSchema(t).P4Info())
	if err != nil {
		t.Fatal(err)
	}
	po, err := c.EncodeOut(Packet{Payload: []byte{1}, Metadata: map[string]uint64{contract.MetaEgressPort: 300}})
	if err != nil {
		t.Fatal(err)
	}
	// Every field is sent, padding included; 300 is 0x012c, 0 is one zero byte.
	if len(po.GetMetadata()) != 2 {
		t.Fatalf("metadata %v, want 2 fields", po.GetMetadata())
	}
	for _, m := range po.GetMetadata() {
		if v := m.GetValue(); !(len(v) == 2 && v[0] == 1 && v[1] == 0x2c) && !(len(v) == 1 && v[0] == 0) {
			t.Errorf("metadata %d = %x", m.GetMetadataId(), v)
		}
	}
	var me *PacketMetadataError
	if _, err := c.EncodeOut(Packet{Metadata: map[string]uint64{contract.MetaEgressPort: 512}}); !errors.As(err, &me) || me.Field != contract.MetaEgressPort {
		t.Errorf("port 512 in 9 bits: %v, want a PacketMetadataError on egress_port", err)
	}
	if _, err := c.EncodeOut(Packet{Metadata: map[string]uint64{"vlan": 1}}); !errors.As(err, &me) || me.Field != "vlan" {
		t.Errorf("unknown field: %v, want a PacketMetadataError on vlan", err)
	}
	if _, err := c.DecodeIn(&p4v1.PacketIn{Metadata: []*p4v1.PacketMetadata{{MetadataId: 99, Value: []byte{1}}}}); !errors.As(err, &me) {
		t.Errorf("unknown id: %v, want a PacketMetadataError", err)
	}
	if _, err := NewPacketCodec(nil); !errors.Is(err, ErrNoPacketIO) {
		t.Errorf("no P4Info: %v, want ErrNoPacketIO", err)
	}
}

// TestSessionPacketIO: a primary session's packet-out leaves a sim switch by
// the port it names and arrives, across a cable, at the neighbour's
// session as a PacketIn carrying the neighbour's ingress port; a backup
// sends nothing (ErrNotPrimary); the rate limit refuses what exceeds it.
func TestSessionPacketIO(t *testing.T) {
	swA, addrA := startSim(t)
	swB, addrB := startSim(t, sim.WithDeviceID(2))
	sim.Connect(swA, 3, swB, 7)
	schema := qosSchema(t)
	codec, err := NewPacketCodec(schema.P4Info())
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan Packet, 4)
	onPacket := func(sw string, pi *p4v1.PacketIn) {
		p, err := codec.DecodeIn(pi)
		if err != nil {
			t.Errorf("decode: %v", err)
		}
		got <- p
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	open := func(name, addr string, dev uint64, opts ...SessionOption) *Session {
		s, err := Dial(SwitchConfig{Name: name, Address: addr, DeviceID: dev}, opts...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		if err := s.WaitPrimary(ctx); err != nil {
			t.Fatal(err)
		}
		p := must(NewPipeline(schema.P4Info(), SimTarget()))
		if err := s.PushPipeline(ctx, p); err != nil {
			t.Fatal(err)
		}
		return s
	}
	a := open("a", addrA, 1, WithPacketOutRate(1, 2))
	open("b", addrB, 2, WithPacketIn(onPacket))

	frame := make([]byte, 20)
	binary.BigEndian.PutUint16(frame[12:], contract.ProbeEtherType)
	po := must(codec.EncodeOut(Packet{Payload: frame, Metadata: map[string]uint64{contract.MetaEgressPort: 3}}))
	if err := a.SendPacketOut(ctx, po); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-got:
		if p.Metadata[contract.MetaIngressPort] != 7 {
			t.Errorf("packet-in metadata %v, want ingress_port 7", p.Metadata)
		}
	case <-ctx.Done():
		t.Fatal("no packet-in at the neighbour")
	}
	// Burst 2: the second goes, the third is refused.
	if err := a.SendPacketOut(ctx, po); err != nil {
		t.Fatal(err)
	}
	if err := a.SendPacketOut(ctx, po); !errors.Is(err, ErrPacketRate) {
		t.Errorf("third packet-out within the burst: %v, want ErrPacketRate", err)
	}

	backup, err := Dial(SwitchConfig{Name: "a", Address: addrA, DeviceID: 1}, WithElectionID(ElectionID{Low: 0}))
	if err != nil {
		t.Fatal(err)
	}
	defer backup.Close()
	if err := backup.WaitFor(ctx, func(st State) bool { return st.Connected }); err != nil {
		t.Fatal(err)
	}
	if err := backup.SendPacketOut(ctx, po); !errors.Is(err, ErrNotPrimary) {
		t.Errorf("backup's packet-out: %v, want ErrNotPrimary", err)
	}
}
