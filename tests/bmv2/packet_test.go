package bmv2

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// Just enough packet building and parsing for the tests: Ethernet, optional
// 802.1Q, IPv4 (no options), IPv6, TCP, UDP. Field names follow
// p4src/include/headers.p4.

var (
	hostMAC   = []byte{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}
	switchMAC = []byte{0x02, 0x00, 0x00, 0x00, 0xff, 0x01}
)

type l4Kind int

const (
	noL4 l4Kind = iota
	udpL4
	tcpL4
)

// pkt describes a frame to send.
type pkt struct {
	vlan     int // 0: untagged, else VID
	src, dst netip.Addr
	dscp     uint8
	ecn      uint8
	ttl      uint8 // IPv4 TTL or IPv6 hop limit; 0 means 64
	id       uint16
	l4       l4Kind
	proto    uint8 // IP protocol when l4 == noL4
	sport    uint16
	dport    uint16
	payload  int // payload bytes after the L4 header
	frameLen int // if > 0, pad the payload so the frame has this length
}

func checksum(b []byte, initial uint32) uint16 {
	sum := initial
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}

func (p pkt) bytes() []byte {
	ttl := p.ttl
	if ttl == 0 {
		ttl = 64
	}
	var l4 []byte
	proto := p.proto
	switch p.l4 {
	case udpL4:
		l4 = make([]byte, 8)
		proto = 17
	case tcpL4:
		l4 = make([]byte, 20)
		l4[12] = 5 << 4 // data offset
		l4[13] = 0x10   // ACK
		binary.BigEndian.PutUint16(l4[14:], 65535)
		proto = 6
	}
	if len(l4) > 0 {
		binary.BigEndian.PutUint16(l4[0:], p.sport)
		binary.BigEndian.PutUint16(l4[2:], p.dport)
	}
	ipHdrLen := 20
	if p.src.Is6() {
		ipHdrLen = 40
	}
	ethLen := 14
	if p.vlan != 0 {
		ethLen = 18
	}
	payload := p.payload
	if p.frameLen > 0 {
		payload = max(0, p.frameLen-ethLen-ipHdrLen-len(l4))
	}
	l4 = append(l4, make([]byte, payload)...)
	for i := len(l4) - payload; i < len(l4); i++ {
		l4[i] = byte(i)
	}

	var ip []byte
	var pseudo uint32
	if p.src.Is4() {
		ip = make([]byte, 20)
		ip[0] = 0x45
		ip[1] = p.dscp<<2 | p.ecn&3
		binary.BigEndian.PutUint16(ip[2:], uint16(20+len(l4)))
		binary.BigEndian.PutUint16(ip[4:], p.id)
		ip[8] = ttl
		ip[9] = proto
		s, d := p.src.As4(), p.dst.As4()
		copy(ip[12:], s[:])
		copy(ip[16:], d[:])
		binary.BigEndian.PutUint16(ip[10:], checksum(ip, 0))
		for _, a := range [][]byte{s[:], d[:]} {
			pseudo += uint32(binary.BigEndian.Uint16(a)) + uint32(binary.BigEndian.Uint16(a[2:]))
		}
	} else {
		ip = make([]byte, 40)
		binary.BigEndian.PutUint32(ip[0:], 6<<28|uint32(p.dscp)<<22|uint32(p.ecn&3)<<20|uint32(p.id))
		binary.BigEndian.PutUint16(ip[4:], uint16(len(l4)))
		ip[6] = proto
		ip[7] = ttl
		s, d := p.src.As16(), p.dst.As16()
		copy(ip[8:], s[:])
		copy(ip[24:], d[:])
		for _, a := range [][]byte{s[:], d[:]} {
			for i := 0; i < 16; i += 2 {
				pseudo += uint32(binary.BigEndian.Uint16(a[i:]))
			}
		}
	}
	if p.l4 != noL4 {
		pseudo += uint32(proto) + uint32(len(l4))
		off := 6
		if p.l4 == tcpL4 {
			off = 16
		}
		binary.BigEndian.PutUint16(l4[off:], checksum(l4, pseudo))
	}

	frame := append([]byte{}, switchMAC...)
	frame = append(frame, hostMAC...)
	etype := uint16(0x0800)
	if p.src.Is6() {
		etype = 0x86dd
	}
	if p.vlan != 0 {
		frame = binary.BigEndian.AppendUint16(frame, 0x8100)
		frame = binary.BigEndian.AppendUint16(frame, uint16(p.vlan&0xfff))
	}
	frame = binary.BigEndian.AppendUint16(frame, etype)
	frame = append(frame, ip...)
	return append(frame, l4...)
}

// parsed is what the tests look at in a received frame.
type parsed struct {
	srcMAC, dstMAC []byte
	vlan           int
	version        int
	dscp, ecn      uint8
	ttl            uint8
	id             uint16 // IPv4 identification, or IPv6 flow label (low 16 bits)
	src, dst       netip.Addr
	proto          uint8
	sport, dport   uint16
	ipv4ChecksumOK bool
	length         int
}

func parse(frame []byte) (parsed, error) {
	var p parsed
	p.length = len(frame)
	if len(frame) < 14 {
		return p, fmt.Errorf("runt frame of %d bytes", len(frame))
	}
	p.dstMAC, p.srcMAC = frame[0:6], frame[6:12]
	etype := binary.BigEndian.Uint16(frame[12:])
	rest := frame[14:]
	if etype == 0x8100 {
		if len(rest) < 4 {
			return p, fmt.Errorf("truncated VLAN tag")
		}
		p.vlan = int(binary.BigEndian.Uint16(rest) & 0xfff)
		etype = binary.BigEndian.Uint16(rest[2:])
		rest = rest[4:]
	}
	var l4 []byte
	switch etype {
	case 0x0800:
		if len(rest) < 20 {
			return p, fmt.Errorf("truncated IPv4 header")
		}
		p.version = 4
		p.dscp, p.ecn = rest[1]>>2, rest[1]&3
		p.id = binary.BigEndian.Uint16(rest[4:])
		p.ttl, p.proto = rest[8], rest[9]
		p.src = netip.AddrFrom4([4]byte(rest[12:16]))
		p.dst = netip.AddrFrom4([4]byte(rest[16:20]))
		p.ipv4ChecksumOK = checksum(rest[:20], 0) == 0
		l4 = rest[20:]
	case 0x86dd:
		if len(rest) < 40 {
			return p, fmt.Errorf("truncated IPv6 header")
		}
		p.version = 6
		w := binary.BigEndian.Uint32(rest)
		p.dscp, p.ecn = uint8(w>>22)&0x3f, uint8(w>>20)&3
		p.id = uint16(w)
		p.proto, p.ttl = rest[6], rest[7]
		p.src = netip.AddrFrom16([16]byte(rest[8:24]))
		p.dst = netip.AddrFrom16([16]byte(rest[24:40]))
		l4 = rest[40:]
	default:
		return p, fmt.Errorf("ethertype %#04x", etype)
	}
	if (p.proto == 6 || p.proto == 17) && len(l4) >= 4 {
		p.sport = binary.BigEndian.Uint16(l4)
		p.dport = binary.BigEndian.Uint16(l4[2:])
	}
	return p, nil
}
