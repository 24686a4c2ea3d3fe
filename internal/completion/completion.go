// Package completion wires shell completion and manual pages into the p4qos
// command tree: file-type filters by flag, the values of enumerated flags,
// switch and host names from the topology given with -t (or the embedded
// example), and a hidden command that writes the man pages (cobra/doc).
package completion

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/p4qos/p4qos"
	"github.com/p4qos/p4qos/topo"
)

// ExampleTopology is the topology completion reads when no -t is given.
const ExampleTopology = "topo/examples/fabric.yaml"

// fileTypes are the extensions offered for a flag, by "command/flag" or,
// for every command, by flag name. Nil means a directory.
var fileTypes = map[string][]string{
	"topology": {"yaml", "yml"}, "policy": {"yaml", "yml"}, "flows": {"yaml", "yml"},
	"file":      {"yaml", "yml", "json"},
	"p4info":    {"txtpb", "txt", "pb", "bin", "json"},
	"bmv2-json": {"json"},
	"config":    {"yaml", "yml", "json", "toml"},
	"plot":      {"svg", "png", "pdf"},
	"tls-cert":  {"pem", "crt"}, "tls-key": {"pem", "key"}, "tls-client-ca": {"pem", "crt"},
	"lab plot/output": {"svg", "png", "pdf"}, "lab plot/input": {"csv"}, "lab record/output": {"csv"},
	"out": nil, "state-dir": nil,
}

// Register adds the completion command (now, not when cobra would at
// Execute, so that the caller can treat its usage errors like the others'),
// completion to every command under root and the hidden `gen-man DIR`
// command. Call it once the tree is complete.
func Register(root *cobra.Command) {
	root.InitDefaultCompletionCmd()
	done := map[*pflag.Flag]bool{}
	walk(root, func(c *cobra.Command) {
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			if done[f] {
				return
			}
			done[f] = true
			key := strings.TrimPrefix(c.CommandPath()+"/"+f.Name, root.Name()+" ")
			if exts, ok := lookup(fileTypes, key, f.Name); ok {
				if f.Annotations == nil {
					f.Annotations = map[string][]string{}
				}
				if exts == nil {
					f.Annotations[cobra.BashCompSubdirsInDir] = []string{}
				} else {
					f.Annotations[cobra.BashCompFilenameExt] = exts
				}
			}
			if vs := Values(c, f.Name); vs != nil {
				_ = c.RegisterFlagCompletionFunc(f.Name, fixed(vs))
			} else if f.Name == "switch" {
				_ = c.RegisterFlagCompletionFunc(f.Name, names(switchNames))
			}
		})
	})
	for _, c := range root.Commands() {
		if c.Name() == "lab" {
			for _, sub := range c.Commands() {
				switch sub.Name() {
				case "exec", "cli":
					sub.ValidArgsFunction = firstArg(names(hostNames))
				case "link":
					sub.ValidArgsFunction = linkArgs
				}
			}
		}
	}
	root.AddCommand(manCmd(root))
}

func walk(c *cobra.Command, fn func(*cobra.Command)) {
	fn(c)
	for _, s := range c.Commands() {
		walk(s, fn)
	}
}

func lookup[T any](m map[string]T, keys ...string) (T, bool) {
	for _, k := range keys {
		if v, ok := m[k]; ok {
			return v, true
		}
	}
	var zero T
	return zero, false
}

type compFunc = func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective)

func fixed(vs []string) compFunc {
	return func(_ *cobra.Command, _ []string, prefix string) ([]string, cobra.ShellCompDirective) {
		return withPrefix(vs, prefix), cobra.ShellCompDirectiveNoFileComp
	}
}

func withPrefix(vs []string, prefix string) []string {
	var out []string
	for _, v := range vs {
		if strings.HasPrefix(v, prefix) {
			out = append(out, v)
		}
	}
	return out
}

// names completes from what list finds in the command's topology.
func names(list func(*topo.Topology) []string) compFunc {
	return func(c *cobra.Command, _ []string, prefix string) ([]string, cobra.ShellCompDirective) {
		t, err := Topology(c)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return withPrefix(list(t), prefix), cobra.ShellCompDirectiveNoFileComp
	}
}

func firstArg(fn compFunc) compFunc {
	return func(c *cobra.Command, args []string, prefix string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveDefault
		}
		return fn(c, args, prefix)
	}
}

// linkArgs completes `lab link down|up SWITCH:PORT`.
func linkArgs(c *cobra.Command, args []string, prefix string) ([]string, cobra.ShellCompDirective) {
	switch len(args) {
	case 0:
		return withPrefix([]string{"down", "up"}, prefix), cobra.ShellCompDirectiveNoFileComp
	case 1:
		return names(switchPorts)(c, args, prefix)
	}
	return nil, cobra.ShellCompDirectiveNoFileComp
}

func switchNames(t *topo.Topology) []string {
	var out []string
	for _, s := range t.Switches {
		out = append(out, s.Name)
	}
	return out
}

func hostNames(t *topo.Topology) []string {
	var out []string
	for _, h := range t.Hosts {
		out = append(out, h.Name)
	}
	return out
}

// switchPorts are the switch ends of switch-to-switch links ("leaf1:3").
func switchPorts(t *topo.Topology) []string {
	var out []string
	for _, l := range t.Links {
		for _, e := range []topo.Endpoint{l.A, l.B} {
			out = append(out, e.Switch+":"+strconv.FormatUint(uint64(e.Port), 10))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Topology loads the topology that c's -t/--topology names (a file on disk
// first, then the embedded copy), or the embedded example when there is none.
func Topology(c *cobra.Command) (*topo.Topology, error) {
	file := ExampleTopology
	if f := c.Flag("topology"); f != nil && f.Value.String() != "" {
		file = f.Value.String()
	}
	if file == "-" {
		return nil, fmt.Errorf("completion: the topology is stdin")
	}
	if _, err := os.Stat(file); err == nil {
		return topo.Load(file)
	}
	data, err := fs.ReadFile(p4qos.Files, path.Clean(file))
	if err != nil {
		return nil, err
	}
	return topo.Parse(file, data)
}
