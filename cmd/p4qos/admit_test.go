package main

import (
	"bytes"
	"strings"
	"testing"
)

// The exit status of admit request reaches the process: 0 admitted, 1
// rejected, 2 invalid input.
func TestAdmitExitCodes(t *testing.T) {
	base := []string{"admit", "request", "--dry-run", "-p", "../../topo/examples/fabric-policy.yaml", "-t", "../../topo/examples/fabric.yaml", "--src", "h1", "--dst", "h3", "--burst", "10KB"}
	cases := []struct {
		name string
		args []string
		code int
		out  string
	}{
		{"admitted", []string{"--rate", "2Mbps", "--max-delay", "20ms"}, 0, "ADMITTED"},
		{"rejected", []string{"--rate", "2Mbps", "--max-delay", "5ms"}, 1, "REJECTED"},
		{"usage", []string{"--rate", "2mbps"}, 2, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(append(append([]string(nil), base...), c.args...), strings.NewReader(""), &out, &errb)
			if code != c.code || !strings.Contains(out.String(), c.out) {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, c.code, out.String(), errb.String())
			}
		})
	}
}
