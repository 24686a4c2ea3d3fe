package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/p4qos/p4qos/tables"
)

// compileFiles returns the absolute paths of the demo's inputs, skipping
// when the P4Info has not been built.
func compileFiles(t *testing.T) (policy, topology, p4info string) {
	t.Helper()
	abs := func(rel string) string {
		p, err := filepath.Abs(filepath.Join("..", "..", rel))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(p); err != nil {
			t.Skipf("skipping: %s not available: %v", rel, err)
		}
		return p
	}
	return abs("topo/examples/fabric-policy.yaml"), abs("topo/examples/fabric.yaml"), abs("p4src/build/qos.p4info.txtpb")
}

// compileJSON decodes compile's -o json output.
func compileJSON(t *testing.T, out string) (doc struct {
	Switches []struct {
		Name     string            `json:"name"`
		Entities []json.RawMessage `json:"entities"`
	} `json:"switches"`
}) {
	t.Helper()
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("json output: %v\n%.300s", err, out)
	}
	return doc
}

func runCompileCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func TestCompileCommand(t *testing.T) {
	pol, tp, info := compileFiles(t)
	code, out, errs := runCompileCLI(t, "compile", "-p", pol, "-t", tp, "--p4info", info)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"# classes", "a-interactive", "# allocation", "a-web", "40Mbps", "# switch leaf1: 135 entities", "# switch spine2: 91 entities", "set_next_hop(port=1", "ipv4_dst=10.0.2.3/32", "cir=40Mbps"} {
		if !strings.Contains(out, want) {
			t.Errorf("table output lacks %q", want)
		}
	}

	code, out, errs = runCompileCLI(t, "compile", "-p", pol, "-t", tp, "--p4info", info, "-o", "json", "--switch", "spine1")
	if code != 0 {
		t.Fatalf("json: exit %d: %s", code, errs)
	}
	doc := compileJSON(t, out)
	if len(doc.Switches) != 1 || doc.Switches[0].Name != "spine1" || len(doc.Switches[0].Entities) != 91 {
		t.Errorf("json: %d switches", len(doc.Switches))
	}

	code, out, _ = runCompileCLI(t, "compile", "-p", pol, "-t", tp, "--p4info", info, "-o", "text", "--switch", "leaf2")
	if code != 0 || !strings.Contains(out, "# switch leaf2: one p4.v1.WriteRequest (135 updates)") || !strings.Contains(out, "table_entry") {
		t.Errorf("text output (exit %d):\n%.300s", code, out)
	}
}

