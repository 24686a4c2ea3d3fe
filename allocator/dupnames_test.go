package allocator

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestFirstDuplicatesMatchesMap checks firstDuplicates against a map on
// sizes below, at and far above one bucket, with names repeated at random
// later indices (and some three times).
func TestFirstDuplicatesMatchesMap(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 255, 256, 257, 1000, 20000} {
		for _, dupRate := range []int{0, 10, 2} {
			t.Run(fmt.Sprintf("%d/%d", n, dupRate), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(n), uint64(dupRate)))
				names := make([]string, n)
				for i := range names {
					names[i] = fmt.Sprintf("fg%d", i)
					if dupRate > 0 && i > 0 && rng.IntN(dupRate) == 0 {
						names[i] = names[rng.IntN(i)]
					}
				}
				got := firstDuplicates(n, func(i int) string { return names[i] })
				seen := map[string]int{}
				any := false
				for i, s := range names {
					want := -1
					if j, ok := seen[s]; ok {
						want, any = j, true
					} else {
						seen[s] = i
					}
					g := -1
					if got != nil {
						g = int(got[i])
					}
					if g != want {
						t.Fatalf("names[%d] = %q: first occurrence %d, want %d", i, s, g, want)
					}
				}
				if !any && got != nil {
					t.Fatalf("no duplicates, but a non-nil result")
				}
			})
		}
	}
}
