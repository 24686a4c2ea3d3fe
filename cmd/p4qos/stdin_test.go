package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// "-" reads standard input wherever these commands read a file, one input
// per command; the problems of what came from stdin are positioned in
// "<stdin>", and every one exits 2. compile --config takes log-level and
// rejects keys it does not know.
func TestStdinEverywhere(t *testing.T) {
	pol, tp, info := compileFiles(t)
	p4info, err := os.ReadFile(info)
	if err != nil {
		t.Fatal(err)
	}
	code, out, errs := runAllocateCLI(t, string(p4info), "compile", "-p", pol, "-t", tp, "--p4info", "-", "--switch", "spine1")
	if code != 0 || !strings.Contains(out, "# switch spine1: 91 entities") {
		t.Errorf("compile --p4info -: exit %d, %s", code, errs)
	}
	if code, out, errs = runAllocateCLI(t, "policy: "+pol+"\ntopology: "+tp+"\nswitch: spine1\n", "compile", "--config", "-"); code != 0 || !strings.Contains(out, "# switch spine1: 91 entities") {
		t.Errorf("compile --config -: exit %d, %s", code, errs)
	}
	cfg := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(cfg, []byte("policy: "+pol+"\ntopology: "+tp+"\nlog-level: debug\nswitch: spine1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errs = runAllocateCLI(t, "", "compile", "--config", cfg); code != 0 || !strings.Contains(errs, "level=DEBUG") {
		t.Errorf("compile --config with log-level: debug: exit %d, stderr %q", code, errs)
	}
	typo := filepath.Join(t.TempDir(), "typo.yaml")
	if err := os.WriteFile(typo, []byte("policy: "+pol+"\ntopology: "+tp+"\nswich: leaf1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	typoTOML := filepath.Join(t.TempDir(), "typo.toml")
	if err := os.WriteFile(typoTOML, []byte("polcy = \"p.yaml\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("policy: "+pol+"\ntopology: "+tp+"\nlog-level: verbose\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{"compile: --p4info and -p both stdin", "", []string{"compile", "-p", "-", "-t", tp, "--p4info", "-"}, "2 of --config, --p4info, -p and -t are - (standard input), which can be read once"},
		{"compile: --config and -t both stdin", "", []string{"compile", "--config", "-", "-t", "-"}, "2 of --config, --p4info, -p and -t are -"},
		{"compile: a bad config on stdin", "swich: leaf1\n", []string{"compile", "--config", "-"}, `--config: <stdin>:1:1: unknown key "swich"; did you mean "switch"?`},
		{"compile: a bad P4Info on stdin", "tables { nope", []string{"compile", "-p", pol, "-t", tp, "--p4info", "-"}, "--p4info: load p4info <stdin>:"},
		{"compile: log-level key", "", []string{"compile", "--config", bad}, `config key log-level: unknown value "verbose"`},
		{"compile: unknown config key", "", []string{"compile", "--config", typo}, `typo.yaml:3:1: unknown key "swich"; did you mean "switch"?`},
		{"compile: unknown TOML config key", "", []string{"compile", "--config", typoTOML}, `typo.toml: unknown key "polcy"; did you mean "policy"?`},
		{"sim: -t and --flows both stdin", "", []string{"sim", "-t", "-", "--flows", "-"}, "-t and --flows cannot both be - (standard input)"},
		{"sim: a bad topology on stdin", "switches:\n  - {name: s1, bogus: 1}\n", []string{"sim", "-t", "-"}, `<stdin>:2:16: switches[0].bogus: unknown key "bogus"`},
		{"sim: a bad flows file on stdin", "flows:\n  - {name: a, src: h1, dst: h9, rate: 1Mbps}\n", []string{"sim", "-t", tp, "--flows", "-"},
			`<stdin>:2:5: flows[0]: flow "a": dst: "h9" is neither an address nor a host of the topology`},
		{"run: a bad config on stdin", "topology: " + tp + "\nbatch-sise: 3\n", []string{"run", "-c", "-", "--once"}, `<stdin>:2:1: unknown key "batch-sise"; did you mean "batch-size"?`},
	} {
		code, _, errs := runAllocateCLI(t, tc.stdin, tc.args...)
		if code != 2 || !strings.Contains(errs, tc.want) {
			t.Errorf("%s: exit %d, stderr %q, want 2 and %q", tc.name, code, errs, tc.want)
		}
	}
}

// compile --config resolves the file's relative paths against its own
// directory, as run -c does; a flag's stay the working directory's.
func TestCompileConfigPathsRelativeToTheFile(t *testing.T) {
	pol, tp, _ := compileFiles(t)
	dir := t.TempDir()
	for src, dst := range map[string]string{pol: "p.yaml", tp: "t.yaml"} {
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, dst), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(cfg, []byte("policy: p.yaml\ntopology: t.yaml\nswitch: spine1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := runAllocateCLI(t, "", "compile", "--config", cfg); code != 0 || !strings.Contains(out, "# switch spine1") {
		t.Errorf("exit %d, %s", code, errs)
	}
	if code, _, errs := runAllocateCLI(t, "", "compile", "--config", cfg, "-t", "t.yaml"); code != 2 || !strings.Contains(errs, "t.yaml") {
		t.Errorf("-t t.yaml from the working directory: exit %d, %s", code, errs)
	}
}
