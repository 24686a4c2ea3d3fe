package compiler

import (
	"context"
	"math/rand/v2"
	"net/netip"
	"testing"
)

func mkTerm(class int32, dst string, proto int16, ports PortRange) term {
	t := term{class: class, proto: proto, dscp: -1, port: -1, sport: fullRange, dport: ports}
	if dst != "" {
		t.dst = netip.MustParsePrefix(dst)
		t.ver = 4
		if t.dst.Addr().Is6() {
			t.ver = 6
		}
	}
	return t
}

func TestIntersectsCovers(t *testing.T) {
	web := mkTerm(0, "10.0.0.0/8", 6, PortRange{80, 80})
	tests := []struct {
		name          string
		a, b          term
		inter, covers bool
	}{
		{"nested prefix, same port", web, mkTerm(1, "10.1.0.0/16", 6, PortRange{80, 80}), true, true},
		{"other protocol", web, mkTerm(1, "10.1.0.0/16", 17, PortRange{80, 80}), false, false},
		{"disjoint prefixes", web, mkTerm(1, "11.0.0.0/8", 6, PortRange{80, 80}), false, false},
		{"port range sticks out", web, mkTerm(1, "10.1.0.0/16", 6, PortRange{70, 90}), true, false},
		{"wildcard protocol on b", web, mkTerm(1, "10.1.0.0/16", -1, PortRange{80, 80}), true, false},
		{"v6 vs v4", web, mkTerm(1, "2001:db8::/32", 6, PortRange{80, 80}), false, false},
		{"any version covers v4", mkTerm(0, "", -1, fullRange), web, true, true},
	}
	for _, tc := range tests {
		if got := tc.a.intersects(&tc.b); got != tc.inter {
			t.Errorf("%s: intersects %v", tc.name, got)
		}
		if got := tc.b.intersects(&tc.a); got != tc.inter {
			t.Errorf("%s: intersects not symmetric", tc.name)
		}
		if got := tc.a.covers(&tc.b); got != tc.covers {
			t.Errorf("%s: covers %v", tc.name, got)
		}
	}
}

func TestAnalyse(t *testing.T) {
	all := newSwitchSet(2)
	all.add(0)
	all.add(1)
	only1 := newSwitchSet(2)
	only1.add(1)
	only0 := newSwitchSet(2)
	only0.add(0)
	terms := []term{
		mkTerm(0, "10.0.0.0/8", 6, fullRange),        // 0: prec 100
		mkTerm(1, "10.1.2.0/24", 6, PortRange{1, 9}), // 1: prec 100: overlaps 0
		mkTerm(2, "10.1.2.3/32", 6, PortRange{5, 5}), // 2: prec 50: covered by 0 (and 1)
		mkTerm(3, "10.1.2.3/32", -1, fullRange),      // 3: prec 50: not covered (any protocol), overlaps 2 at equal precedence
		mkTerm(4, "", -1, fullRange),                 // 4: prec 1: everything; covered by nothing
		mkTerm(5, "192.168.0.0/16", 6, fullRange),    // 5: prec 100 on switch 1 only
		mkTerm(6, "192.168.1.0/24", 6, fullRange),    // 6: prec 100 on switch 0 only: no common switch with 5
		mkTerm(7, "192.168.1.0/24", 6, fullRange),    // 7: prec 10 on both: not covered (5 lacks switch 0)
	}
	prec := []int{100, 100, 50, 50, 1, 100, 100, 10}
	sets := []switchSet{all, all, all, all, all, only1, only0, all}
	an, _ := analyse(context.Background(), terms, prec, sets)
	want := map[conflict]bool{{0, 1}: true, {2, 3}: true}
	if len(an.conflicts) != len(want) {
		t.Errorf("conflicts %v, want %v", an.conflicts, want)
	}
	for _, c := range an.conflicts {
		if !want[c] {
			t.Errorf("unexpected conflict %v", c)
		}
	}
	wantShadow := []int32{-1, -1, 0, -1, -1, -1, -1, -1}
	for c, by := range an.shadowedBy {
		// Class 2 is covered by class 0 (the first coverer found may
		// also be class 1, which covers it too).
		if c == 2 && (by == 0 || by == 1) {
			continue
		}
		if by != wantShadow[c] {
			t.Errorf("class %d shadowed by %d, want %d", c, by, wantShadow[c])
		}
	}
}