func TestCompileOutDir(t *testing.T) {
	pol, tp, info := compileFiles(t)
	dir := t.TempDir()
	code, out, errs := runCompileCLI(t, "compile", "-p", pol, "-t", tp, "--p4info", info, "-o", "text", "--out", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, sw := range []string{"leaf1", "leaf2", "spine1", "spine2"} {
		data, err := os.ReadFile(filepath.Join(dir, sw+".txtpb"))
		if err != nil || !bytes.Contains(data, []byte("table_entry")) {
			t.Errorf("%s: %v", sw, err)
		}
		if !strings.Contains(out, sw+".txtpb") {
			t.Errorf("stdout does not list %s", sw)
		}
	}
}

// TestCompileSettingsFromEnvAndConfig: viper supplies the same keys from
// P4QOS_* variables and a --config file.
func TestCompileSettingsFromEnvAndConfig(t *testing.T) {
	pol, tp, info := compileFiles(t)
	t.Setenv("P4QOS_P4INFO", info)
	t.Setenv("P4QOS_OUTPUT", "json")
	cfg := filepath.Join(t.TempDir(), "p4qos.yaml")
	if err := os.WriteFile(cfg, []byte("policy: "+pol+"\ntopology: "+tp+"\nswitch: leaf1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCompileCLI(t, "compile", "--config", cfg)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.HasPrefix(strings.TrimSpace(out), "{") || !strings.Contains(out, `"name": "leaf1"`) || strings.Contains(out, `"name": "leaf2"`) {
		t.Errorf("output:\n%.300s", out)
	}
}

func TestCompileBadInput(t *testing.T) {
	pol, tp, info := compileFiles(t)
	dir := t.TempDir()
	badSrc := "classes:\n  - name: voice\n    match: {dscp: 64}\n    phb: EF\n    meter: {cir: 10Mbps, pir: 5Mbps}\n  - {name: x, phb: DF, colour: red}\n"
	topoSrc := "switches: [{name: s1, device_id: 1, address: nope, target: sim}]\n"
	bad := filepath.Join(dir, "bad.yaml")
	badTopo := filepath.Join(dir, "topo.yaml")
	if os.WriteFile(bad, []byte(badSrc), 0o644) != nil || os.WriteFile(badTopo, []byte(topoSrc), 0o644) != nil {
		t.Fatal("cannot write test files")
	}
	// at is "file:line:col" of token's first occurrence on the line.
	at := func(file, src string, line int, token string) string {
		l := strings.Split(src, "\n")[line-1]
		return fmt.Sprintf("%s:%d:%d", file, line, strings.Index(l, token)+1)
	}
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"policy and topology errors together", []string{"-p", bad, "-t", badTopo, "--p4info", info}, []string{
			"p4qos: 4 problems:",
			at(bad, badSrc, 3, "64") + ": classes[0].match[0].dscp: DSCP must be 0..63",
			at(bad, badSrc, 5, "5Mbps") + ": classes[0].meter.pir: pir 5Mbps is below cir 10Mbps",
			at(bad, badSrc, 6, "colour") + ": classes[1].colour: unknown key \"colour\"",
			at(badTopo, topoSrc, 1, "nope") + ": switches[0].address: expected host:port",
		}},
		{"missing flags", []string{"--p4info", info}, []string{"missing --policy/-p and --topology/-t"}},
		{"bad output", []string{"-p", pol, "-t", tp, "--p4info", info, "-o", "yaml"}, []string{`--output: unknown value "yaml" (want table, text, json or runtime-json)`}},
		{"unknown switch", []string{"-p", pol, "-t", tp, "--p4info", info, "--switch", "s9"}, []string{`--switch: no switch "s9"`}},
		{"missing file", []string{"-p", filepath.Join(dir, "nope.yaml"), "-t", tp, "--p4info", info}, []string{"read policy"}},
		{"bad p4info", []string{"-p", pol, "-t", tp, "--p4info", bad}, []string{"--p4info"}},
		{"unknown flag", []string{"--frobnicate"}, []string{"unknown flag"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := runCompileCLI(t, append([]string{"compile"}, tc.args...)...)
			if code != 2 {
				t.Errorf("exit %d, want 2; stderr:\n%s", code, errs)
			}
			for _, w := range tc.want {
				if !strings.Contains(errs, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errs)
				}
			}
			if strings.Contains(errs, "goroutine") || strings.Contains(errs, "panic") {
				t.Errorf("stack trace in stderr:\n%s", errs)
			}
		})
	}
}

// TestCompileTarget: --target tofino and tofino2 compile against the
// target's committed P4Info by default, and every entity of the JSON output
// validates against that P4Info (ids, widths, the ecmp_profile action
// profile); the BMv2 compile's entities do not (other ids), so the check
// can fail.
func TestCompileTarget(t *testing.T) {
	pol, tp, bmv2Info := compileFiles(t)
	entities := func(t *testing.T, out string) []*p4v1.Entity {
		t.Helper()
		var all []*p4v1.Entity
		for _, sw := range compileJSON(t, out).Switches {
			for _, raw := range sw.Entities {
				e := &p4v1.Entity{}
				if err := protojson.Unmarshal(raw, e); err != nil {
					t.Fatalf("%s: %v", sw.Name, err)
				}
				all = append(all, e)
			}
		}
		return all
	}
	code, out, errs := runCompileCLI(t, "compile", "-p", pol, "-t", tp, "--p4info", bmv2Info, "-o", "json")
	if code != 0 {
		t.Fatalf("bmv2: exit %d: %s", code, errs)
	}
	bmv2Ents := entities(t, out)
	for _, chip := range []string{"tofino", "tofino2"} {
		t.Run(chip, func(t *testing.T) {
			s, err := tables.Load(filepath.Join("..", "..", "p4src", "build", chip, "qos.p4info.txtpb"))
			if err != nil {
				t.Fatal(err)
			}
			code, out, errs := runCompileCLI(t, "compile", "-p", pol, "-t", tp, "--target", chip, "-o", "json")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			ents := entities(t, out)
			if len(ents) != len(bmv2Ents) {
				t.Errorf("%d entities, %d for bmv2", len(ents), len(bmv2Ents))
			}
			for _, e := range ents {
				if err := s.ValidateEntity(e); err != nil {
					t.Fatalf("%v: %v", e, err)
				}
			}
			invalid := 0
			for _, e := range bmv2Ents {
				if s.ValidateEntity(e) != nil {
					invalid++
				}
			}
			if invalid == 0 {
				t.Error("every BMv2 entity validates against the Tofino P4Info: the check proves nothing")
			}
		})
	}
	code, _, errs = runCompileCLI(t, "compile", "-p", pol, "-t", tp, "--target", "tofino3")
	if code != 2 || !strings.Contains(errs, "--target: unknown target") {
		t.Errorf("--target tofino3: exit %d, %s", code, errs)
	}
}
