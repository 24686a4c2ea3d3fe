package allocator

import (
	"fmt"
	"testing"
)

// TestNameTableMatchesMap checks the table against a Go map on enough
// names that probe sequences collide and wrap around the table's end.
func TestNameTableMatchesMap(t *testing.T) {
	for _, n := range []int{0, 1, 7, 8, 9, 1000, 5000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			// Every name appears twice (second time as a duplicate at a
			// later index), so that insert must report the first index.
			names := make([]string, 0, 2*n)
			for i := 0; i < n; i++ {
				names = append(names, fmt.Sprintf("n%d", i))
			}
			for i := 0; i < n; i++ {
				names = append(names, fmt.Sprintf("n%d", i))
			}
			tab := newNameTable(len(names), func(i int32) string { return names[i] })
			want := map[string]int{}
			for i, name := range names {
				j, dup := tab.insert(name, int32(i))
				wj, wdup := want[name]
				if dup != wdup || (dup && int(j) != wj) {
					t.Fatalf("insert(%q, %d) = %d, %v; want %d, %v", name, i, j, dup, wj, wdup)
				}
				if !wdup {
					want[name] = i
				}
			}
			for name, i := range want {
				if got := tab.lookup(name); int(got) != i {
					t.Fatalf("lookup(%q) = %d, want %d", name, got, i)
				}
			}
			for _, absent := range []string{"", "x", "n", fmt.Sprintf("n%d", n), "n-1"} {
				if got := tab.lookup(absent); got != -1 {
					t.Fatalf("lookup(%q) = %d, want -1", absent, got)
				}
			}
		})
	}
}

// TestValidateDuplicateAndUnknownNames exercises the name tables through
// flatten: duplicates are reported with the first index, unknown links
// as unknown, and known links resolve to their indices.
func TestValidateDuplicateAndUnknownNames(t *testing.T) {
	p := &Problem{
		Links: []Link{{Name: "a", Capacity: 1}, {Name: "b", Capacity: 1}, {Name: "a", Capacity: 1}},
		FlowGroups: []FlowGroup{
			{Name: "g", Paths: []Path{{Links: []string{"b", "a"}, Weight: 1}}},
			{Name: "g", Paths: []Path{{Links: []string{"c"}, Weight: 1}}},
		},
	}
	_, err := p.flatten(true)
	ve, ok := err.(*ValidationError)
	if !ok {
		t.Fatalf("flatten: got %v, want a *ValidationError", err)
	}
	var msgs []string
	for _, is := range ve.Issues {
		msgs = append(msgs, is.Item+": "+is.Msg)
	}
	want := []string{
		`links[2] "a": duplicate link name (also links[0])`,
		`flow_groups[1] "g": duplicate flow group name (also flow_groups[0])`,
		`flow_groups[1] "g": path 0: unknown link "c"`,
	}
	if fmt.Sprint(msgs) != fmt.Sprint(want) {
		t.Fatalf("issues:\n got %q\nwant %q", msgs, want)
	}

	p.Links = p.Links[:2]
	p.FlowGroups[1] = FlowGroup{Name: "h", Paths: []Path{{Links: []string{"a"}, Weight: 1}}}
	s, err := p.flatten(true)
	if err != nil {
		t.Fatal(err)
	}
	if pl := s.plLink; fmt.Sprint(pl) != "[1 0 0]" { // b=1, a=0; then a=0
		t.Fatalf("path link indices = %v, want [1 0 0]", pl)
	}
}
