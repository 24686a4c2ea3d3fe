package compiler

import (
	"context"
	"fmt"
	"strings"
	"testing"

	p4configv1 "github.com/p4lang/p4runtime/go/p4/config/v1"
	"google.golang.org/protobuf/proto"

	"github.com/p4qos/p4qos/compiler/contract"
	"github.com/p4qos/p4qos/tables"
	"github.com/p4qos/p4qos/topo"
	"slices"
	"time"
)

// scaledSchema is the qos pipeline's P4Info with 32-bit class ids and
// tables and meters of 2^24 cells. The real pipeline has 8-bit class ids
// (at most 255 classes), so compiling 100,000 classes needs a wider
// variant of the same program; the compiler reads every width and size
// from the P4Info, so nothing else changes.
func scaledSchema(b testing.TB) *tables.Schema {
	b.Helper()
	info := proto.Clone(loadSchema(b).P4Info()).(*p4configv1.P4Info)
	for _, a := range info.Actions {
		for _, p := range a.Params {
			if p.Name == contract.ParamClassID {
				p.Bitwidth = 32
			}
		}
	}
	for _, t := range info.Tables {
		t.Size = 1 << 24
		for _, m := range t.MatchFields {
			if m.Name == contract.KeyClassID {
				m.Bitwidth = 32
			}
		}
	}
	for _, m := range info.Meters {
		m.Size = 1 << 24
	}
	for _, c := range info.Counters {
		c.Size = 1 << 24
	}
	s, err := tables.New(info)
	if err != nil {
		b.Fatal(err)
	}
	return s
}

var benchPHBs = []string{"AF11", "AF21", "AF31", "AF41", "EF", "CS1", "DF"}

// benchPolicy has n classes, each on its own destination /32 with TCP and a
// port or port range; every fourth is metered. All share one precedence, so
// the overlap check must prove 100,000 classes pairwise disjoint.
func benchPolicy(n int) []byte {
	var b strings.Builder
	b.Grow(n * 100)
	b.WriteString("classes:\n")
	for i := 0; i < n; i++ {
		port := "80"
		if i%3 == 0 {
			port = "8000-8099"
		}
		fmt.Fprintf(&b, "  - {name: c%d, phb: %s, match: {dst: 10.%d.%d.%d, protocol: tcp, dst_port: %s}",
			i, benchPHBs[i%len(benchPHBs)], byte(i>>16), byte(i>>8), byte(i), port)
		if i%4 == 0 {
			b.WriteString(", meter: {cir: 1Mbps}")
		}
		b.WriteString("}\n")
	}
	return []byte(b.String())
}

var benchSizes = []int{1000, 10000, 100000}

func BenchmarkParsePolicy(b *testing.B) {
	for _, n := range benchSizes {
		data := benchPolicy(n)
		b.Run(fmt.Sprintf("classes=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			cpu := processCPU()
			for b.Loop() {
				if _, err := ParsePolicy("bench.yaml", data); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
		})
	}
}

// BenchmarkCompile compiles n classes for a one-switch topology into
// classifier, meter and color entries (plus the fixed phb and route
// entries), overlap and shadowing checks included.
func BenchmarkCompile(b *testing.B) {
	s := scaledSchema(b)
	tp := loadTopo(b, "single.yaml")
	for _, n := range benchSizes {
		p, err := ParsePolicy("bench.yaml", benchPolicy(n))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("classes=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			var entities int
			cpu := processCPU()
			for b.Loop() {
				res, err := Compile(context.Background(), p, tp, s)
				if err != nil {
					b.Fatal(err)
				}
				entities = len(res.Switches["s1"])
			}
			b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
			b.ReportMetric(float64(entities), "entities")
		})
	}
}

// largeFabric is a topology of n switches (k = max(n/50, 10) spines, n-k
// leaves with two uplinks each, as tests/perf's scale fabric) with hosts
// spread over the first leaves, hostsPerLeaf to a leaf (10.a.c.h/24 each).
func largeFabric(b testing.TB, n, hosts, hostsPerLeaf int) *topo.Topology {
	b.Helper()
	spines := max(n/50, 10)
	leaves := n - spines
	var s strings.Builder
	s.WriteString("name: large\nswitches:\n")
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("leaf%d", i+1)
		if i >= leaves {
			name = fmt.Sprintf("spine%d", i-leaves+1)
		}
		fmt.Fprintf(&s, "  - {name: %s, device_id: %d, address: \"127.0.0.1:%d\", target: sim}\n", name, i+1, 20000+i)
	}
	s.WriteString("hosts:\n")
	h := 0
	for l := 0; l < leaves && h < hosts; l++ {
		for j := 0; j < hostsPerLeaf && h < hosts; j++ {
			h++
			a, c := 1+l/250, l%250
			fmt.Fprintf(&s, "  - {name: h%d, ipv4: 10.%d.%d.%d/24, mac: \"00:00:%02x:%02x:%02x:01\", switch: leaf%d, port: %d, gateway: 10.%d.%d.254, link: {capacity: 1Gbps}}\n",
				h, a, c, j+1, a, c, j+1, l+1, 10+j, a, c)
		}
	}
	s.WriteString("links:\n")
	spinePort := make([]int, spines)
	for l := 0; l < leaves; l++ {
		a, c := l%spines, (l/spines)%spines
		if c == a {
			c = (a + 1) % spines
		}
		for up, sp := range []int{a, c} {
			spinePort[sp]++
			fmt.Fprintf(&s, "  - {a: leaf%d:%d, b: spine%d:%d, capacity: 10Gbps}\n", l+1, up+2, sp+1, spinePort[sp])
		}
	}
	t, err := topo.Parse("large.yaml", []byte(s.String()))
	if err != nil {
		b.Fatal(err)
	}
	return t
}

