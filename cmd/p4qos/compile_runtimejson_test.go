package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/p4qos/p4qos/compiler"
	"github.com/p4qos/p4qos/internal/completion"
)

// Every -o value completion offers is a format compile writes files for.
func TestCompileOutputsHaveExtensions(t *testing.T) {
	c, _, err := newRootCmd(strings.NewReader(""), nil, nil).Find([]string{"compile"})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range completion.Values(c, "output") {
		if compiler.OutputExt(v) == "" {
			t.Errorf("-o %s has no file extension in compiler.OutputExt", v)
		}
	}
}

// compile -o runtime-json --out DIR writes NAME-runtime.json per switch
// whose p4info and bmv2_json name files that exist relative to DIR (where
// simple_controller.py looks), lists on stderr what the shape cannot
// hold, and refuses several switches on stdout and non-BMv2 targets.
func TestCompileRuntimeJSON(t *testing.T) {
	pol, tp, _ := compileFiles(t)
	dir := t.TempDir()
	code, out, errs := runCompileCLI(t, "compile", "-p", pol, "-t", tp, "--p4info", "../../p4src/build/qos.p4info.txtpb", "-o", "runtime-json", "--out", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, sw := range []string{"leaf1", "leaf2", "spine1", "spine2"} {
		path := filepath.Join(dir, sw+"-runtime.json")
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var raw map[string]any
		if err := json.Unmarshal(data, &raw); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"p4info", "bmv2_json"} {
			p, _ := raw[k].(string)
			if !filepath.IsAbs(p) {
				p = filepath.Join(dir, p)
			}
			if _, err := os.Stat(p); err != nil {
				t.Errorf("%s: %s %q does not resolve from the file's directory: %v", sw, k, raw[k], err)
			}
		}
		if raw["target"] != "bmv2" || len(raw["table_entries"].([]any)) == 0 {
			t.Errorf("%s: target %v, %d table entries", sw, raw["target"], len(raw["table_entries"].([]any)))
		}
		if !strings.Contains(out, path) || !strings.Contains(errs, "switch "+sw+": ") {
			t.Errorf("%s: stdout %q stderr %q", sw, out, errs)
		}
	}
	code, _, errs = runCompileCLI(t, "compile", "-p", pol, "-t", tp, "-o", "runtime-json")
	if code != 2 || !strings.Contains(errs, "--switch NAME") {
		t.Errorf("several switches on stdout: exit %d, %s", code, errs)
	}
	code, _, errs = runCompileCLI(t, "compile", "-p", pol, "-t", tp, "-o", "runtime-json", "--switch", "leaf1", "--target", "tofino")
	if code != 2 || !strings.Contains(errs, "not BMv2") {
		t.Errorf("tofino: exit %d, %s", code, errs)
	}
}
