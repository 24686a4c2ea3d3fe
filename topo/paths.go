package topo

import (
	"container/heap"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/p4qos/p4qos/internal/yamlerr"
)

// ErrNoPath is wrapped when two nodes are not connected.
var ErrNoPath = errors.New("no path")

// ErrUnknownNode is wrapped when a name is neither a switch nor a host.
var ErrUnknownNode = errors.New("unknown node")

// Path is a loop-free walk through the topology.
type Path struct {
	Edges []Edge
	Cost  int
}

// Nodes lists the nodes along the path, endpoints included.
func (p Path) Nodes() []string {
	if len(p.Edges) == 0 {
		return nil
	}
	out := []string{p.Edges[0].From}
	for _, e := range p.Edges {
		out = append(out, e.To)
	}
	return out
}

// LinkNames lists the directed edge names (Edge.Name) along the path.
func (p Path) LinkNames() []string {
	out := make([]string, len(p.Edges))
	for i, e := range p.Edges {
		out[i] = e.Name()
	}
	return out
}

// String is "h1->leaf1:1 leaf1:3->spine1:1 ...".
func (p Path) String() string { return strings.Join(p.LinkNames(), " ") }

type edgeKey struct {
	from     string
	fromPort uint32
	to       string
	toPort   uint32
}

func keyOf(e Edge) edgeKey { return edgeKey{e.From, e.FromPort, e.To, e.ToPort} }

// dijkstra computes costs from src over the edge graph, skipping removed
// edges and nodes. Links are symmetric (same cost both ways), so costs from
// src equal costs to src.
func (t *Topology) dijkstra(src string, removedEdges map[edgeKey]bool, removedNodes map[string]bool) map[string]int {
	dist := map[string]int{src: 0}
	pq := &distHeap{{src, 0}}
	for pq.Len() > 0 {
		it := heap.Pop(pq).(distItem)
		if it.d > dist[it.n] {
			continue
		}
		if it.n != src && t.nodes[it.n].host != nil {
			continue
		}
		for _, e := range t.out[it.n] {
			if removedNodes[e.To] || removedEdges[keyOf(e)] {
				continue
			}
			nd := it.d + e.Cost
			if old, ok := dist[e.To]; !ok || nd < old {
				dist[e.To] = nd
				heap.Push(pq, distItem{e.To, nd})
			}
		}
	}
	return dist
}

type distItem struct {
	n string
	d int
}

type distHeap []distItem

func (h distHeap) Len() int { return len(h) }
func (h distHeap) Less(i, j int) bool {
	if h[i].d != h[j].d {
		return h[i].d < h[j].d
	}
	return h[i].n < h[j].n
}
func (h distHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *distHeap) Push(x any)   { *h = append(*h, x.(distItem)) }
func (h *distHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	*h = old[:len(old)-1]
	return it
}

func (t *Topology) checkNodes(names ...string) error {
	for _, n := range names {
		if t.nodes[n] == (node{}) {
			return fmt.Errorf("%w %s", ErrUnknownNode, yamlerr.Quote(n))
		}
	}
	return nil
}

// NextHops returns the ECMP next hops switch sw uses towards host dst: the
// edges leaving sw that lie on some shortest path to dst, sorted by port.
// For the switch dst is cabled to, that is the host's port.
//
// It is called for every (switch, host) pair when routes are compiled (400k
// calls at 2,000 switches and 200 hosts), so it looks costs up by node
// number rather than by name.
func (t *Topology) NextHops(sw, dst string) ([]Edge, error) {
	ix := t.denseIndex()
	si, ok := ix.id[sw]
	if !ok {
		return nil, t.checkNodes(sw)
	}
	di, ok := ix.id[dst]
	if !ok {
		return nil, t.checkNodes(dst)
	}
	dist := ix.distances(di)
	ds := dist[si]
	if ds < 0 {
		return nil, fmt.Errorf("%s to %s: %w", sw, dst, ErrNoPath)
	}
	// Two passes, so that the result is allocated once at its size (400k
	// calls at 2,000 switches: growing it was a third of this function).
	on := func(k int) bool {
		e := &ix.edges[si][k]
		de := dist[ix.to[si][k]]
		return (!e.ToHost || e.To == dst) && de >= 0 && de+e.Cost == ds
	}
	n := 0
	for k := range ix.edges[si] {
		if on(k) {
			n++
		}
	}
	if n == 0 {
		return nil, nil
	}
	out := make([]Edge, 0, n)
	for k, e := range ix.edges[si] {
		if on(k) {
			out = append(out, e)
		}
	}
	return out, nil
}

