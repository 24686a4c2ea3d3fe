package topo

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

func TestNextHops(t *testing.T) {
	fab := loadExample(t, "fabric.yaml")
	tri := loadExample(t, "triangle.yaml")
	tests := []struct {
		topo      *Topology
		sw, dst   string
		wantPorts []uint32
	}{
		// leaf1 reaches h3 (on leaf2) via either spine: uplinks 3 and 4.
		{fab, "leaf1", "h3", []uint32{3, 4}},
		// h2 hangs off leaf1 port 2.
		{fab, "leaf1", "h2", []uint32{2}},
		// spine1 reaches leaf2 on its port 2.
		{fab, "spine1", "h4", []uint32{2}},
		// Triangle: s1-s2 direct (cost 1) beats s1-s3-s2 (cost 2).
		{tri, "s1", "h2", []uint32{2}},
		{tri, "s3", "h1", []uint32{2}},
	}
	for _, tc := range tests {
		hops, err := tc.topo.NextHops(tc.sw, tc.dst)
		if err != nil {
			t.Fatalf("%s→%s: %v", tc.sw, tc.dst, err)
		}
		var ports []uint32
		for _, h := range hops {
			ports = append(ports, h.FromPort)
		}
		if !reflect.DeepEqual(ports, tc.wantPorts) {
			t.Errorf("%s→%s: ports %v, want %v", tc.sw, tc.dst, ports, tc.wantPorts)
		}
	}
	if _, err := fab.NextHops("leaf1", "nobody"); !errors.Is(err, ErrUnknownNode) {
		t.Errorf("unknown node: %v", err)
	}
}

func TestPeerMAC(t *testing.T) {
	fab := loadExample(t, "fabric.yaml")
	hops, _ := fab.NextHops("leaf1", "h3")
	// Towards spine1 (device 3) the next hop MAC is its router MAC.
	if got := fab.PeerMAC(hops[0]).String(); got != "02:00:00:00:00:03" {
		t.Errorf("peer MAC %s", got)
	}
	hops, _ = fab.NextHops("leaf2", "h3")
	if got := fab.PeerMAC(hops[0]).String(); got != "00:00:0a:00:02:03" {
		t.Errorf("host MAC %s", got)
	}
}

