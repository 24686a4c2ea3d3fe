package completion

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// tree is a small command tree shaped like p4qos's.
func tree() *cobra.Command {
	root := &cobra.Command{Use: "p4qos"}
	root.PersistentFlags().String("log-level", "info", "")
	compile := &cobra.Command{Use: "compile", Run: func(*cobra.Command, []string) {}}
	compile.Flags().StringP("topology", "t", "", "")
	compile.Flags().StringP("policy", "p", "", "")
	compile.Flags().StringP("output", "o", "table", "")
	compile.Flags().String("switch", "", "")
	compile.Flags().String("out", "", "")
	lab := &cobra.Command{Use: "lab"}
	lab.PersistentFlags().StringP("topology", "t", ExampleTopology, "")
	exec := &cobra.Command{Use: "exec", Run: func(*cobra.Command, []string) {}}
	link := &cobra.Command{Use: "link", Run: func(*cobra.Command, []string) {}}
	plot := &cobra.Command{Use: "plot", Run: func(*cobra.Command, []string) {}}
	plot.Flags().StringP("output", "o", "", "")
	lab.AddCommand(exec, link, plot)
	root.AddCommand(compile, lab)
	Register(root)
	return root
}

// complete runs cobra's hidden __complete command and returns the
// candidates and the directive line.
func complete(t *testing.T, args ...string) ([]string, string) {
	t.Helper()
	root := tree()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&bytes.Buffer{})
	root.SetArgs(append([]string{cobra.ShellCompRequestCmd}, args...))
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	return lines[:len(lines)-1], lines[len(lines)-1]
}

func TestCompletion(t *testing.T) {
	dir := t.TempDir()
	dumbbell := filepath.Join(dir, "d.yaml")
	data, err := os.ReadFile("../../docs/labs/dumbbell.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dumbbell, data, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		args []string
		want string // candidates joined by |
		dir  string // directive
	}{
		{"switch prefix, embedded example", []string{"compile", "--switch", "le"}, "leaf1|leaf2", ":4"},
		{"switch, -t file", []string{"compile", "-t", dumbbell, "--switch", ""}, "s1|s2", ":4"},
		{"hosts of lab exec", []string{"lab", "exec", "h"}, "h1|h2|h3|h4", ":4"},
		{"hosts of lab exec, -t file", []string{"lab", "-t", dumbbell, "exec", ""}, "h1|h2|h3|h4", ":4"},
		{"link verb", []string{"lab", "link", ""}, "down|up", ":4"},
		{"link endpoint", []string{"lab", "link", "down", "leaf2"}, "leaf2:3|leaf2:4", ":4"},
		{"-o of compile", []string{"compile", "-o", "t"}, "table|text", ":4"},
		{"log level", []string{"compile", "--log-level", "w"}, "warn", ":4"},
		{"policy files", []string{"compile", "-p", ""}, "yaml|yml", ":8"},
		{"lab plot -o", []string{"lab", "plot", "-o", ""}, "svg|png|pdf", ":8"},
		{"--out is a directory", []string{"compile", "--out", ""}, "", ":16"},
	} {
		got, dir := complete(t, tt.args...)
		if g := strings.Join(got, "|"); g != tt.want || dir != tt.dir {
			t.Errorf("%s: %q %s, want %q %s", tt.name, g, dir, tt.want, tt.dir)
		}
	}
}

func TestValues(t *testing.T) {
	root := tree()
	c, _, err := root.Find([]string{"compile"})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(Values(c, "output"), ","); got != "table,text,json,runtime-json" {
		t.Errorf("compile -o values %s", got)
	}
	if Values(c, "policy") != nil {
		t.Error("policy is not an enumerated flag")
	}
}

func TestGenMan(t *testing.T) {
	root := tree()
	dir := t.TempDir()
	root.SetArgs([]string{"gen-man", dir})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "p4qos-compile.1"))
	if err != nil {
		t.Fatal(err)
	}
	if s := string(b); !strings.Contains(s, `.TH "P4QOS" "1"`) || !strings.Contains(s, "--switch") {
		t.Errorf("man page:\n%s", s)
	}
	if _, err := os.Stat(filepath.Join(dir, "p4qos-gen-man.1")); err == nil {
		t.Error("the hidden gen-man command has a man page")
	}
}
