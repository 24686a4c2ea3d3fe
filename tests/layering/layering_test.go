// Package layering checks that the project's imports point one way:
// cmd → inspect → controller → compiler / controlplane / target/* → tables, with topo,
// tables and the allocator importing nothing of the project above them.
package layering

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/p4qos/p4qos/"

// forbidden lists, per package (prefix, relative to the module), the
// project packages it must not depend on, directly or not.
var forbidden = map[string][]string{
	"tables":       {"topo", "allocator", "compiler", "controlplane", "controller", "target", "cmd", "internal/demo", "inspect"},
	"topo":         {"tables", "allocator", "compiler", "controlplane", "controller", "target", "cmd", "internal/demo"},
	"allocator":    {"topo", "tables", "compiler", "controlplane", "controller", "target", "cmd"},
	"compiler":     {"controlplane", "controller", "target", "cmd", "internal/demo", "inspect"},
	"controlplane": {"compiler", "controller", "target", "cmd", "internal/demo", "topo"},
	"target":       {"compiler", "controlplane", "controller", "cmd", "internal/demo", "inspect"},
	"controller":   {"cmd", "internal/demo", "topo/mininet", "inspect"},
	// The status API and dashboard know the controller only through their
	// Source interface, so they are tested without switches.
	"controller/statusapi": {"controller", "controlplane", "compiler", "target", "tables", "topo", "allocator", "cmd", "internal/demo"},
	// inspect (show, diff, top) resolves switches and compiles the intent
	// through controller.Fabric, as `p4qos run` does, so it sits just above
	// the controller; nothing below the CLI may use it.
	"inspect":       {"cmd", "internal/demo", "topo/mininet"},
	"internal/demo": {"cmd"},
	"topo/mininet":  {"cmd", "internal/demo"},
	// The figures (allocate --plot, lab plot): drawing only, over the
	// allocator's results and CSV files; nothing above the allocator.
	"internal/plot": {"topo", "tables", "compiler", "controlplane", "controller", "target", "cmd", "internal/demo"},
	// Shell completion and man pages: reads topologies for names; the
	// command tree is handed in by cmd.
	"internal/completion": {"tables", "compiler", "controlplane", "controller", "target", "cmd", "internal/demo"},
	// Admission control decides over the topology only (paths, capacities):
	// it installs nothing, so nothing that talks to switches or compiles
	// policy may sit under it; the CLI and later the controller use it.
	"admission":         {"tables", "allocator", "compiler", "controlplane", "controller", "target", "cmd", "internal/demo", "inspect", "topo/mininet"},
	"compiler/contract": {"tables", "topo", "allocator", "compiler/", "controlplane", "controller", "target", "cmd"},

	// The write-path benchmarks' raw loop: imported by controlplane's
	// in-package benchmark, so it may import nothing of the project.
	"internal/writebench": {"tables", "topo", "allocator", "compiler", "controlplane", "controller", "target", "cmd", "internal/demo", "inspect", "admission"},
}

type pkg struct {
	ImportPath string
	Deps       []string
}

func TestImportsPointDownwards(t *testing.T) {
	out, err := exec.Command("go", "list", "-json", "-deps=false", "../../...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	checked := 0
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		rel := strings.TrimPrefix(p.ImportPath, module)
		for owner, bans := range forbidden {
			if rel != owner && !strings.HasPrefix(rel, owner+"/") {
				continue
			}
			// compiler/contract has a rule of its own; topo/mininet is the
			// lab, above the controller.
			if owner == "compiler" && strings.HasPrefix(rel, "compiler/contract") || owner == "topo" && strings.HasPrefix(rel, "topo/mininet") {
				continue
			}
			checked++
			for _, d := range p.Deps {
				if !strings.HasPrefix(d, module) {
					continue
				}
				dr := strings.TrimPrefix(d, module)
				if dr == "compiler/contract" {
					continue // the pipeline's names: a leaf every layer may use
				}
				for _, ban := range bans {
					if dr == strings.TrimSuffix(ban, "/") || strings.HasPrefix(dr, strings.TrimSuffix(ban, "/")+"/") {
						t.Errorf("%s depends on %s (forbidden: %s)", rel, dr, ban)
					}
				}
			}
		}
	}
	if checked < 8 {
		t.Fatalf("checked only %d packages: the go list output changed?", checked)
	}
}