// TestAnalyseScales checks the index: 20,000 classes on distinct /32s
// produce no conflicts, with pairwise work that would be 2·10^8 checks.
func TestAnalyseScales(t *testing.T) {
	const n = 20000
	terms := make([]term, n)
	prec := make([]int, n)
	set := newSwitchSet(1)
	set.add(0)
	sets := make([]switchSet, n)
	for i := range terms {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		terms[i] = mkTerm(int32(i), netip.PrefixFrom(a, 32).String(), 6, fullRange)
		prec[i] = 100
		sets[i] = set
	}
	an, _ := analyse(context.Background(), terms, prec, sets)
	if len(an.conflicts) != 0 {
		t.Errorf("conflicts: %v", an.conflicts[:1])
	}
}

// TestAnalyseMatchesBruteForce compares the indexed analysis with the
// obvious quadratic one on random small policies.
func TestAnalyseMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	prefixes := []string{"", "10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "10.1.2.3/32", "10.2.0.0/16", "11.0.0.0/8", "0.0.0.0/0", "2001:db8::/32", "2001:db8:1::/48", "::/0"}
	pick := func() netip.Prefix {
		s := prefixes[rng.IntN(len(prefixes))]
		if s == "" {
			return netip.Prefix{}
		}
		return netip.MustParsePrefix(s)
	}
	for iter := 0; iter < 300; iter++ {
		nClasses := 2 + rng.IntN(8)
		prec := make([]int, nClasses)
		sets := make([]switchSet, nClasses)
		for c := range prec {
			prec[c] = 1 + rng.IntN(3)
			sets[c] = newSwitchSet(2)
			switch rng.IntN(3) {
			case 0:
				sets[c].add(0)
			case 1:
				sets[c].add(1)
			default:
				sets[c].add(0)
				sets[c].add(1)
			}
		}
		var terms []term
		for c := 0; c < nClasses; c++ {
			for k := 0; k < 1+rng.IntN(2); k++ {
				tm := term{class: int32(c), proto: -1, dscp: -1, port: -1, sport: fullRange, dport: fullRange}
				tm.src, tm.dst = pick(), pick()
				vs, vd := version(tm.src), version(tm.dst)
				if vs != 0 && vd != 0 && vs != vd {
					continue
				}
				tm.ver = max(vs, vd)
				if tm.ver == 0 && rng.IntN(3) == 0 {
					tm.ver = uint8(4 + 2*rng.IntN(2))
				}
				if rng.IntN(2) == 0 {
					tm.proto = int16(6 + 11*rng.IntN(2))
				}
				if rng.IntN(2) == 0 {
					lo := uint16(rng.IntN(100))
					tm.dport = PortRange{lo, lo + uint16(rng.IntN(50))}
				}
				terms = append(terms, tm)
			}
		}
		an, _ := analyse(context.Background(), terms, prec, sets)
		// Brute force.
		wantConf := map[conflict]bool{}
		covered := make([]bool, len(terms))
		for i := range terms {
			for j := range terms {
				a, b := &terms[i], &terms[j]
				if a.class == b.class || !sets[a.class].intersects(sets[b.class]) || !a.intersects(b) {
					continue
				}
				if prec[a.class] == prec[b.class] {
					wantConf[conflict{min(a.class, b.class), max(a.class, b.class)}] = true
				}
				if prec[a.class] > prec[b.class] && a.covers(b) && sets[a.class].contains(sets[b.class]) {
					covered[j] = true
				}
			}
		}
		gotConf := map[conflict]bool{}
		for _, c := range an.conflicts {
			gotConf[c] = true
		}
		if len(gotConf) != len(wantConf) {
			t.Fatalf("iter %d: conflicts %v, want %v (terms %v)", iter, gotConf, wantConf, terms)
		}
		for c := range wantConf {
			if !gotConf[c] {
				t.Fatalf("iter %d: missed conflict %v", iter, c)
			}
		}
		for c := 0; c < nClasses; c++ {
			n, cov := 0, 0
			for j := range terms {
				if terms[j].class == int32(c) {
					n++
					if covered[j] {
						cov++
					}
				}
			}
			want := n > 0 && n == cov
			if got := an.shadowedBy[c] >= 0; got != want {
				t.Fatalf("iter %d: class %d shadowed %v, want %v (terms %v)", iter, c, got, want, terms)
			}
		}
	}
}
