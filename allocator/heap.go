package allocator

// keyHeap is an indexed binary min-heap over the items 0..n-1, keyed by
// key[i]. Items can be re-keyed in O(log n), which is what lets the
// water-fill jump from event to event without rescanning every link.
type keyHeap struct {
	key  []float64
	heap []int32 // item ids in heap order
	pos  []int32 // pos[item] = index in heap, -1 when absent
}

func newKeyHeap(n int) *keyHeap {
	h := &keyHeap{key: make([]float64, n), heap: make([]int32, 0, n), pos: make([]int32, n)}
	for i := range h.pos {
		h.pos[i] = -1
	}
	return h
}

func (h *keyHeap) less(a, b int) bool { return h.key[h.heap[a]] < h.key[h.heap[b]] }

func (h *keyHeap) swap(a, b int) {
	h.heap[a], h.heap[b] = h.heap[b], h.heap[a]
	h.pos[h.heap[a]] = int32(a)
	h.pos[h.heap[b]] = int32(b)
}

func (h *keyHeap) up(j int) {
	for j > 0 {
		i := (j - 1) / 2
		if !h.less(j, i) {
			break
		}
		h.swap(i, j)
		j = i
	}
}

func (h *keyHeap) down(i int) bool {
	i0, n := i, len(h.heap)
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		j := l
		if r := l + 1; r < n && h.less(r, l) {
			j = r
		}
		if !h.less(j, i) {
			break
		}
		h.swap(i, j)
		i = j
	}
	return i > i0
}

// set gives item key k, inserting it if absent.
func (h *keyHeap) set(item int, k float64) {
	h.key[item] = k
	p := h.pos[item]
	if p < 0 {
		h.pos[item] = int32(len(h.heap))
		h.heap = append(h.heap, int32(item))
		h.up(len(h.heap) - 1)
		return
	}
	if !h.down(int(p)) {
		h.up(int(p))
	}
}

// remove takes item out of the heap if present.
func (h *keyHeap) remove(item int) {
	p := int(h.pos[item])
	if p < 0 {
		return
	}
	last := len(h.heap) - 1
	if p != last {
		h.swap(p, last)
	}
	h.heap = h.heap[:last]
	h.pos[item] = -1
	if p != last {
		if !h.down(p) {
			h.up(p)
		}
	}
}

// min returns the item with the smallest key, or -1 when empty.
func (h *keyHeap) min() (int, float64) {
	if len(h.heap) == 0 {
		return -1, 0
	}
	it := int(h.heap[0])
	return it, h.key[it]
}
