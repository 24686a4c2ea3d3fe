package compiler

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/p4qos/p4qos/topo"
)

// TestRouteCacheEqualsFullCompile: compiling with a RouteCache after a
// link goes down, and again after it comes back up, gives entity for
// entity (same order) what a compile without the cache gives, and reuses
// the routes of some switches but not of all (the link changes some
// switches' next hops). ECMP, single-path and WCMP routing, on the demo
// fabric and the triangle.
func TestRouteCacheEqualsFullCompile(t *testing.T) {
	s := loadSchema(t)
	fabricPolicy := string(mustRead(t, filepath.Join(examplesPath, "fabric-policy.yaml")))
	wcmpPolicy := `classes: [{name: be, phb: DF}]
tenants:
  - name: a
    flow_groups:
      - {name: a-web, src: h1, dst: h3}
      - {name: a-backup, src: h1, dst: h4}
routing: {mode: wcmp}
`
	tests := []struct {
		name, topo, policy, link string
		opts                     []Option
	}{
		{"ecmp", "fabric.yaml", fabricPolicy, "{a: leaf1:3, b: spine1:1,", nil},
		{"ecmp watch ports", "fabric.yaml", fabricPolicy, "{a: leaf2:4, b: spine2:2,", []Option{WithWatchPorts()}},
		{"single", "fabric.yaml", strings.Replace(fabricPolicy, "mode: ecmp", "mode: single", 1), "{a: leaf1:3, b: spine1:1,", nil},
		{"wcmp", "fabric.yaml", wcmpPolicy, "{a: leaf1:4, b: spine2:1,", nil},
		{"triangle", "triangle.yaml", "classes: [{name: be, phb: DF}]\n", "{a: s1:2, b: s2:2,", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			up := string(mustRead(t, filepath.Join(examplesPath, tc.topo)))
			down := strings.Replace(up, tc.link, tc.link+" down: true,", 1)
			if down == up {
				t.Fatalf("%s has no link %q", tc.topo, tc.link)
			}
			pol, err := ParsePolicy("p.yaml", []byte(tc.policy))
			if err != nil {
				t.Fatal(err)
			}
			compile := func(text string, opts ...Option) *Result {
				t.Helper()
				tp, err := topo.Parse(tc.topo, []byte(text))
				if err != nil {
					t.Fatal(err)
				}
				res, err := Compile(context.Background(), pol, tp, s, append(append([]Option(nil), tc.opts...), opts...)...)
				if err != nil {
					t.Fatal(err)
				}
				return res
			}
			rc := &RouteCache{}
			for i, step := range []struct {
				what, text string
				reuse      bool
			}{{"first", up, false}, {"link down", down, true}, {"link up", up, true}, {"unchanged", up, true}} {
				got, want := compile(step.text, WithRouteCache(rc)), compile(step.text)
				if len(got.Switches) != len(want.Switches) {
					t.Fatalf("%s: %d switches, want %d", step.what, len(got.Switches), len(want.Switches))
				}
				for sw, w := range want.Switches {
					g := got.Switches[sw]
					if len(g) != len(w) {
						t.Fatalf("%s: %s has %d entities, want %d", step.what, sw, len(g), len(w))
					}
					for k := range w {
						if !proto.Equal(g[k], w[k]) {
							t.Fatalf("%s: %s entity %d = %v, want %v", step.what, sw, k, g[k], w[k])
						}
					}
				}
				n := len(want.Switches)
				switch r := rc.Reused(); {
				case !step.reuse && r != 0:
					t.Errorf("%s: reused %d switches' routes, want none", step.what, r)
				case step.reuse && i == 3 && r != n:
					t.Errorf("%s: reused %d switches' routes, want all %d", step.what, r, n)
				case step.reuse && i < 3 && (r == 0 || r == n):
					t.Errorf("%s: reused %d of %d switches' routes, want some but not all", step.what, r, n)
				}
			}
		})
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
