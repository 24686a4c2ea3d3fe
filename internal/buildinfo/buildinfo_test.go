package buildinfo

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestFrom(t *testing.T) {
	stamped := &debug.BuildInfo{
		GoVersion: "go1.26.8",
		Main:      debug.Module{Path: "github.com/p4qos/p4qos", Version: "v0.3.0"},
		Settings: []debug.BuildSetting{
			{Key: "-buildmode", Value: "exe"},
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: "d146fe7"},
			{Key: "vcs.time", Value: "2026-12-02T18:00:00Z"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	tests := []struct {
		name string
		bi   *debug.BuildInfo
		want Info
		text []string // lines String must contain
	}{
		{"stamped and dirty", stamped,
			Info{Module: "github.com/p4qos/p4qos", Version: "v0.3.0", Revision: "d146fe7", Modified: true, Time: "2026-12-02T18:00:00Z", GoVersion: "go1.26.8"},
			[]string{"p4qos v0.3.0\n", "  module    github.com/p4qos/p4qos\n", "  revision  d146fe7 (dirty: uncommitted changes)\n", "  committed 2026-12-02T18:00:00Z\n", "  go        go1.26.8\n"}},
		{"go run: no VCS stamp",
			&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/p4qos/p4qos", Version: "(devel)"}},
			Info{Module: "github.com/p4qos/p4qos", Version: "(devel)", Revision: "unknown", Time: "unknown", GoVersion: "go1.26.8"},
			[]string{"p4qos (devel)\n", "  revision  unknown\n", "  committed unknown\n"}},
		{"clean tree",
			&debug.BuildInfo{Main: debug.Module{Path: "m"}, Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc"}, {Key: "vcs.modified", Value: "false"}}},
			Info{Module: "m", Version: "unknown", Revision: "abc", Time: "unknown", GoVersion: "unknown"},
			[]string{"  revision  abc\n"}},
		{"no build information", nil,
			Info{Module: "unknown", Version: "unknown", Revision: "unknown", Time: "unknown", GoVersion: "unknown"},
			[]string{"p4qos unknown\n"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := From(tc.bi)
			if got != tc.want {
				t.Errorf("From = %+v, want %+v", got, tc.want)
			}
			s := got.String()
			for _, line := range tc.text {
				if !strings.Contains(s, line) {
					t.Errorf("String() lacks %q:\n%s", line, s)
				}
			}
			if !tc.want.Modified && strings.Contains(s, "dirty") {
				t.Errorf("clean build reported dirty:\n%s", s)
			}
		})
	}
}

// TestRead checks the running test binary's own information: the toolchain
// always records the Go version.
func TestRead(t *testing.T) {
	if got := Read(); !strings.HasPrefix(got.GoVersion, "go") {
		t.Errorf("Read().GoVersion = %q", got.GoVersion)
	}
}
