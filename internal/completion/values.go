package completion

import (
	"strings"

	"github.com/spf13/cobra"
)

// values are the accepted values of enumerated flags, by "command/flag"
// (the command path without "p4qos ") or, for every command, by flag name.
var values = map[string][]string{
	"log-level":             {"debug", "info", "warn", "error"},
	"compile/output":        {"table", "text", "json"},
	"allocate/output":       {"table", "json"},
	"lab up/bmv2-log-level": {"trace", "debug", "info", "warn", "error", "off"},
}

// Values returns the values flag accepts in command c, or nil when it is
// not an enumerated flag.
func Values(c *cobra.Command, flag string) []string {
	key := strings.TrimPrefix(c.CommandPath()+"/"+flag, c.Root().Name()+" ")
	vs, _ := lookup(values, key, flag)
	return vs
}
