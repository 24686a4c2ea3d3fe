package main

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestDemo runs `p4qos demo` in-process and checks the story it must tell:
// every switch programmed, and after tenant b's demand drops, b's meter
// shrinks and tenant a's meters grow (the closed loop at work).
func TestDemo(t *testing.T) {
	var out, errb bytes.Buffer
	code := run([]string{"demo", "-t", "../../topo/examples/fabric.yaml", "-p", "../../topo/examples/fabric-policy.yaml",
		"--p4info", "../../p4src/build/qos.p4info.txtpb"}, nil, &out, &errb)
	if code != 0 {
		t.Fatalf("demo exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errb.String())
	}
	s := out.String()
	for _, sw := range []string{"leaf1", "leaf2", "spine1", "spine2"} {
		if !regexp.MustCompile(`(?m)^\s+` + sw + `\s+pushed\s+[1-9]\d*`).MatchString(s) {
			t.Errorf("switch %s not shown as programmed:\n%s", sw, s)
		}
	}
	drop := strings.Index(s, "demand drops")
	if drop < 0 {
		t.Fatalf("no demand drop in the story:\n%s", s)
	}
	after := s[drop:]
	// "leaf1/b-bulk 20Mbps → 4.435Mbps": b's meter must go down, a's up.
	meter := func(class string) (from, to float64, ok bool) {
		m := regexp.MustCompile(`leaf1/` + class + ` ([0-9.]+)Mbps → ([0-9.]+)Mbps`).FindStringSubmatch(after)
		if m == nil {
			return 0, 0, false
		}
		from, _ = strconv.ParseFloat(m[1], 64)
		to, _ = strconv.ParseFloat(m[2], 64)
		return from, to, true
	}
	if from, to, ok := meter("b-bulk"); !ok || to >= from {
		t.Errorf("b-bulk meter after the drop: %v → %v (found %v), want a decrease:\n%s", from, to, ok, after)
	}
	if from, to, ok := meter("a-interactive"); !ok || to <= from {
		t.Errorf("a-interactive meter after the drop: %v → %v (found %v), want an increase:\n%s", from, to, ok, after)
	}
}

func TestDemoBadFlags(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"demo", "--rounds", "1"}, nil, &out, &errb); code != 2 {
		t.Errorf("--rounds 1: exit %d, want 2 (%s)", code, errb.String())
	}
	if code := run([]string{"demo", "-t", "nonexistent.yaml"}, nil, &out, &errb); code != 2 {
		t.Errorf("missing topology: exit %d, want 2 (%s)", code, errb.String())
	}
}
