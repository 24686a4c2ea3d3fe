package bmv2

import (
	"fmt"
	"net/netip"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/p4qos/p4qos/compiler/contract"
	"github.com/p4qos/p4qos/tables"
)

// Chi-square critical values at significance 0.001 (any statistics table):
// 3 degrees of freedom 16.266, 1 degree of freedom 10.828. The flows are a
// fixed list and BMv2's hash is deterministic, so the test does not flake:
// it either always passes or always fails for a given program.
//
// The same bounds hold on the Tofino model, whose selector hashes other
// bits (a CRC over the selector's field list, bf-p4c's choice) and picks a
// member from hash bits rather than BMv2's modulo: different flows land on
// different members, but the hash is just as deterministic and the
// statistic the same. Weights are the same on both: PI's P4Runtime
// front end, which simple_switch_grpc and bf_switchd's server share, adds
// a member of weight w to the group as w copies
// (proto/frontend/src/action_prof_mgr.cpp), so 3:1 is exact in the group.
const (
	chi2Crit3DF = 16.266
	chi2Crit1DF = 10.828
)

func chiSquare(observed []int, expected []float64) float64 {
	var x float64
	for i, o := range observed {
		d := float64(o) - expected[i]
		x += d * d / expected[i]
	}
	return x
}

// flow i is a distinct 5-tuple: source address, source port and destination
// port all vary.
func flow(i int, dst netip.Addr) pkt {
	src := netip.AddrFrom4([4]byte{10, 1, byte(i / 250), byte(i%250 + 1)})
	return pkt{src: src, dst: dst, l4: udpL4, sport: uint16(10000 + i), dport: uint16(80 + i%7), id: uint16(i), payload: 18}
}

// TestECMP spreads 1 000 flows over a 4-member group and 1 000 flows over a
// 3:1 weighted group (WCMP, P4Runtime §9.2.3 member weights), and checks
// that a flow always takes the same member.
func TestECMP(t *testing.T) { forTargets(t, testECMP) }

func testECMP(t *testing.T, tg target) {
	b := newBedOn(t, tg, 5)
	out := []int{2, 3, 4, 5}
	var members []proto.Message
	for _, p := range out {
		members = append(members, b.member(uint32(p), p))
	}
	b.insert(members...)
	b.insert(
		get(b.schema.ActionProfileGroup(b.names.Of(contract.ECMPSelector), 1, []tables.GroupMember{
			{ID: 2, Weight: 1}, {ID: 3, Weight: 1}, {ID: 4, Weight: 1}, {ID: 5, Weight: 1}}, 64))(t),
		get(b.schema.ActionProfileGroup(b.names.Of(contract.ECMPSelector), 2, []tables.GroupMember{
			{ID: 2, Weight: 3}, {ID: 3, Weight: 1}}, 64))(t),
	)
	b.insert(
		get(b.schema.TableEntry(contract.IPv4LPM, []tables.Match{tables.LPM(contract.KeyIPv4Dst, "10.2.0.0/16")}, tables.Group(1)))(t),
		get(b.schema.TableEntry(contract.IPv4LPM, []tables.Match{tables.LPM(contract.KeyIPv4Dst, "10.200.0.0/16")}, tables.Group(2)))(t),
		get(b.schema.TableEntry(contract.IPv6LPM, []tables.Match{tables.LPM(contract.KeyIPv6Dst, "2001:db8:2::/48")}, tables.Group(1)))(t),
	)

	spread := func(t *testing.T, frames [][]byte) map[int]int {
		t.Helper()
		got := b.exchange(1, out, len(frames), frames...)
		counts := map[int]int{}
		total := 0
		for p, ps := range got {
			counts[p] = len(ps)
			total += len(ps)
			for _, pp := range ps {
				if string(pp.dstMAC) != string(nextHopMAC(p)) {
					t.Errorf("frame on port %d has next-hop MAC %x, want %x", p, pp.dstMAC, nextHopMAC(p))
				}
			}
		}
		if total != len(frames) {
			t.Fatalf("received %d frames, want %d", total, len(frames))
		}
		return counts
	}

	t.Run("ECMP 4 members", func(t *testing.T) {
		var frames [][]byte
		for i := 0; i < 1000; i++ {
			frames = append(frames, flow(i, netip.MustParseAddr("10.2.0.1")).bytes())
		}
		counts := spread(t, frames)
		obs := []int{counts[2], counts[3], counts[4], counts[5]}
		x := chiSquare(obs, []float64{250, 250, 250, 250})
		t.Logf("per member %v, chi-square %.2f (critical %.2f)", obs, x, chi2Crit3DF)
		if x > chi2Crit3DF {
			t.Errorf("flows per member %v are not uniform: chi-square %.2f > %.2f", obs, x, chi2Crit3DF)
		}
	})

	t.Run("WCMP 3:1", func(t *testing.T) {
		var frames [][]byte
		for i := 0; i < 1000; i++ {
			frames = append(frames, flow(i, netip.MustParseAddr("10.200.0.1")).bytes())
		}
		counts := spread(t, frames)
		obs := []int{counts[2], counts[3]}
		x := chiSquare(obs, []float64{750, 250})
		t.Logf("weight 3 member %d, weight 1 member %d, chi-square %.2f (critical %.2f)", obs[0], obs[1], x, chi2Crit1DF)
		if counts[4]+counts[5] != 0 {
			t.Errorf("%d frames left through ports outside the group", counts[4]+counts[5])
		}
		if x > chi2Crit1DF {
			t.Errorf("flows %v do not follow the 3:1 weights: chi-square %.2f > %.2f", obs, x, chi2Crit1DF)
		}
	})

	t.Run("IPv6 uses the selector", func(t *testing.T) {
		var frames [][]byte
		for i := 0; i < 200; i++ {
			p := flow(i, netip.MustParseAddr("2001:db8:2::1"))
			p.src = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 1, 14: byte(i >> 8), 15: byte(i)})
			frames = append(frames, p.bytes())
		}
		counts := spread(t, frames)
		used := 0
		for _, p := range out {
			if counts[p] > 0 {
				used++
			}
		}
		// With 200 flows and 4 members, a hash that ignored the flow would
		// use one member; P(some member unused | uniform) < 4·(3/4)^200.
		if used != 4 {
			t.Errorf("IPv6 flows used %d of 4 members: %v", used, counts)
		}
	})

	t.Run("a flow keeps its member", func(t *testing.T) {
		for f := 0; f < 10; f++ {
			var frames [][]byte
			for i := 0; i < 30; i++ {
				p := flow(f*97, netip.MustParseAddr("10.2.0.1"))
				p.id = uint16(i) // the IP id is not part of the 5-tuple
				frames = append(frames, p.bytes())
			}
			counts := spread(t, frames)
			if len(nonZero(counts)) != 1 {
				t.Errorf("flow %d was spread over %v", f*97, counts)
			}
		}
	})
}

func nonZero(m map[int]int) []string {
	var s []string
	for k, v := range m {
		if v > 0 {
			s = append(s, fmt.Sprintf("%d:%d", k, v))
		}
	}
	return s
}
