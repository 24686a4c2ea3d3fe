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
