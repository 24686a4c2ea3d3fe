package allocator

import (
	"hash/maphash"
	"math/bits"
)

// firstDuplicates finds the names that repeat an earlier one: for each
// such index i it reports the index of the name's first occurrence in
// first[i], and -1 elsewhere (first is nil when no name repeats).
//
// It is for the flow-group names, which are many (100k in the benchmark)
// and all distinct in a valid problem. Inserting them one after the other
// into a hash table touches the table at random; at 100k names that table
// (2 MB) is out of cache, and the inserts cost a cache miss each, a tenth
// of the allocation's time. Instead the names' hashes are partitioned on
// their top bits into buckets of about bucketTarget entries (a counting
// sort: one sequential pass and a few hundred write streams), and each
// bucket is checked with a small table that stays in the L1 cache.
// Within a bucket entries keep their index order, so the first occurrence
// is found first, as with one table.
func firstDuplicates(n int, name func(int) string) []int32 {
	if n < 2 {
		return nil
	}
	const bucketTarget = 256
	shift := uint(64)
	if n > bucketTarget {
		shift = 64 - uint(bits.Len(uint(n/bucketTarget)))
	}
	nb := 1
	if shift < 64 {
		nb = 1 << (64 - shift)
	}
	bucketOf := func(h uint64) int {
		if shift >= 64 {
			return 0
		}
		return int(h >> shift)
	}
	seed := maphash.MakeSeed()
	hs := make([]uint64, n)
	start := make([]int32, nb+1)
	for i := range hs {
		h := maphash.String(seed, name(i))
		hs[i] = h
		start[bucketOf(h)+1]++
	}
	for b := 0; b < nb; b++ {
		start[b+1] += start[b]
	}
	type entry struct {
		h   uint64
		idx int32
	}
	ent := make([]entry, n)
	fill := make([]int32, nb)
	copy(fill, start[:nb])
	for i, h := range hs {
		b := bucketOf(h)
		ent[fill[b]] = entry{h, int32(i)}
		fill[b]++
	}
	var first []int32
	var slots []int32 // entry position+1 per slot, 0 when empty
	for b := 0; b < nb; b++ {
		es := ent[start[b]:start[b+1]]
		if len(es) < 2 {
			continue
		}
		size := 8
		for size < 2*len(es) {
			size *= 2
		}
		if cap(slots) < size {
			slots = make([]int32, size)
		}
		slots = slots[:size]
		clear(slots)
		mask := uint64(size - 1)
		for k, e := range es {
			for s := e.h & mask; ; s = (s + 1) & mask {
				v := slots[s]
				if v == 0 {
					slots[s] = int32(k) + 1
					break
				}
				if o := es[v-1]; o.h == e.h && name(int(o.idx)) == name(int(e.idx)) {
					if first == nil {
						first = make([]int32, n)
						for i := range first {
							first[i] = -1
						}
					}
					first[e.idx] = o.idx
					break
				}
			}
		}
	}
	return first
}
