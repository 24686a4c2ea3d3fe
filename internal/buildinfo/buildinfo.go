// Package buildinfo reports which p4qos binary is running: module version,
// VCS revision and whether the tree was modified, commit time and Go version,
// all from what the Go toolchain stamps into the binary. Bug reports need
// these, and they cannot drift the way a hand-maintained version string does.
package buildinfo

import (
	"fmt"
	"runtime/debug"
	"strings"
)

// unknown stands for a field the binary does not carry: "go run" and test
// binaries have no VCS stamp, and a build outside a module has no version.
const unknown = "unknown"

// Info is what a binary knows about its own build.
type Info struct {
	Module    string // module path
	Version   string // module version, "(devel)" for a plain go build
	Revision  string // VCS commit
	Modified  bool   // the work tree had uncommitted changes ("dirty")
	Time      string // commit time (vcs.time), RFC 3339
	GoVersion string
}

// Read returns the running binary's build information.
func Read() Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return From(nil)
	}
	return From(bi)
}

// From extracts Info from bi; a nil bi (no build information) gives every
// field as "unknown".
func From(bi *debug.BuildInfo) Info {
	in := Info{Module: unknown, Version: unknown, Revision: unknown, Time: unknown, GoVersion: unknown}
	if bi == nil {
		return in
	}
	in.Module = orUnknown(bi.Main.Path)
	in.Version = orUnknown(bi.Main.Version)
	in.GoVersion = orUnknown(bi.GoVersion)
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			in.Revision = orUnknown(s.Value)
		case "vcs.time":
			in.Time = orUnknown(s.Value)
		case "vcs.modified":
			in.Modified = s.Value == "true"
		}
	}
	return in
}

func orUnknown(s string) string {
	if s == "" {
		return unknown
	}
	return s
}

// String renders the information as "p4qos VERSION" followed by one
// "key value" line per field, the same for "p4qos version" and "--version".
func (in Info) String() string {
	rev := in.Revision
	if in.Modified {
		rev += " (dirty: uncommitted changes)"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "p4qos %s\n", in.Version)
	fmt.Fprintf(&b, "  module    %s\n", in.Module)
	fmt.Fprintf(&b, "  revision  %s\n", rev)
	fmt.Fprintf(&b, "  committed %s\n", in.Time)
	fmt.Fprintf(&b, "  go        %s\n", in.GoVersion)
	return b.String()
}