func TestShortestPaths(t *testing.T) {
	fab := loadExample(t, "fabric.yaml")
	paths, err := fab.ShortestPaths("h1", "h3", 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"h1->leaf1:1 leaf1:3->spine1:1 spine1:2->leaf2:3 leaf2:1->h3",
		"h1->leaf1:1 leaf1:4->spine2:1 spine2:2->leaf2:4 leaf2:1->h3",
	}
	var got []string
	for _, p := range paths {
		got = append(got, p.String())
		if p.Cost != 4 {
			t.Errorf("cost %d, want 4 (four hops)", p.Cost)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if p, _ := fab.ShortestPaths("h1", "h3", 1); len(p) != 1 {
		t.Errorf("limit 1 gave %d paths", len(p))
	}
	// Same leaf: one path, two hops.
	p, _ := fab.ShortestPaths("h1", "h2", 0)
	if len(p) != 1 || p[0].String() != "h1->leaf1:1 leaf1:2->h2" {
		t.Errorf("h1→h2: %v", p)
	}
	if _, err := fab.ShortestPaths("h1", "h1", 0); !errors.Is(err, ErrNoPath) {
		t.Errorf("self path: %v", err)
	}
}

func TestKShortestPaths(t *testing.T) {
	tri := loadExample(t, "triangle.yaml")
	paths, err := tri.KShortestPaths("h1", "h2", 5)
	if err != nil {
		t.Fatal(err)
	}
	// Only two loop-free paths exist in a triangle: direct (h1 s1 s2 h2,
	// 3 hops) and around (h1 s1 s3 s2 h2, 4 hops).
	want := []string{
		"h1->s1:1 s1:2->s2:2 s2:1->h2",
		"h1->s1:1 s1:3->s3:2 s3:3->s2:3 s2:1->h2",
	}
	if len(paths) != 2 || paths[0].String() != want[0] || paths[1].String() != want[1] || paths[0].Cost != 3 || paths[1].Cost != 4 {
		t.Errorf("got %v", paths)
	}
	fab := loadExample(t, "fabric.yaml")
	paths, _ = fab.KShortestPaths("h1", "h3", 3)
	// Only two loop-free paths exist: leaf1 has two uplinks and any detour
	// (leaf1 spine1 leaf2 spine2 ...) would have to revisit leaf1 or leaf2.
	// So k=3 yields the two equal-cost ones (cost 4) and stops.
	if len(paths) != 2 || paths[0].Cost != 4 || paths[1].Cost != 4 {
		t.Errorf("fabric k=3: %v", paths)
	}
	for _, p := range paths {
		seen := map[string]bool{}
		for _, n := range p.Nodes() {
			if seen[n] {
				t.Errorf("loop in %v", p)
			}
			seen[n] = true
		}
	}
}

// randomTopology is a connected random graph of n switches (a ring, so
// that every host reaches every other, plus extra links) with link costs
// 1–4, some links down, and one host on each of the first hosts switches.
func randomTopology(t *testing.T, seed uint64, n, extra, hosts int) *Topology {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	var s strings.Builder
	s.WriteString("name: random\nswitches:\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&s, "  - {name: s%d, device_id: %d, address: \"127.0.0.1:%d\", target: sim}\n", i, i, 50000+i)
	}
	s.WriteString("hosts:\n")
	for h := 1; h <= hosts; h++ {
		fmt.Fprintf(&s, "  - {name: h%d, ipv4: 10.0.%d.1/24, mac: \"00:00:0a:00:%02x:01\", switch: s%d, port: 1, link: {capacity: 1Gbps}}\n", h, h, h, h)
	}
	s.WriteString("links:\n")
	port := make([]int, n+1)
	for i := range port {
		port[i] = 1 // port 1 is the host's
	}
	link := func(a, b int, down bool) {
		port[a]++
		port[b]++
		fmt.Fprintf(&s, "  - {a: s%d:%d, b: s%d:%d, capacity: 10Gbps, cost: %d, down: %v}\n", a, port[a], b, port[b], 1+rng.IntN(4), down)
	}
	for i := 1; i <= n; i++ {
		link(i, i%n+1, false)
	}
	for range extra {
		a, b := 1+rng.IntN(n), 1+rng.IntN(n)
		if a != b {
			link(a, b, rng.IntN(4) == 0)
		}
	}
	top, err := Parse("random.yaml", []byte(s.String()))
	if err != nil {
		t.Fatal(err)
	}
	return top
}

// TestDenseDistancesMatchDijkstra: the numbered Dijkstra NextHops uses
// gives every node the same cost to every host as the string-keyed one
// ShortestPaths uses (-1 where that one has none), and NextHops returns
// exactly the edges e of the switch with cost(e) + cost(e.To → dst) equal
// to the switch's own cost (hosts other than dst excluded), on random
// weighted graphs with links down.
func TestDenseDistancesMatchDijkstra(t *testing.T) {
	for _, tc := range []struct {
		seed                uint64
		n, extra, hostCount int
	}{
		{1, 2, 0, 2}, {2, 8, 12, 4}, {3, 30, 60, 10}, {4, 100, 300, 40}, {5, 60, 20, 60},
	} {
		top := randomTopology(t, tc.seed, tc.n, tc.extra, tc.hostCount)
		for _, h := range top.Hosts {
			want := top.dijkstra(h.Name, nil, nil)
			ix := top.denseIndex()
			got := ix.distances(ix.id[h.Name])
			for name := range top.nodes {
				w, ok := want[name]
				if !ok {
					w = -1
				}
				if g := got[ix.id[name]]; g != w {
					t.Fatalf("seed %d: cost %s→%s = %d, want %d", tc.seed, name, h.Name, g, w)
				}
			}
			for _, sw := range top.Switches {
				hops, err := top.NextHops(sw.Name, h.Name)
				if err != nil {
					t.Fatal(err)
				}
				var wantHops []Edge
				for _, e := range top.out[sw.Name] {
					if d, ok := want[e.To]; ok && (!e.ToHost || e.To == h.Name) && d+e.Cost == want[sw.Name] {
						wantHops = append(wantHops, e)
					}
				}
				if !reflect.DeepEqual(hops, wantHops) {
					t.Fatalf("seed %d: NextHops(%s, %s) = %v, want %v", tc.seed, sw.Name, h.Name, hops, wantHops)
				}
			}
		}
	}
}
