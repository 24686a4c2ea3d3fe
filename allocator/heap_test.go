package allocator

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestKeyHeapAgainstScan drives the heap with random set/remove and checks
// min against a linear scan of the items present.
func TestKeyHeapAgainstScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 50
	h := newKeyHeap(n)
	present := map[int]float64{}
	for step := 0; step < 20000; step++ {
		it := rng.IntN(n)
		if rng.IntN(3) == 0 {
			h.remove(it)
			delete(present, it)
		} else {
			k := float64(rng.IntN(100))
			h.set(it, k)
			present[it] = k
		}
		got, gk := h.min()
		if len(present) == 0 {
			if got != -1 {
				t.Fatalf("step %d: min %d of an empty heap", step, got)
			}
			continue
		}
		best := -1.0
		for _, k := range present {
			if best < 0 || k < best {
				best = k
			}
		}
		if gk != best || present[got] != gk {
			t.Fatalf("step %d: min item %d key %v, want key %v", step, got, gk, best)
		}
	}
}

func TestSortEventsMatchesComparisonSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	for _, n := range []int{0, 1, 2, 10, 1000, 20000} {
		evs := make([]breakpointEvent, n)
		for i := range evs {
			// Few distinct values too, so that ties (kept in FG order) occur.
			evs[i] = breakpointEvent{share: float64(rng.IntN(50)) * []float64{1e-9, 1, 1e9, 0.37}[rng.IntN(4)], fg: int32(i)}
		}
		want := append([]breakpointEvent(nil), evs...)
		slices.SortStableFunc(want, func(a, b breakpointEvent) int { return cmp.Compare(a.share, b.share) })
		sortEvents(evs)
		if !slices.Equal(evs, want) {
			t.Fatalf("n=%d: radix order differs from a stable comparison sort", n)
		}
	}
}
