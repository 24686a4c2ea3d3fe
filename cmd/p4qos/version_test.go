package main

import (
	"strings"
	"testing"
)

// TestVersion checks that "version" and "--version" print the same build
// information, and that it names the module and the Go version.
func TestVersion(t *testing.T) {
	code, sub, errs := runCLI(t, "version")
	if code != 0 {
		t.Fatalf("version: exit %d, stderr %s", code, errs)
	}
	code, flag, errs := runCLI(t, "--version")
	if code != 0 {
		t.Fatalf("--version: exit %d, stderr %s", code, errs)
	}
	if sub != flag {
		t.Errorf("version and --version differ:\n%s\n---\n%s", sub, flag)
	}
	for _, want := range []string{"p4qos ", "module    github.com/p4qos/p4qos", "revision  ", "committed ", "go        go1."} {
		if !strings.Contains(sub, want) {
			t.Errorf("version output lacks %q:\n%s", want, sub)
		}
	}
}

// TestUnitHintsReachTheUser checks that every input that takes a rate or a
// size reads it with internal/units, so an ambiguous spelling is refused
// with the hint wherever it is written.
func TestUnitHintsReachTheUser(t *testing.T) {
	const hint = "write 10Mbps for megabits/s or 10MBps for megabytes/s (= 80Mbps)"
	dir := t.TempDir()
	flows := writeFile(t, dir, "flows.yaml", "flows:\n  - {src: 10.0.0.1, dst: 10.0.0.2, rate: 10mbps}\n")
	tests := []struct {
		name  string
		stdin string
		args  []string
	}{
		{"allocation problem", "links: [{name: a, capacity: 10mbps}]\n", []string{"allocate", "-f", "-"}},
		{"sim flag", "", []string{"sim", "--port-rate", "2=10mbps"}},
		{"sim flow file", "", []string{"sim", "--flows", flows}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := runAllocateCLI(t, tc.stdin, tc.args...)
			if code != 2 || !strings.Contains(errs, hint) {
				t.Errorf("exit %d, want 2 with %q in stderr:\n%s", code, hint, errs)
			}
		})
	}
}

// TestUnitHintsInPolicyAndTopology does the same for compile's inputs.
func TestUnitHintsInPolicyAndTopology(t *testing.T) {
	pol, tp, info := compileFiles(t)
	dir := t.TempDir()
	badPol := writeFile(t, dir, "pol.yaml", "classes:\n  - {name: v, match: {dscp: EF}, phb: EF, meter: {cir: 2Mbps, cbs: 64kb}}\n")
	topoSrc := "name: t\nswitches: [{name: s1, device_id: 1, address: \"127.0.0.1:1\", target: sim}]\n" +
		"hosts: [{name: h1, ipv4: 10.0.1.1/24, mac: \"00:00:0a:00:01:01\", switch: s1, port: 1, link: {capacity: 10MBPS}}]\n"
	badTopo := writeFile(t, dir, "topo.yaml", topoSrc)
	tests := []struct {
		name, pol, topo, want string
	}{
		{"policy size", badPol, tp, "write 64KB for kilobytes or 64Kb for kilobits (= 8KB)"},
		{"topology rate", pol, badTopo, "write 10Mbps for megabits/s or 10MBps for megabytes/s (= 80Mbps)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := runCLI(t, "compile", "-p", tc.pol, "-t", tc.topo, "--p4info", info)
			if code != 2 || !strings.Contains(errs, tc.want) {
				t.Errorf("exit %d, want 2 with %q in stderr:\n%s", code, tc.want, errs)
			}
		})
	}
}
