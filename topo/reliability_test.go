package topo

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/p4qos/p4qos/internal/inputfile"
	"github.com/p4qos/p4qos/internal/yamlerr"
)

// Load reads through the bounded reader: /dev/zero is refused at once
// instead of being read until the runtime runs out of memory.
func TestReliability_LoadRefusesDevicesAndDirectories(t *testing.T) {
	for _, path := range []string{"/dev/zero", t.TempDir()} {
		if _, err := os.Stat(path); err != nil {
			continue
		}
		if _, err := Load(path); !errors.Is(err, inputfile.ErrNotRegular) {
			t.Errorf("Load(%s) = %v, want ErrNotRegular", path, err)
		}
	}
}

// null values are positioned errors, not zero values: "capacity: ~" on a
// link once passed as a link without a rate.
func TestReliability_NullTopologyValuesAreErrors(t *testing.T) {
	src := "switches: [{name: s1}, {name: s2}]\nlinks: [{a: \"s1:1\", b: \"s2:1\", capacity: ~}]\nhosts: [~]\n"
	_, err := Parse("t.yaml", []byte(src))
	var list yamlerr.List
	if !errors.As(err, &list) {
		t.Fatalf("got %v", err)
	}
	for _, path := range []string{"links[0].capacity", "hosts[0]"} {
		found := false
		for _, e := range list {
			found = found || e.Path == path && e.Line > 0 && strings.Contains(e.Msg, "got null")
		}
		if !found {
			t.Errorf("no null error at %s in:\n%v", path, list)
		}
	}
}
