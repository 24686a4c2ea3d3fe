package allocator

import "hash/maphash"

// nameTable maps link names to link indices for flatten (and finds
// duplicate link names). It is an open-addressing hash table of plain
// integers that refers back to the names through nameOf, so it holds no
// pointers: the garbage collector never scans it, and at 2,000 links it is
// 32 KiB that stay in the L1 cache. A Go map[string]int holding the same
// keys costs a pointer-bearing allocation of the string headers. Flow-group
// names, far more numerous, are checked by firstDuplicates instead.
type nameTable struct {
	seed maphash.Seed
	// slots[i] is (hash tag << 32 | index+1), or 0 when empty. The tag
	// (the hash's upper 32 bits) filters out almost every non-matching
	// slot without reading the name it refers to.
	slots  []uint64
	mask   uint64
	nameOf func(int32) string
}

// newNameTable makes a table for up to n names. The table is at most half
// full, so probe sequences stay short.
func newNameTable(n int, nameOf func(int32) string) *nameTable {
	size := 16
	for size < 2*n {
		size *= 2
	}
	return &nameTable{seed: maphash.MakeSeed(), slots: make([]uint64, size), mask: uint64(size - 1), nameOf: nameOf}
}

// find returns the index stored for name (or -1) and the slot where the
// probe for it ended: name's slot, or the empty one where it belongs.
func (t *nameTable) find(name string) (idx int32, slot uint64, tag uint64) {
	h := maphash.String(t.seed, name)
	tag = h >> 32
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		v := t.slots[i]
		if v == 0 {
			return -1, i, tag
		}
		if v>>32 == tag {
			if j := int32(uint32(v) - 1); t.nameOf(j) == name {
				return j, i, tag
			}
		}
	}
}

// lookup returns the index of name, or -1.
func (t *nameTable) lookup(name string) int32 {
	j, _, _ := t.find(name)
	return j
}

// insert adds name with index i unless it is already there; it returns
// the earlier index and true in that case.
func (t *nameTable) insert(name string, i int32) (int32, bool) {
	j, slot, tag := t.find(name)
	if j >= 0 {
		return j, true
	}
	t.slots[slot] = tag<<32 | uint64(uint32(i)+1)
	return 0, false
}
