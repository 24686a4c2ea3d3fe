package bmv2diff

import (
	"encoding/binary"
	"net/netip"
	"testing"
)

// The namespace, veth and AF_PACKET machinery is tested in
// tests/internal/bmv2env (TestHarness); this checks the probe frames the
// differential test sends and reads the DSCP of.

// TestProbeFrame builds a UDP probe with 10 payload bytes: 14 Ethernet +
// 20 IPv4 + 8 UDP + 10 = 52 bytes, IPv4 total length 38, UDP length 18.
func TestProbeFrame(t *testing.T) {
	p := probePacket{src: netip.MustParseAddr("10.1.0.1"), dst: netip.MustParseAddr("10.2.0.1"), proto: 17, sport: 1, dport: 2, dscp: 46, payload: 10}
	frame := p.frame()
	if len(frame) != 52 {
		t.Fatalf("frame is %d bytes, want 52", len(frame))
	}
	if got := binary.BigEndian.Uint16(frame[16:]); got != 38 {
		t.Errorf("IPv4 total length %d, want 38", got)
	}
	if got := binary.BigEndian.Uint16(frame[38:]); got != 18 {
		t.Errorf("UDP length %d, want 18", got)
	}
	if d, err := frameDSCP(frame); err != nil || d != 46 {
		t.Errorf("DSCP %d, %v; want 46", d, err)
	}
	if ipChecksum(frame[14:34]) != 0 {
		t.Errorf("IPv4 header checksum does not verify")
	}
	if _, err := frameDSCP(frame[:20]); err == nil {
		t.Errorf("frameDSCP accepted a truncated frame")
	}
}