// largestPolicy: 255 classes (the pipeline's limit), 55 of them metered
// by the allocator for a flow group each, and 1,000 flow groups in 10
// tenants between hosts of different leaves.
func largestPolicy(hosts int) []byte {
	var b strings.Builder
	b.WriteString("routing: {mode: single}\nclasses:\n")
	for i := 0; i < 200; i++ {
		fmt.Fprintf(&b, "  - {name: c%d, precedence: 100, phb: %s, match: {dst: 10.%d.%d.%d, protocol: tcp, dst_port: %d}}\n",
			i, benchPHBs[i%len(benchPHBs)], 1+i/250, i%250, 1+i%20, 1000+i)
	}
	for i := 0; i < 55; i++ {
		fmt.Fprintf(&b, "  - {name: m%d, precedence: 200, phb: AF41, match: {src: h%d, dst: h%d, protocol: tcp, dst_port: %d}, meter: {from: allocator, flow_group: fg%d}}\n",
			i, 1+i*7%hosts, 1+(i*131+hosts/2)%hosts, 2000+i, i)
	}
	b.WriteString("tenants:\n")
	for t := 0; t < 10; t++ {
		fmt.Fprintf(&b, "  - name: t%d\n    weight: %d\n    flow_groups:\n", t, 1+t%3)
		for g := t * 100; g < (t+1)*100; g++ {
			src, dst := 1+g*7%hosts, 1+(g*131+hosts/2)%hosts
			fmt.Fprintf(&b, "      - {name: fg%d, src: h%d, dst: h%d}\n", g, src, dst)
		}
	}
	return []byte(b.String())
}

// BenchmarkCompileLargest compiles the largest policy the pipeline admits
// (255 classes; 1,000 flow groups) for a fabric of 1,000 switches with
// 100 hosts: 100k routes (a route per host per switch; 20,000 hosts would
// be 20 million), with the allocator inside, and reports each phase
// (WithPhaseTimes) per compile, as docs/performance.md shows. The
// closed-loop variant is the controller's per-round recompile with
// demands (WithClosedLoopOnly).
func BenchmarkCompileLargest(b *testing.B) {
	s := loadSchema(b)
	for _, size := range []struct{ switches, hosts int }{{100, 10}, {1000, 100}} {
		tp := largeFabric(b, size.switches, size.hosts, 4)
		p, err := ParsePolicy("largest.yaml", largestPolicy(len(tp.Hosts)))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("switches=%d/hosts=%d", size.switches, size.hosts), func(b *testing.B) { benchCompileLargest(b, s, tp, p) })
	}
}

func benchCompileLargest(b *testing.B, s *tables.Schema, tp *topo.Topology, p *Policy) {
	demands := map[string]float64{}
	for g := 0; g < 1000; g++ {
		demands[fmt.Sprintf("fg%d", g)] = float64(1+g%50) * 1e6
	}
	for _, v := range []struct {
		name string
		opts []Option
	}{
		{"full", nil},
		{"closed-loop", []Option{WithDemands(demands), WithClosedLoopOnly()}},
	} {
		b.Run(v.name, func(b *testing.B) {
			b.ReportAllocs()
			phases := map[string]time.Duration{}
			var order []string
			timer := WithPhaseTimes(func(name string, took time.Duration) {
				if _, ok := phases[name]; !ok {
					order = append(order, name)
				}
				phases[name] += took
			})
			lpm, err := s.Table(contract.IPv4LPM)
			if err != nil {
				b.Fatal(err)
			}
			var entities, routes int
			for b.Loop() {
				res, err := Compile(context.Background(), p, tp, s, append(slices.Clip(v.opts), timer)...)
				if err != nil {
					b.Fatal(err)
				}
				entities, routes = 0, 0
				for _, ents := range res.Switches {
					entities += len(ents)
					for _, e := range ents {
						if e.GetTableEntry().GetTableId() == lpm.GetPreamble().GetId() {
							routes++
						}
					}
				}
			}
			for _, ph := range order {
				b.ReportMetric(float64(phases[ph].Microseconds())/1000/float64(b.N), ph+"-ms")
			}
			b.ReportMetric(float64(entities), "entities")
			b.ReportMetric(float64(routes), "ipv4-routes")
		})
	}
}
