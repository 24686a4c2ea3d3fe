package main

import (
	"strings"
	"testing"
)

// Usage errors are the user's input: exit 2 with a message, like bad flags
// (issue #16: `p4qos compile policy.yaml` and unknown subcommands exited 1).
func TestUsageErrorsExit2(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"compile", "policy.yaml"}, 2, `unknown command "policy.yaml"`},
		{[]string{"nosuch"}, 2, `unknown command "nosuch" for "p4qos"`},
		{[]string{"lab", "nosuch"}, 2, `unknown command "nosuch" for "p4qos lab"`},
		{[]string{"version", "extra"}, 2, `unknown command "extra"`},
		{[]string{"run", "--no-such-flag"}, 2, "unknown flag"},
		{[]string{"completion", "nosuch"}, 2, `unknown command "nosuch" for "p4qos completion"`},
		{[]string{"completion", "bash", "extra"}, 2, `unknown command "extra"`},
		{[]string{"gen-man"}, 2, "accepts 1 arg(s), received 0"},
		{[]string{}, 0, ""},
		{[]string{"lab"}, 0, ""},
	} {
		code, _, stderr := runCLI(t, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("p4qos %s: exit %d, stderr %q; want %d and %q", strings.Join(tc.args, " "), code, stderr, tc.code, tc.want)
		}
	}
}
