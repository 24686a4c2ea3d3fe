package bmv2

import (
	"encoding/binary"
	"encoding/hex"
	"net/netip"
	"testing"
)

// The packet tests judge the switch by what these helpers build and parse,
// so the helpers are checked against independent examples first.

// TestChecksumKnownHeader uses the IPv4 header example worked in
// Wikipedia's "Internet checksum" article: 4500 0073 0000 4000 4011 ____
// c0a8 0001 c0a8 00c7. One's-complement sum of the other words:
// 4500+0073+0000+4000+4011+c0a8+0001+c0a8+00c7 = 0x2479c → 0x479c+0x2 =
// 0x479e; complement 0xb861.
func TestChecksumKnownHeader(t *testing.T) {
	hdr, _ := hex.DecodeString("450000730000400040110000c0a80001c0a800c7")
	if got := checksum(hdr, 0); got != 0xb861 {
		t.Fatalf("checksum = %#04x, want 0xb861", got)
	}
	binary.BigEndian.PutUint16(hdr[10:], 0xb861)
	if got := checksum(hdr, 0); got != 0 {
		t.Errorf("checksum over a correct header = %#04x, want 0", got)
	}
}

// l4ChecksumOK verifies the TCP/UDP checksum of a frame built by pkt.bytes.
func l4ChecksumOK(t *testing.T, frame []byte, p parsed) bool {
	t.Helper()
	off := 14
	if p.vlan != 0 {
		off = 18
	}
	var pseudo uint32
	var l4 []byte
	if p.version == 4 {
		ip := frame[off:]
		for i := 12; i < 20; i += 2 {
			pseudo += uint32(binary.BigEndian.Uint16(ip[i:]))
		}
		l4 = ip[20:]
	} else {
		ip := frame[off:]
		for i := 8; i < 40; i += 2 {
			pseudo += uint32(binary.BigEndian.Uint16(ip[i:]))
		}
		l4 = ip[40:]
	}
	pseudo += uint32(p.proto) + uint32(len(l4))
	return checksum(l4, pseudo) == 0
}

func TestBuildParseRoundTrip(t *testing.T) {
	v4s, v4d := netip.MustParseAddr("10.1.2.3"), netip.MustParseAddr("10.4.5.6")
	v6s, v6d := netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8:2::7")
	tests := []struct {
		name    string
		in      pkt
		wantLen int
	}{
		// 14 Ethernet + 20 IPv4 + 8 UDP + 10 payload
		{"IPv4 UDP", pkt{src: v4s, dst: v4d, l4: udpL4, sport: 1234, dport: 80, dscp: 46, ecn: 2, ttl: 9, id: 77, payload: 10}, 52},
		// 14 + 20 + 20 TCP
		{"IPv4 TCP", pkt{src: v4s, dst: v4d, l4: tcpL4, sport: 5, dport: 6, dscp: 10, id: 1}, 54},
		// 18 (802.1Q) + 20 + 8 + 0
		{"IPv4 UDP VLAN", pkt{vlan: 42, src: v4s, dst: v4d, l4: udpL4, sport: 1, dport: 2, id: 3}, 46},
		// 14 + 40 IPv6 + 8 UDP + 3
		{"IPv6 UDP", pkt{src: v6s, dst: v6d, l4: udpL4, sport: 9, dport: 10, dscp: 34, ecn: 1, ttl: 3, id: 500, payload: 3}, 65},
		// padded to an exact frame length
		{"IPv4 UDP frameLen", pkt{src: v4s, dst: v4d, l4: udpL4, frameLen: 500}, 500},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			frame := tc.in.bytes()
			if len(frame) != tc.wantLen {
				t.Errorf("frame length %d, want %d", len(frame), tc.wantLen)
			}
			p, err := parse(frame)
			if err != nil {
				t.Fatal(err)
			}
			wantTTL := tc.in.ttl
			if wantTTL == 0 {
				wantTTL = 64
			}
			wantVersion := 4
			if tc.in.src.Is6() {
				wantVersion = 6
			}
			if p.version != wantVersion || p.src != tc.in.src || p.dst != tc.in.dst || p.dscp != tc.in.dscp ||
				p.ecn != tc.in.ecn || p.ttl != wantTTL || p.id != tc.in.id || p.sport != tc.in.sport ||
				p.dport != tc.in.dport || p.vlan != tc.in.vlan {
				t.Errorf("parsed %+v from %+v", p, tc.in)
			}
			if p.version == 4 && !p.ipv4ChecksumOK {
				t.Errorf("IPv4 checksum wrong")
			}
			if !l4ChecksumOK(t, frame, p) {
				t.Errorf("L4 checksum wrong")
			}
		})
	}
}

// TestChiSquare checks the statistic on a hand-worked case: observed
// 260/240/250/250 against 250 each gives (100+100+0+0)/250 = 0.8.
func TestChiSquare(t *testing.T) {
	if got := chiSquare([]int{260, 240, 250, 250}, []float64{250, 250, 250, 250}); got < 0.7999 || got > 0.8001 {
		t.Errorf("chi-square = %v, want 0.8", got)
	}
}
