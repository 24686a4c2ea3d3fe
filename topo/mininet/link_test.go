package mininet

import (
	"context"
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

// The controller's topology copy marks down the links failed with
// EditTopology, not those only cut in the data plane (the controller must
// detect those by probes), and has them all back once none is.
func TestTopologyCopyWithoutDownLinks(t *testing.T) {
	tp, err := topo.Load("../examples/fabric.yaml")
	if err != nil {
		t.Fatal(err)
	}
	l := New(tp, WithStateRoot(t.TempDir()))
	if err := os.MkdirAll(l.StateDir(), 0o700); err != nil {
		t.Fatal(err)
	}
	links := func(cut []string, down ...string) []string {
		t.Helper()
		set := map[string]bool{}
		for _, c := range cut {
			set[c] = false
		}
		for _, d := range down {
			set[d] = true
		}
		if err := l.writeLinksDown(set); err != nil {
			t.Fatal(err)
		}
		if back, err := l.linksDown(); err != nil || fmt.Sprint(back) != fmt.Sprint(set) {
			t.Fatalf("links-down reads back as %v, %v; wrote %v", back, err, set)
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
		cut  []string // data plane only
		down []string // EditTopology
		want []string
	}{
		{nil, nil, all},
		{nil, []string{"leaf1:3-spine1:1"}, all[1:]},
		// Cut in the data plane only: the copy is the intent, all links.
		{[]string{"leaf1:3-spine1:1"}, nil, all},
		{[]string{"leaf1:3-spine1:1"}, []string{"leaf2:4-spine2:2"}, all[:3]},
		// Both of spine1's links: spine1 is cut off, the hosts still connect.
		{nil, []string{"leaf1:3-spine1:1", "leaf2:3-spine1:2"}, []string{all[1], all[3]}},
		{nil, nil, all},
	} {
		got := links(tt.cut, tt.down...)
		if len(got) != len(tt.want) {
			t.Errorf("cut %v, down %v: copy has links %v, want %v", tt.cut, tt.down, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("cut %v, down %v: copy has links %v, want %v", tt.cut, tt.down, got, tt.want)
				break
			}
		}
	}
}

func TestParseLinkChange(t *testing.T) {
	tests := []struct {
		state, ep string
		want      LinkChange
		err       string // substring; "" for none
	}{
		{"down", "leaf1:3", LinkChange{Endpoint: topo.Endpoint{Switch: "leaf1", Port: 3}}, ""},
		{"up", "spine1:1", LinkChange{Endpoint: topo.Endpoint{Switch: "spine1", Port: 1}, Up: true}, ""},
		{"off", "leaf1:3", LinkChange{}, `expected down or up, got "off"`},
		{"down", "leaf1", LinkChange{}, "leaf1"},
		{"down", "leaf1:x", LinkChange{}, "leaf1:x"},
	}
	for _, tt := range tests {
		got, err := ParseLinkChange(tt.state, tt.ep)
		switch {
		case tt.err == "" && (err != nil || got != tt.want):
			t.Errorf("ParseLinkChange(%q, %q) = %+v, %v; want %+v", tt.state, tt.ep, got, err, tt.want)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("ParseLinkChange(%q, %q) error %v; want one containing %q", tt.state, tt.ep, err, tt.err)
		}
	}
}

// A lab whose state directory is missing is not up for SetLink, even when
// a namespace of its name exists (another lab of that topology, started
// with another --state-dir, e.g. by a test): nothing is cut.
func TestSetLinkNeedsStateDir(t *testing.T) {
	tp, err := topo.Load("../examples/fabric.yaml")
	if err != nil {
		t.Fatal(err)
	}
	l := New(tp, WithStateRoot(t.TempDir()))
	_, err = l.SetLink(context.Background(), LinkChange{Endpoint: topo.Endpoint{Switch: "leaf1", Port: 3}})
	if !errors.Is(err, ErrPrecondition) || !strings.Contains(err.Error(), l.StateDir()) {
		t.Errorf("SetLink without state dir: %v; want ErrPrecondition naming %s", err, l.StateDir())
	}
}
