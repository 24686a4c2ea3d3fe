package controller

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
)

// scaleFabric writes a leaf–spine fabric of n switches (n/50 spines, at
// least 10; two uplinks per leaf; one host on each of the first 200 leaves,
// the shape of tests/perf's BenchmarkControllerScale) and the single-path
// policy, and returns a config naming them (no switch is ever contacted).
func scaleFabric(b testing.TB, n int) Config {
	b.Helper()
	dir := b.TempDir()
	spines := max(n/50, 10)
	leaves := n - spines
	var s strings.Builder
	s.WriteString("name: scale\nswitches:\n")
	for i := range n {
		name := fmt.Sprintf("leaf%d", i+1)
		if i >= leaves {
			name = fmt.Sprintf("spine%d", i-leaves+1)
		}
		fmt.Fprintf(&s, "  - {name: %s, device_id: %d, address: \"127.0.0.1:%d\", target: sim}\n", name, i+1, 20000+i)
	}
	s.WriteString("hosts:\n")
	for l := range min(leaves, 200) {
		hi, lo := (l+1)>>8, (l+1)&255
		fmt.Fprintf(&s, "  - {name: h%d, ipv4: 10.%d.%d.1/24, mac: \"00:00:0a:%02x:%02x:01\", switch: leaf%d, port: 1, link: {capacity: 1Gbps}}\n",
			l+1, hi, lo, hi, lo, l+1)
	}
	s.WriteString("links:\n")
	spinePort := make([]int, spines)
	for l := range leaves {
		for up, sp := range []int{l % spines, (l / spines) % spines} {
			if up == 1 && sp == l%spines {
				sp = (sp + 1) % spines
			}
			spinePort[sp]++
			fmt.Fprintf(&s, "  - {a: leaf%d:%d, b: spine%d:%d, capacity: 10Gbps}\n", l+1, up+2, sp+1, spinePort[sp])
		}
	}
	cfg := Default()
	cfg.Topology = writeFile(b, dir, "topology.yaml", s.String())
	cfg.Policy = writeFile(b, dir, "policy.yaml", `version: 1
classify_at: edge
classes:
  - {name: voice, precedence: 300, match: {protocol: udp, dst_port: 16384-32767}, phb: EF, meter: {cir: 2Mbps, cbs: 3KB}}
  - {name: best-effort, precedence: 1, phb: DF}
routing: {mode: single}
`)
	cfg.P4Info = repoFile(b, "p4src/build/qos.p4info.txtpb")
	return cfg
}

// BenchmarkLinkRecompile: the recompilation a link change costs the
// controller at 2,000 switches (recompileLinks without the daemon): the
// fabric with the link down, then the policy compiled for it.
func BenchmarkLinkRecompile(b *testing.B) {
	cfg := scaleFabric(b, 2000)
	ctx := context.Background()
	f := must(LoadFabric(&cfg))
	policy := must(os.ReadFile(cfg.Policy))
	must(f.Compile(ctx, policy))
	for b.Loop() {
		nf := must(f.withFailed(map[string]bool{"leaf1:2-spine1:1": true}))
		must(nf.Compile(ctx, policy))
	}
}

// BenchmarkNewScale: controller.New at 2,000 switches (load the fabric,
// compile, set the daemon's intent), the part of a daemon's start-up
// before it connects to anything.
func BenchmarkNewScale(b *testing.B) {
	cfg := scaleFabric(b, 2000)
	cfg.MetricsAddr = "off"
	for b.Loop() {
		must(New(context.Background(), cfg))
	}
}
