package bmv2

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"
)

// TestTTL checks routing's TTL/hop-limit handling: decrement by one,
// MACs rewritten, checksum updated; TTL ≤ 1 and route misses dropped.
func TestTTL(t *testing.T) { forTargets(t, testTTL) }

func testTTL(t *testing.T, tg target) {
	b := newBedOn(t, tg, 2)
	b.routeAll(2)
	v6b := netip.MustParseAddr("2001:db8:2::1")
	frames := [][]byte{
		pkt{src: v4a, dst: v4b, l4: udpL4, ttl: 64, id: 1}.bytes(),
		pkt{src: v4a, dst: v4b, l4: udpL4, ttl: 2, id: 2}.bytes(),
		pkt{src: v4a, dst: v4b, l4: udpL4, ttl: 1, id: 3}.bytes(),   // expires
		pkt{src: v4a, dst: v4b, l4: tcpL4, ttl: 255, id: 4}.bytes(), // no wrap-around
		pkt{src: v6a, dst: v6b, l4: udpL4, ttl: 64, id: 5}.bytes(),
		pkt{src: v6a, dst: v6b, l4: udpL4, ttl: 1, id: 6}.bytes(),                      // expires
		pkt{src: v4a, dst: netip.MustParseAddr("192.0.2.1"), l4: udpL4, id: 7}.bytes(), // no route
		pkt{src: v4a, dst: v4b, l4: udpL4, ttl: 9, id: 9, vlan: 42}.bytes(),
	}
	// TTL 0 needs a frame built by hand: pkt treats 0 as "default 64".
	zero := pkt{src: v4a, dst: v4b, l4: udpL4, ttl: 7, id: 10}.bytes()
	zero[14+8] = 0
	binary.BigEndian.PutUint16(zero[14+10:], 0)
	binary.BigEndian.PutUint16(zero[14+10:], checksum(zero[14:34], 0))
	frames = append(frames, zero)
	// Sentinel last: frames share the egress queue, so once it arrives every
	// frame the switch forwarded has arrived.
	frames = append(frames, pkt{src: v4a, dst: v4b, l4: udpL4, ttl: 30, id: 99}.bytes())

	want := map[uint16]uint8{1: 63, 2: 1, 4: 254, 5: 63, 9: 8, 99: 29}
	got := b.exchange(1, []int{2}, len(want), frames...)[2]
	seen := map[uint16]bool{}
	for _, p := range got {
		ttl, ok := want[p.id]
		if !ok {
			t.Errorf("frame %d was forwarded (TTL %d), want dropped", p.id, p.ttl)
			continue
		}
		seen[p.id] = true
		if p.ttl != ttl {
			t.Errorf("frame %d: TTL/hop limit %d, want %d", p.id, p.ttl, ttl)
		}
		if p.version == 4 && !p.ipv4ChecksumOK {
			t.Errorf("frame %d: IPv4 checksum not updated", p.id)
		}
		if !bytes.Equal(p.srcMAC, routerMAC) || !bytes.Equal(p.dstMAC, nextHopMAC(2)) {
			t.Errorf("frame %d: MACs %x→%x, want %x→%x", p.id, p.srcMAC, p.dstMAC, routerMAC, nextHopMAC(2))
		}
		if p.id == 9 && p.vlan != 42 {
			t.Errorf("VLAN-tagged frame left with VLAN %d, want 42", p.vlan)
		}
	}
	for id := range want {
		if !seen[id] {
			t.Errorf("frame %d was not forwarded", id)
		}
	}
}

// TestMalformedPackets feeds the switch truncated and malformed frames. They
// must be dropped (docs/pipeline.md: parser errors, non-IP, IPv4 with IHL ≠
// 5), valid oddities (non-first fragments) forwarded, and the switch must
// keep forwarding.
func TestMalformedPackets(t *testing.T) {
	b := newBed(t, 2)
	b.routeAll(2)

	good := func(id uint16) []byte { return pkt{src: v4a, dst: v4b, l4: udpL4, id: id, payload: 10}.bytes() }
	tcp := pkt{src: v4a, dst: v4b, l4: tcpL4, id: 3}.bytes()
	v6 := pkt{src: v6a, dst: netip.MustParseAddr("2001:db8:2::1"), l4: udpL4, id: 4}.bytes()
	ihl := func(n byte, id uint16) []byte {
		f := good(id)
		f[14] = 0x40 | n
		binary.BigEndian.PutUint16(f[24:], 0)
		binary.BigEndian.PutUint16(f[24:], checksum(f[14:34], 0))
		return f
	}
	garbage := make([]byte, 60)
	for i := range garbage {
		garbage[i] = byte(i*37 + 11)
	}
	copy(garbage[12:], []byte{0x08, 0x00}) // claims IPv4, then nonsense
	arp := append(append(append([]byte{}, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}...), hostMAC...), 0x08, 0x06)
	arp = append(arp, make([]byte, 28)...)

	fragment := pkt{src: v4a, dst: v4b, l4: udpL4, id: 50, payload: 10}.bytes()
	binary.BigEndian.PutUint16(fragment[14+6:], 185) // offset 185×8 bytes, not the first fragment
	binary.BigEndian.PutUint16(fragment[24:], 0)
	binary.BigEndian.PutUint16(fragment[24:], checksum(fragment[14:34], 0))

	cases := []struct {
		name  string
		frame []byte
	}{
		{"Ethernet header only, IPv4 ethertype", good(1)[:14]},
		{"IPv4 header cut at 10 bytes", good(1)[:24]},
		{"TCP header cut at 10 bytes", tcp[:14+20+10]},
		{"UDP header cut at 4 bytes", good(2)[:14+20+4]},
		{"IPv6 header cut at 20 bytes", v6[:14+20]},
		{"802.1Q tag cut", append(append([]byte{}, good(1)[:12]...), 0x81, 0x00, 0x00)},
		{"IPv4 IHL 3", ihl(3, 5)},
		{"IPv4 IHL 6 (options)", ihl(6, 6)},
		{"ARP (not IP)", arp},
		{"garbage", garbage},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := b.exchange(1, []int{2}, 1, c.frame, good(77))[2]
			if len(got) != 1 || got[0].id != 77 {
				ids := []uint16{}
				for _, p := range got {
					ids = append(ids, p.id)
				}
				t.Errorf("received frames with ids %v, want only the sentinel 77", ids)
			}
			if !b.sw.Alive() {
				t.Fatalf("switch died")
			}
		})
	}

	t.Run("non-first IPv4 fragment is forwarded", func(t *testing.T) {
		got := b.exchange(1, []int{2}, 2, fragment, good(78))[2]
		if len(got) != 2 || got[0].id != 50 {
			t.Errorf("received %d frames, want the fragment (id 50) then the sentinel", len(got))
		}
	})

	t.Run("a burst of all of them, then still forwarding", func(t *testing.T) {
		var frames [][]byte
		for i := 0; i < 50; i++ {
			for _, c := range cases {
				frames = append(frames, c.frame)
			}
		}
		frames = append(frames, good(79))
		got := b.exchange(1, []int{2}, 1, frames...)[2]
		if len(got) != 1 || got[0].id != 79 {
			t.Errorf("received %d frames, want only the sentinel", len(got))
		}
	})
}
