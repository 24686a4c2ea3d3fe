package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestGenManWritesEveryCommand(t *testing.T) {
	dir := t.TempDir()
	if code, _, stderr := runCLI(t, "gen-man", dir); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, page := range []string{"p4qos.1", "p4qos-compile.1", "p4qos-lab-plot.1", "p4qos-completion-bash.1"} {
		if _, err := os.Stat(filepath.Join(dir, page)); err != nil {
			t.Error(err)
		}
	}
}

// Completion reads the embedded example topology when -t is not given (the
// test runs in cmd/p4qos, where topo/examples is not on disk).
func TestCompletionOfSwitchNames(t *testing.T) {
	for _, tc := range []struct {
		args       []string
		want, none []string
	}{
		{[]string{"__complete", "compile", "--switch", "sp"}, []string{"spine1", "spine2"}, []string{"leaf1"}},
		{[]string{"__complete", "lab", "record", "--switch", "leaf"}, []string{"leaf1", "leaf2"}, []string{"spine1"}},
		{[]string{"__complete", "lab", "exec", "h"}, []string{"h1", "h4"}, []string{"leaf1"}},
		{[]string{"__complete", "lab", "cli", "h"}, []string{"h1", "h4"}, []string{"leaf1"}},
		{[]string{"__complete", "allocate", "-o", ""}, []string{"table", "json"}, []string{"text"}},
	} {
		code, out, stderr := runCLI(t, tc.args...)
		lines := strings.Split(out, "\n")
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", tc.args, code, stderr)
		}
		for _, w := range tc.want {
			if !slices.Contains(lines, w) {
				t.Errorf("%v: %q lacks %s", tc.args, out, w)
			}
		}
		for _, n := range tc.none {
			if slices.Contains(lines, n) {
				t.Errorf("%v: %q offers %s", tc.args, out, n)
			}
		}
	}
	for _, shell := range []string{"bash", "zsh", "fish"} {
		if code, out, _ := runCLI(t, "completion", shell); code != 0 || !strings.Contains(out, "__complete") {
			t.Errorf("completion %s: exit %d, %d bytes", shell, code, len(out))
		}
	}
}
