package main

import (
	"strings"
	"testing"
)

// From a directory without the repository's files, the binary's embedded
// copies serve: `go install`ed p4qos can run the demo and compile the
// example (issue #16: "the binary works only from the repository root").
func TestRunsOutsideTheRepository(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Chdir(t.TempDir())
	code, out, stderr := runCLI(t, "compile", "-t", "topo/examples/fabric.yaml", "-p", "topo/examples/fabric-policy.yaml", "--switch", "leaf1")
	if code != 0 || !strings.Contains(out, "# switch leaf1") {
		t.Fatalf("compile: exit %d\n%s\n%s", code, out, stderr)
	}
	code, out, stderr = runCLI(t, "demo", "--rounds", "2")
	if code != 0 || !strings.Contains(out, "demo done: 4 switches") {
		t.Fatalf("demo: exit %d\n%s\n%s", code, out, stderr)
	}
	if code, _, stderr = runCLI(t, "compile", "-t", "topo/examples/none.yaml", "-p", "topo/examples/fabric-policy.yaml"); code != 2 {
		t.Errorf("a path the binary does not carry: exit %d, %s", code, stderr)
	}
}
