package bmv2diff

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// Probe frames: Ethernet + IPv4 + UDP/TCP, just what the probes need.

var (
	hostMAC   = []byte{0x02, 0, 0, 0, 0, 0x01}
	switchMAC = []byte{0x02, 0, 0, 0, 0xff, 0x01}
)

type probePacket struct {
	src, dst     netip.Addr
	proto        uint8 // 6 or 17
	sport, dport uint16
	dscp         uint8
	payload      int
}

func ipChecksum(b []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}

func (p probePacket) frame() []byte {
	var l4 []byte
	if p.proto == 6 {
		l4 = make([]byte, 20)
		l4[12] = 5 << 4
		l4[13] = 0x10
	} else {
		l4 = make([]byte, 8)
		binary.BigEndian.PutUint16(l4[4:], uint16(8+p.payload))
	}
	binary.BigEndian.PutUint16(l4[0:], p.sport)
	binary.BigEndian.PutUint16(l4[2:], p.dport)
	l4 = append(l4, make([]byte, p.payload)...)
	ip := make([]byte, 20)
	ip[0] = 0x45
	ip[1] = p.dscp << 2
	binary.BigEndian.PutUint16(ip[2:], uint16(20+len(l4)))
	ip[8] = 64
	ip[9] = p.proto
	s, d := p.src.As4(), p.dst.As4()
	copy(ip[12:], s[:])
	copy(ip[16:], d[:])
	binary.BigEndian.PutUint16(ip[10:], ipChecksum(ip))
	f := append(append(append([]byte{}, switchMAC...), hostMAC...), 0x08, 0x00)
	return append(append(f, ip...), l4...)
}

// frameDSCP returns the DSCP of an IPv4 frame.
func frameDSCP(f []byte) (uint8, error) {
	if len(f) < 34 || binary.BigEndian.Uint16(f[12:]) != 0x0800 {
		return 0, fmt.Errorf("not an untagged IPv4 frame: % x", f[:min(len(f), 20)])
	}
	return f[15] >> 2, nil
}
