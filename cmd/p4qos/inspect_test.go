package main

import (
	"net"
	"strings"
	"testing"
)

// show, diff and top through the CLI: their errors keep their exit status
// (2 usage, 1 unreachable, 3 when diff cannot compare) and a clear line.
func TestInspectCommandsExitStatus(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := lis.Addr().String()
	lis.Close()
	topo, policy := repoFile(t, "topo/examples/fabric.yaml"), repoFile(t, "topo/examples/fabric-policy.yaml")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"show"}, 2, "accepts 1 arg"},
		{[]string{"show", "entries"}, 2, "no switch: give --switch"},
		{[]string{"show", "entries", "--switch", closed}, 1, "is unreachable"},
		{[]string{"show", "entries", "--switch", closed, "--bogus"}, 2, "unknown flag"},
		{[]string{"diff", "-t", topo}, 2, "give -c p4qos.yaml, or -t topo.yaml and -p policy.yaml"},
		{[]string{"diff", "-t", topo, "-p", policy, "-s", "leaf1", "--timeout", "200ms", "-o", "json"}, 3, "could not compare leaf1"},
		{[]string{"top", "extra"}, 2, "accepts 0 arg"},
	} {
		if tc.code == 3 && !portClosed("127.0.0.1:50051") {
			continue // another process serves the topology's address
		}
		code, _, stderr := runCLI(t, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("p4qos %s: exit %d, stderr %q; want %d and %q", strings.Join(tc.args, " "), code, stderr, tc.code, tc.want)
		}
	}
}

func portClosed(addr string) bool {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return true
	}
	c.Close()
	return false
}