// denseIndex numbers the topology's nodes; edges[i] are the edges leaving
// node i (t.out's), to[i][k] the number of the node that edges[i][k]
// reaches; host[i] says node i is a host (never transited).
type denseIndex struct {
	id    map[string]int
	edges [][]Edge
	to    [][]int
	host  []bool
	// dist[i] is every node's cost to node i, computed on first use under
	// its own sync.Once, so that route workers asking for other
	// destinations do not wait for it.
	dist []denseDist
}

type denseDist struct {
	once sync.Once
	d    []int
}

// denseIndex returns the node numbering, built on first use once the
// graph is complete (a sync.Once, not a mutex: it is asked for on every
// NextHops call, from every route worker).
func (t *Topology) denseIndex() *denseIndex {
	t.denseOnce.Do(func() {
		ix := &denseIndex{id: make(map[string]int, len(t.nodes))}
		names := make([]string, 0, len(t.nodes))
		for n := range t.nodes {
			ix.id[n] = len(names)
			names = append(names, n)
		}
		ix.edges, ix.to, ix.host = make([][]Edge, len(names)), make([][]int, len(names)), make([]bool, len(names))
		ix.dist = make([]denseDist, len(names))
		for i, n := range names {
			ix.host[i] = t.nodes[n].host != nil
			ix.edges[i] = t.out[n]
			for _, e := range t.out[n] {
				ix.to[i] = append(ix.to[i], ix.id[e.To])
			}
		}
		t.dense = ix
	})
	return t.dense
}

// distances returns every node's cost to node dst by number, -1 where
// dst cannot be reached.
func (ix *denseIndex) distances(dst int) []int {
	dd := &ix.dist[dst]
	dd.once.Do(func() { dd.d = ix.dijkstra(dst) })
	return dd.d
}

// dijkstra is Topology.dijkstra over node numbers, without removals (the
// removals are Yen's, KShortestPaths'): the
// costs from src (equal to the costs to src, links being symmetric), -1
// where unreachable. Called once per destination host when routes are
// compiled (200 at 2,000 switches), where the string-keyed version took a
// third of the route phase.
func (ix *denseIndex) dijkstra(src int) []int {
	dist := make([]int, len(ix.to))
	for i := range dist {
		dist[i] = -1
	}
	dist[src] = 0
	pq := denseHeap{{src, 0}}
	for len(pq) > 0 {
		it := pq.pop()
		if it.d > dist[it.n] {
			continue
		}
		if it.n != src && ix.host[it.n] {
			continue
		}
		for k, to := range ix.to[it.n] {
			nd := it.d + ix.edges[it.n][k].Cost
			if old := dist[to]; old < 0 || nd < old {
				dist[to] = nd
				pq.push(denseItem{to, nd})
			}
		}
	}
	return dist
}

type denseItem struct{ n, d int }

// denseHeap is a binary min-heap on cost (container/heap's interface
// boxes every item; this does not).
type denseHeap []denseItem

func (h *denseHeap) push(it denseItem) {
	*h = append(*h, it)
	q := *h
	for i := len(q) - 1; i > 0; {
		p := (i - 1) / 2
		if q[p].d <= q[i].d {
			break
		}
		q[p], q[i] = q[i], q[p]
		i = p
	}
}

func (h *denseHeap) pop() denseItem {
	q := *h
	top := q[0]
	last := len(q) - 1
	q[0] = q[last]
	q = q[:last]
	for i := 0; ; {
		l, m := 2*i+1, i
		if l < len(q) && q[l].d < q[m].d {
			m = l
		}
		if r := l + 1; r < len(q) && q[r].d < q[m].d {
			m = r
		}
		if m == i {
			break
		}
		q[i], q[m] = q[m], q[i]
		i = m
	}
	*h = q
	return top
}

// ShortestPaths returns every equal-cost shortest path from src to dst (an
// ECMP set), in port order, at most limit of them (limit ≤ 0: no limit; a
// fabric can have exponentially many).
func (t *Topology) ShortestPaths(src, dst string, limit int) ([]Path, error) {
	if err := t.checkNodes(src, dst); err != nil {
		return nil, err
	}
	if src == dst {
		return nil, fmt.Errorf("%s to itself: %w", src, ErrNoPath)
	}
	// The costs NextHops uses, computed once per destination.
	ix := t.denseIndex()
	si, di := ix.id[src], ix.id[dst]
	dist := ix.distances(di)
	if dist[si] < 0 {
		return nil, fmt.Errorf("%s to %s: %w", src, dst, ErrNoPath)
	}
	var paths []Path
	var walk []Edge
	var rec func(n int) bool
	rec = func(n int) bool {
		if n == di {
			p := Path{Edges: append([]Edge(nil), walk...), Cost: dist[si]}
			paths = append(paths, p)
			return limit > 0 && len(paths) >= limit
		}
		if n != si && ix.host[n] {
			return false
		}
		for k, e := range ix.edges[n] {
			if de := dist[ix.to[n][k]]; de >= 0 && de+e.Cost == dist[n] {
				walk = append(walk, e)
				stop := rec(ix.to[n][k])
				walk = walk[:len(walk)-1]
				if stop {
					return true
				}
			}
		}
		return false
	}
	rec(si)
	return paths, nil
}

