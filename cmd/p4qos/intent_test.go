package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/p4qos/p4qos/internal/etcdtest"
)

// TestIntentCommand runs `p4qos intent` against a real etcd, step by step:
// exit statuses (2 invalid input, 1 runtime failure) and what it prints.
func TestIntentCommand(t *testing.T) {
	etcd := etcdtest.Start(t, 1)
	pol, topo := repoFile(t, "topo/examples/fabric-policy.yaml"), repoFile(t, "topo/examples/fabric.yaml")
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("classes: [{name: x, match: {dscp: 99}, phb: EF}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cl := "--cluster=" + etcd.URL()
	for _, step := range []struct {
		name   string
		args   []string
		code   int
		stdout string // a substring of stdout, or of stderr when code != 0
	}{
		{"get from an empty store", []string{"intent", "get", cl}, 1, "the intent store is empty"},
		{"put", []string{"intent", "put", cl, "-p", pol, "-t", topo}, 0, "intent revision 1 stored"},
		{"put that does not compile", []string{"intent", "put", cl, "-p", bad, "-t", topo}, 2, "DSCP must be 0..63"},
		{"put against a stale revision", []string{"intent", "put", cl, "-p", pol, "-t", topo, "--expect", "0"}, 1, "changed concurrently"},
		{"put without a topology", []string{"intent", "put", cl, "-p", pol}, 2, "-t topology.yaml"},
		{"second put", []string{"intent", "put", cl, "-p", pol, "-t", topo, "--expect", "1"}, 0, "intent revision 2 stored"},
		{"rollback", []string{"intent", "rollback", "1", cl}, 0, "intent revision 3 stored: the content of revision 1"},
		{"rollback to a missing revision", []string{"intent", "rollback", "9", cl}, 1, "no such intent revision"},
		{"rollback to no number", []string{"intent", "rollback", "x", cl}, 2, "positive integer"},
		{"history", []string{"intent", "history", cl}, 0, "rollback to 1"},
		{"get", []string{"intent", "get", cl}, 0, "revision: 3"},
		{"unknown subcommand", []string{"intent", "delete", cl}, 2, "expected put, get, history or rollback REV"},
		{"no cluster", []string{"intent", "get"}, 2, "cluster: not set"},
		{"bad cluster", []string{"intent", "get", "--cluster", "http://x:1"}, 2, "expected etcd:// or etcds://"},
	} {
		t.Run(step.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, step.args...)
			got := out
			if step.code != 0 {
				got = errOut
			}
			if code != step.code || !strings.Contains(got, step.stdout) {
				t.Fatalf("exit %d, want %d; output %q does not contain %q (stderr %q)", code, step.code, got, step.stdout, errOut)
			}
		})
	}
}
