package main

import (
	"context"
	"encoding/json"
	"net"
	"strings"
	"testing"

	"github.com/p4qos/p4qos/controller"
	"github.com/p4qos/p4qos/controller/statusapi"
)

// TestStatus runs the daemon on sims with its listener on an ephemeral
// port and reads it with `p4qos status`.
func TestStatus(t *testing.T) {
	_, switches := fabricSims(t)
	cfgFile := writeFile(t, t.TempDir(), "p4qos.yaml", baseConfig(t, repoFile(t, "topo/examples/fabric-policy.yaml"), switches))
	cfg, err := controller.Load(controller.Sources{File: cfgFile})
	if err != nil {
		t.Fatal(err)
	}
	cfg.MetricsAddr = "127.0.0.1:0"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, converged := make(chan string, 1), make(chan string, 16)
	c, err := controller.New(ctx, cfg, controller.WithServing(func(a string) { addr <- a }), controller.WithEvents(func(e controller.Event) {
		if e.Kind == controller.SwitchConverged {
			select {
			case converged <- e.Switch:
			default:
			}
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	defer func() { cancel(); <-done }()
	api := "http://" + <-addr
	for seen := map[string]bool{}; len(seen) < 4; {
		seen[<-converged] = true
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + lis.Addr().String()
	lis.Close()

	tests := []struct {
		name  string
		args  []string
		code  int
		check func(t *testing.T, stdout, stderr string)
	}{
		{"table", []string{"--api", api}, 0, func(t *testing.T, out, _ string) {
			for _, sw := range []string{"leaf1", "leaf2", "spine1", "spine2"} {
				if !strings.Contains(out, sw+"  ") || !strings.Contains(out, "primary") {
					t.Errorf("table lacks %s as primary:\n%s", sw, out)
				}
			}
			if !strings.Contains(out, "ready: true") || !strings.Contains(out, "FLOW GROUP") {
				t.Errorf("table:\n%s", out)
			}
		}},
		{"json", []string{"--api", api, "-o", "json"}, 0, func(t *testing.T, out, _ string) {
			var st statusapi.Status
			if err := json.Unmarshal([]byte(out), &st); err != nil || st.APIVersion != "v1" || !st.Ready || len(st.Switches) != 4 {
				t.Errorf("json: %v\n%s", err, out)
			}
		}},
		{"unreachable", []string{"--api", closed}, 1, func(t *testing.T, _, errs string) {
			if !strings.Contains(errs, "unreachable") {
				t.Errorf("stderr: %s", errs)
			}
		}},
		{"bad output", []string{"--api", api, "-o", "yaml"}, 2, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runCLI(t, append([]string{"status"}, tc.args...)...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, out, errs)
			}
			if tc.check != nil {
				tc.check(t, out, errs)
			}
		})
	}
}
