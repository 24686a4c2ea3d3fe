package completion

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/p4qos/p4qos/internal/yamlerr"
)

// values are the accepted values of enumerated flags, by "command/flag"
// (the command path without "p4qos ") or, for every command, by flag name.
var values = map[string][]string{
	"log-level":             {"debug", "info", "warn", "error"},
	"compile/output":        {"table", "text", "json", "runtime-json"},
	"allocate/output":       {"table", "json"},
	"allocate/objective":    {"maxmin", "alpha-fair"},
	"lab up/bmv2-log-level": {"trace", "debug", "info", "warn", "error", "off"},
}

// Values returns the values flag accepts in command c, or nil when it is
// not an enumerated flag.
func Values(c *cobra.Command, flag string) []string {
	key := strings.TrimPrefix(c.CommandPath()+"/"+flag, c.Root().Name()+" ")
	vs, _ := lookup(values, key, flag)
	return vs
}

// Check returns nil when got is a value flag accepts in c (or flag is not
// enumerated), else an error that names where got came from (the flag, the
// P4QOS_* variable or the config key), the values allowed and the closest one.
func Check(c *cobra.Command, flag, got string) error {
	vs := Values(c, flag)
	if vs == nil || slices.Contains(vs, got) {
		return nil
	}
	return fmt.Errorf("%s: unknown value %s%s (want %s)", Source(c, flag), yamlerr.Quote(got), yamlerr.Suggest(got, vs), yamlerr.OneOf(vs))
}

// Source says where the value of flag came from, as viper reads it: the
// command line, then the P4QOS_* environment variable, then a config file.
func Source(c *cobra.Command, flag string) string {
	if f := c.Flag(flag); f == nil || f.Changed {
		return "--" + flag
	}
	env := "P4QOS_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
	if _, ok := os.LookupEnv(env); ok {
		return "environment variable " + env
	}
	return "config key " + flag
}
