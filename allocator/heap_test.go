package allocator

import (
	"math/rand/v2"
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