// KShortestPaths returns up to k loop-free paths from src to dst in order
// of increasing cost (Yen's algorithm; ties broken by edge names so the
// result is deterministic). The first paths are the equal-cost shortest
// ones.
func (t *Topology) KShortestPaths(src, dst string, k int) ([]Path, error) {
	if err := t.checkNodes(src, dst); err != nil {
		return nil, err
	}
	if src == dst {
		return nil, fmt.Errorf("%s to itself: %w", src, ErrNoPath)
	}
	if k <= 0 {
		return nil, nil
	}
	first, ok := t.onePath(src, dst, nil, nil)
	if !ok {
		return nil, fmt.Errorf("%s to %s: %w", src, dst, ErrNoPath)
	}
	found := []Path{first}
	seen := map[string]bool{first.String(): true}
	var candidates []Path
	for len(found) < k {
		last := found[len(found)-1]
		for i := range last.Edges {
			spur := last.Edges[i].From
			rootEdges := last.Edges[:i]
			removedEdges := map[edgeKey]bool{}
			for _, p := range found {
				if len(p.Edges) > i && samePrefix(p.Edges[:i], rootEdges) {
					removedEdges[keyOf(p.Edges[i])] = true
				}
			}
			removedNodes := map[string]bool{}
			rootCost := 0
			for _, e := range rootEdges {
				removedNodes[e.From] = true
				rootCost += e.Cost
			}
			sp, ok := t.onePath(spur, dst, removedEdges, removedNodes)
			if !ok {
				continue
			}
			p := Path{Edges: append(append([]Edge(nil), rootEdges...), sp.Edges...), Cost: rootCost + sp.Cost}
			if s := p.String(); !seen[s] {
				seen[s] = true
				candidates = append(candidates, p)
			}
		}
		if len(candidates) == 0 {
			break
		}
		best := 0
		for i, c := range candidates {
			if c.Cost < candidates[best].Cost || c.Cost == candidates[best].Cost && c.String() < candidates[best].String() {
				best = i
			}
		}
		found = append(found, candidates[best])
		candidates = append(candidates[:best], candidates[best+1:]...)
	}
	return found, nil
}

func samePrefix(a, b []Edge) bool {
	for i := range b {
		if keyOf(a[i]) != keyOf(b[i]) {
			return false
		}
	}
	return true
}

// onePath is the lowest-cost path from src to dst avoiding the removed
// edges and nodes, choosing the lexicographically smallest edge names among
// ties.
func (t *Topology) onePath(src, dst string, removedEdges map[edgeKey]bool, removedNodes map[string]bool) (Path, bool) {
	if removedNodes[src] {
		return Path{}, false
	}
	dist := t.dijkstra(dst, reverse(removedEdges), removedNodes)
	ds, ok := dist[src]
	if !ok {
		return Path{}, false
	}
	var p Path
	n := src
	for n != dst {
		var best *Edge
		for _, e := range t.out[n] {
			if removedNodes[e.To] || removedEdges[keyOf(e)] || (e.ToHost && e.To != dst) {
				continue
			}
			if de, ok := dist[e.To]; ok && de+e.Cost == dist[n] {
				if best == nil || e.Name() < best.Name() {
					e := e
					best = &e
				}
			}
		}
		if best == nil {
			return Path{}, false // cannot happen with symmetric links
		}
		p.Edges = append(p.Edges, *best)
		n = best.To
	}
	p.Cost = ds
	return p, true
}

// reverse maps removed edges to the opposite direction, because dijkstra
// runs from dst over the reverse graph.
func reverse(removed map[edgeKey]bool) map[edgeKey]bool {
	if len(removed) == 0 {
		return nil
	}
	out := make(map[edgeKey]bool, len(removed))
	for k := range removed {
		out[edgeKey{from: k.to, fromPort: k.toPort, to: k.from, toPort: k.fromPort}] = true
	}
	return out
}
