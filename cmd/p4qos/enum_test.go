package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// at returns "<stdin>:L:C: " for the first occurrence of value after key in
// src: where the message about that value must point.
func at(t *testing.T, src, key, value string) string {
	t.Helper()
	i := strings.Index(src, key+value)
	if i < 0 {
		t.Fatalf("%q not in the input", key+value)
	}
	i += len(key)
	line := strings.Count(src[:i], "\n") + 1
	col := i - strings.LastIndex(src[:i], "\n")
	return fmt.Sprintf("<stdin>:%d:%d: ", line, col)
}

// Enumerated values get "did you mean", name their source (flag, P4QOS_*
// variable, config key or file position) and exit 2 (issue #16 item 2).
func TestBadEnumValuesExit2WithSuggestion(t *testing.T) {
	const topoFile, polFile = "../../topo/examples/fabric.yaml", "../../topo/examples/fabric-policy.yaml"
	var src [2]string // the policy and the topology, each with a typo
	for i, f := range []string{polFile, topoFile} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		src[i] = string(b)
	}
	badPHB := strings.Replace(src[0], "phb: EF", "phb: EG", 1)
	badTarget := strings.Replace(src[1], "target: sim", "target: smi", 1)
	badKey := strings.Replace(src[0], "colors:", "colour:", 1)
	cfg := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(cfg, []byte("output: jsn\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		env   [2]string
		stdin string
		args  []string
		want  string
	}{
		{"compile -o", [2]string{}, "", []string{"compile", "-t", topoFile, "-p", polFile, "-o", "jsn"},
			`p4qos: --output: unknown value "jsn"; did you mean "json"? (want table, text, json or runtime-json)`},
		{"P4QOS_OUTPUT", [2]string{"P4QOS_OUTPUT", "txt"}, "", []string{"compile", "-t", topoFile, "-p", polFile},
			`p4qos: environment variable P4QOS_OUTPUT: unknown value "txt"; did you mean "text"?`},
		{"config key", [2]string{}, "", []string{"compile", "-t", topoFile, "-p", polFile, "--config", cfg},
			`p4qos: config key output: unknown value "jsn"; did you mean "json"?`},
		{"allocate -o", [2]string{}, "", []string{"allocate", "-f", exampleProblem, "-o", "tabel"},
			`p4qos: allocate: --output: unknown value "tabel"; did you mean "table"? (want table or json)`},
		{"--log-level", [2]string{}, "", []string{"version", "--log-level", "debg"},
			`p4qos: --log-level: unknown value "debg"; did you mean "debug"? (want debug, info, warn or error)`},
		{"P4QOS_LOG_LEVEL", [2]string{"P4QOS_LOG_LEVEL", "eror"}, "", []string{"allocate", "-f", exampleProblem},
			`p4qos: environment variable P4QOS_LOG_LEVEL: unknown value "eror"; did you mean "error"?`},
		{"PHB from stdin", [2]string{}, badPHB, []string{"compile", "-t", topoFile, "-p", "-"},
			at(t, badPHB, "phb: ", "EG") + `classes[1].phb: expected a PHB: EF, AF11..AF43, CS0..CS7 or DF, got "EG"; did you mean "EF"?`},
		{"target from stdin", [2]string{}, badTarget, []string{"compile", "-t", "-", "-p", polFile},
			at(t, badTarget, "target: ", "smi") + `switches[0].target: expected bmv2, tofino or sim, got "smi"; did you mean "sim"?`},
		{"key from stdin", [2]string{}, badKey, []string{"compile", "-t", topoFile, "-p", "-"},
			at(t, badKey, "    ", "colour:") + `classes[2].colour: unknown key "colour"; did you mean "colors"?`},
		{"both stdin", [2]string{}, badTarget, []string{"compile", "-t", "-", "-p", "-"},
			"p4qos: -p and -t cannot both be - (standard input): give one of them as a file"},
		{"sim --table-size", [2]string{}, "", []string{"sim", "--table-size", "clasifier=2"},
			`p4qos: --table-size "clasifier=2": no table "clasifier" in the qos pipeline; did you mean "classifier"?`},
		{"sim --table-size full name", [2]string{}, "", []string{"sim", "--table-size", "QosIngress.clasifier=2"},
			`no table "QosIngress.clasifier" in the qos pipeline; did you mean "classifier"?`},
		{"run P4QOS_*", [2]string{"P4QOS_RECONCILE_INTERVAL", "abc"}, "", []string{"run", "--once"},
			`environment variable P4QOS_RECONCILE_INTERVAL: expected a duration`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.env[0] != "" {
				t.Setenv(tc.env[0], tc.env[1])
			}
			var out, errb bytes.Buffer
			code := run(tc.args, strings.NewReader(tc.stdin), &out, &errb)
			if code != 2 || !strings.Contains(errb.String(), tc.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant 2 and %q", code, errb.String(), tc.want)
			}
		})
	}
}

// One of -p and -t may be stdin: the example compiles from there.
func TestCompileReadsStdin(t *testing.T) {
	for _, tc := range []struct{ flag, file, other, otherFile string }{
		{"-p", "../../topo/examples/fabric-policy.yaml", "-t", "../../topo/examples/fabric.yaml"},
		{"-t", "../../topo/examples/fabric.yaml", "-p", "../../topo/examples/fabric-policy.yaml"},
	} {
		src, err := os.ReadFile(tc.file)
		if err != nil {
			t.Fatal(err)
		}
		var out, errb bytes.Buffer
		code := run([]string{"compile", tc.flag, "-", tc.other, tc.otherFile, "-o", "json"}, bytes.NewReader(src), &out, &errb)
		if code != 0 || !strings.Contains(out.String(), "leaf1") {
			t.Errorf("compile %s -: exit %d, stderr %s", tc.flag, code, errb.String())
		}
	}
}
