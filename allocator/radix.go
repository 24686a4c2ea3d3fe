package allocator

import (
	"cmp"
	"math"
	"slices"
)

// sortEvents sorts breakpoint events by share, ties by FG number — the
// order in which they were appended (FG by FG, each FG's shares rising) —
// with a stable LSD radix sort on the float's bits: shares are finite and
// ≥ 0, whose IEEE 754 bit patterns order like the numbers. Linear time,
// unlike a comparison sort, which at 100k FGs was the one O(n log n) step
// of the allocation.
func sortEvents(evs []breakpointEvent) {
	n := len(evs)
	if n < 1<<12 {
		// Small: the 64k-bucket passes would cost more than they save.
		slices.SortStableFunc(evs, func(a, b breakpointEvent) int { return cmp.Compare(a.share, b.share) })
		return
	}
	const bits = 16
	const buckets = 1 << bits
	var tmp []breakpointEvent
	src := evs
	var count [buckets]int32
	for shift := uint(0); shift < 64; shift += bits {
		clear(count[:])
		for i := range src {
			count[(math.Float64bits(src[i].share)>>shift)&(buckets-1)]++
		}
		// All in one bucket: this digit does not reorder anything.
		if count[(math.Float64bits(src[0].share)>>shift)&(buckets-1)] == int32(n) {
			continue
		}
		if tmp == nil {
			tmp = make([]breakpointEvent, n)
		}
		dst := tmp
		if &src[0] == &tmp[0] {
			dst = evs
		}
		sum := int32(0)
		for b := range count {
			c := count[b]
			count[b] = sum
			sum += c
		}
		for i := range src {
			b := (math.Float64bits(src[i].share) >> shift) & (buckets - 1)
			dst[count[b]] = src[i]
			count[b]++
		}
		src = dst
	}
	if &src[0] != &evs[0] {
		copy(evs, src)
	}
}
