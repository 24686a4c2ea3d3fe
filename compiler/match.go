package compiler

import (
	"context"
	"fmt"
	"net/netip"
)

// term is one classifier entry's match space: a class's match with its
// src/dst resolved to single prefixes of one IP version.
type term struct {
	class    int32 // index into the class list
	match    int32 // index into the class's match list
	ver      uint8 // 0 = any, 4 or 6
	src, dst netip.Prefix
	proto    int16 // -1 = any
	dscp     int16 // -1 = any
	port     int16 // ingress port; -1 = any
	sport    PortRange
	dport    PortRange
}

var fullRange = PortRange{Low: 0, High: 65535}

func prefixOverlaps(a, b netip.Prefix) bool {
	if !a.IsValid() || !b.IsValid() {
		return true
	}
	return a.Overlaps(b)
}

func prefixCovers(a, b netip.Prefix) bool {
	if !a.IsValid() {
		return true
	}
	return b.IsValid() && a.Addr().Is4() == b.Addr().Is4() && a.Bits() <= b.Bits() && a.Contains(b.Addr())
}

func anyEq(a, b int16) bool { return a < 0 || b < 0 || a == b }

// intersects reports whether some packet matches both a and b: every
// field's match space intersects (two classes "overlap").
func (a *term) intersects(b *term) bool {
	return (a.ver == 0 || b.ver == 0 || a.ver == b.ver) &&
		prefixOverlaps(a.src, b.src) && prefixOverlaps(a.dst, b.dst) &&
		anyEq(a.proto, b.proto) && anyEq(a.dscp, b.dscp) && anyEq(a.port, b.port) &&
		a.sport.Low <= b.sport.High && b.sport.Low <= a.sport.High &&
		a.dport.Low <= b.dport.High && b.dport.Low <= a.dport.High
}

// covers reports whether every packet matching b also matches a.
func (a *term) covers(b *term) bool {
	return (a.ver == 0 || a.ver == b.ver) &&
		prefixCovers(a.src, b.src) && prefixCovers(a.dst, b.dst) &&
		(a.proto < 0 || a.proto == b.proto) && (a.dscp < 0 || a.dscp == b.dscp) && (a.port < 0 || a.port == b.port) &&
		a.sport.Low <= b.sport.Low && b.sport.High <= a.sport.High &&
		a.dport.Low <= b.dport.Low && b.dport.High <= a.dport.High
}

// switchSet is a bitset of switch indexes where a class is installed.
type switchSet []uint64

func newSwitchSet(n int) switchSet { return make(switchSet, (n+63)/64) }
func (s switchSet) add(i int)      { s[i/64] |= 1 << (i % 64) }
func (s switchSet) has(i int) bool { return s[i/64]&(1<<(i%64)) != 0 }
func (s switchSet) intersects(o switchSet) bool {
	for i := range s {
		if s[i]&o[i] != 0 {
			return true
		}
	}
	return false
}
func (s switchSet) contains(o switchSet) bool {
	for i := range s {
		if o[i]&^s[i] != 0 {
			return false
		}
	}
	return true
}
func (s switchSet) empty() bool {
	for _, w := range s {
		if w != 0 {
			return false
		}
	}
	return true
}

// conflict is a pair of classes whose matches intersect at equal
// precedence.
type conflict struct{ a, b int32 }

// analysis is the result of checking class matches against each other.
type analysis struct {
	conflicts []conflict
	// shadowedBy[c] is the class that covers class c completely with a
	// higher precedence, or -1.
	shadowedBy []int32
	truncated  bool
}

const maxConflicts = 100

