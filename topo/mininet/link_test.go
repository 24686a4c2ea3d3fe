package mininet

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/p4qos/p4qos/topo"
)

func TestLinkOf(t *testing.T) {
	tp, err := topo.Load("../examples/fabric.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		ep   topo.Endpoint
		want string // link name, "" for ErrNoLink
	}{
		{topo.Endpoint{Switch: "leaf1", Port: 3}, "leaf1:3-spine1:1"},
		{topo.Endpoint{Switch: "spine1", Port: 1}, "leaf1:3-spine1:1"}, // either end
		{topo.Endpoint{Switch: "spine2", Port: 2}, "leaf2:4-spine2:2"},
		{topo.Endpoint{Switch: "leaf1", Port: 1}, ""}, // h1's access port
		{topo.Endpoint{Switch: "leaf1", Port: 9}, ""},
	}
	for _, tt := range tests {
		lk, err := LinkOf(tp, tt.ep)
		switch {
		case tt.want == "" && !errors.Is(err, ErrNoLink):
			t.Errorf("LinkOf(%s) = %v, %v; want ErrNoLink", tt.ep, lk, err)
		case tt.want != "" && (err != nil || lk.Name() != tt.want):
			t.Errorf("LinkOf(%s) = %v, %v; want %s", tt.ep, lk, err, tt.want)
		}
	}
	if got := IntfName(topo.Endpoint{Switch: "leaf1", Port: 3}); got != "leaf1-eth3" {
		t.Errorf("IntfName = %q, want Mininet's leaf1-eth3", got)
	}
}

// The controller's topology copy leaves out the links recorded as down,
// and has them back once none is.
func TestTopologyCopyWithoutDownLinks(t *testing.T) {
	tp, err := topo.Load("../examples/fabric.yaml")
	if err != nil {
		t.Fatal(err)
	}
	l := New(tp, WithStateRoot(t.TempDir()))
	if err := os.MkdirAll(l.StateDir(), 0o700); err != nil {
		t.Fatal(err)
	}
	links := func(down ...string) []string {
		t.Helper()
		set := map[string]bool{}
		for _, d := range down {
			set[d] = true
		}
		if err := l.writeLinksDown(set); err != nil {
			t.Fatal(err)
		}
		path, err := l.bmv2Topology()
		if err != nil {
			t.Fatal(err)
		}
		if path != filepath.Join(l.StateDir(), "topology.yaml") {
			t.Fatalf("copy written to %s", path)
		}
		ct, err := topo.Load(path)
		if err != nil {
			t.Fatalf("the copy does not load: %v", err)
		}
		// Failed links stay in the copy, marked down: their ports remain
		// cabled (policy settings on them still compile), no path uses them.
		if len(ct.Links) != 4 {
			t.Fatalf("copy has %d links, want all 4 (down ones marked)", len(ct.Links))
		}
		var names []string
		for _, lk := range ct.Links {
			if !lk.Down {
				names = append(names, lk.Name())
			}
		}
		for _, d := range down {
			ep := strings.SplitN(d, "-", 2)[0]
			sw, _, _ := strings.Cut(ep, ":")
			for _, e := range ct.Edges(sw) {
				if e.From+":"+fmt.Sprint(e.FromPort) == ep {
					t.Errorf("down link %s still has an edge from %s", d, ep)
				}
			}
		}
		return names
	}
	all := []string{"leaf1:3-spine1:1", "leaf1:4-spine2:1", "leaf2:3-spine1:2", "leaf2:4-spine2:2"}
	for _, tt := range []struct {
		down []string
		want []string
	}{
		{nil, all},
		{[]string{"leaf1:3-spine1:1"}, all[1:]},
		// Both of spine1's links: spine1 is cut off, the hosts still connect.
		{[]string{"leaf1:3-spine1:1", "leaf2:3-spine1:2"}, []string{all[1], all[3]}},
		{nil, all},
	} {
		got := links(tt.down...)
		if len(got) != len(tt.want) {
			t.Errorf("down %v: copy has links %v, want %v", tt.down, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("down %v: copy has links %v, want %v", tt.down, got, tt.want)
				break
			}
		}
	}
}