// analyse finds (1) pairs of classes with equal precedence whose match
// spaces intersect on a common switch, and (2) classes every term of
// which is covered by a single term of one higher-precedence class on all
// of the class's switches (such a class can never hit). Coverage by a
// union of several classes is not detected.
//
// Candidate pairs come from an index on one address field (dst, or src if
// more terms set src): two terms can only intersect if their prefixes nest,
// so for each term only the buckets of its own prefix and its ancestors
// (one map lookup per prefix length in use) and the wildcard lists are
// visited. With distinct prefixes this is near-linear; terms that wildcard
// the indexed field are compared with everything of their IP version.
// The analysis stops at the first conflict beyond maxConflicts (the policy
// is invalid then, and a policy of many classes at one precedence would
// otherwise cost a comparison per pair), and checks ctx every cancelEvery
// comparisons, returning its error when it is done.
func analyse(ctx context.Context, terms []term, prec []int, sets []switchSet) (analysis, error) {
	an := analysis{shadowedBy: make([]int32, len(prec))}
	nClasses := len(prec)
	coveredTerms := make([]int32, nClasses) // per class: terms covered
	termsOf := make([]int32, nClasses)
	coverer := make([]int32, nClasses)
	for i := range coverer {
		coverer[i] = -1
		an.shadowedBy[i] = -1
	}
	for i := range terms {
		termsOf[terms[i].class]++
	}

	nSrc, nDst := 0, 0
	for i := range terms {
		if terms[i].src.IsValid() {
			nSrc++
		}
		if terms[i].dst.IsValid() {
			nDst++
		}
	}
	key := func(t *term) netip.Prefix { return t.dst }
	if nSrc > nDst {
		key = func(t *term) netip.Prefix { return t.src }
	}

	buckets := map[netip.Prefix][]int32{}
	var anyAll []int32
	anyVer := map[uint8][]int32{}
	var lens4, lens6 [129]bool
	for i := range terms {
		t := &terms[i]
		k := key(t)
		switch {
		case k.IsValid():
			buckets[k] = append(buckets[k], int32(i))
			if k.Addr().Is4() {
				lens4[k.Bits()] = true
			} else {
				lens6[k.Bits()] = true
			}
		case t.ver == 0:
			anyAll = append(anyAll, int32(i))
		default:
			anyVer[t.ver] = append(anyVer[t.ver], int32(i))
		}
	}
	var list4, list6 []int
	for l := 0; l <= 128; l++ {
		if lens4[l] {
			list4 = append(list4, l)
		}
		if lens6[l] {
			list6 = append(list6, l)
		}
	}
	seenPair := map[conflict]bool{}
	covered := make([]bool, len(terms))

	var cmps int
	var ctxErr error
	// visit compares term j with the candidates; false stops the analysis.
	visit := func(j int32, cands []int32, sameLevel bool) bool {
		b := &terms[j]
		for _, i := range cands {
			if cmps++; cmps%cancelEvery == 0 {
				if ctxErr = ctx.Err(); ctxErr != nil {
					return false
				}
			}
			if i == j {
				continue
			}
			a := &terms[i]
			if a.class == b.class {
				continue
			}
			pa, pb := prec[a.class], prec[b.class]
			if pa < pb {
				continue
			}
			if pa == pb && sameLevel && i > j {
				continue // the pair is found when i is visited
			}
			if pa > pb && covered[j] {
				continue
			}
			if !sets[a.class].intersects(sets[b.class]) || !a.intersects(b) {
				continue
			}
			if pa == pb {
				c := conflict{min(a.class, b.class), max(a.class, b.class)}
				if !seenPair[c] {
					if len(an.conflicts) >= maxConflicts {
						an.truncated = true
						return false
					}
					seenPair[c] = true
					an.conflicts = append(an.conflicts, c)
				}
				continue
			}
			if a.covers(b) && sets[a.class].contains(sets[b.class]) {
				covered[j] = true
				if coverer[b.class] < 0 {
					coverer[b.class] = a.class
				}
			}
		}
		return true
	}
	// visitAll visits every candidate of term j; false stops the analysis.
	visitAll := func(j int) bool {
		b := &terms[j]
		jj := int32(j)
		k := key(b)
		if !visit(jj, anyAll, !k.IsValid() && b.ver == 0) {
			return false
		}
		if b.ver != 0 && !visit(jj, anyVer[b.ver], !k.IsValid()) {
			return false
		}
		if k.IsValid() {
			lens := list4
			if !k.Addr().Is4() {
				lens = list6
			}
			for _, l := range lens {
				if l > k.Bits() {
					break
				}
				anc := netip.PrefixFrom(k.Addr(), l).Masked()
				if !visit(jj, buckets[anc], l == k.Bits()) {
					return false
				}
			}
		}
		return true
	}
	for j := range terms {
		if !visitAll(j) {
			if ctxErr != nil {
				return analysis{}, ctxErr
			}
			return an, nil // truncated: the conflicts found are the answer
		}
		if covered[j] {
			coveredTerms[terms[j].class]++
		}
	}
	for c := range coveredTerms {
		if termsOf[c] > 0 && coveredTerms[c] == termsOf[c] {
			an.shadowedBy[c] = coverer[c]
		}
	}
	return an, nil
}

func (t *term) String() string {
	s := fmt.Sprintf("v%d", t.ver)
	if t.src.IsValid() {
		s += " src " + t.src.String()
	}
	if t.dst.IsValid() {
		s += " dst " + t.dst.String()
	}
	return s
}
