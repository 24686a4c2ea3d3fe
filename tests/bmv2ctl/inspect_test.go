package bmv2ctl

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/p4qos/p4qos/controlplane"
	"github.com/p4qos/p4qos/inspect"
	"github.com/p4qos/p4qos/tests/internal/bmv2env"
)

// inspectCmd runs an inspect command as the CLI does; it returns the output
// and the exit status.
func inspectCmd(t *testing.T, c inspect.Command, args ...string) (string, int) {
	t.Helper()
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	c.Bind(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out bytes.Buffer
	err := c.Run(ctx, inspect.IO{Flags: fs, Args: fs.Args(), Stdout: &out})
	var coded interface{ ExitCode() int }
	switch {
	case err == nil:
		return out.String(), 0
	case errors.As(err, &coded):
		return out.String() + err.Error(), coded.ExitCode()
	}
	return out.String() + err.Error(), 1
}

// show and diff against BMv2 programmed with leaf1's intent, beside its
// primary: decoded by name, in sync (BMv2's meter read-back rounding
// through its driver, unconfigured meter cells read one by one), and the
// primary stays primary.
func TestBMv2ShowAndDiff(t *testing.T) {
	schema, p, sw, s := primaryOnBMv2(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := controlplane.NewReconciler(s).Reconcile(ctx, demoIntent(t, schema, p)); err != nil {
		t.Fatalf("install: %v\nbmv2 log:\n%s", err, sw.Log())
	}
	before := s.State()
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"entries", "--table", "classifier"}, []string{"dscp=CS6", "set_class(class_id=3, dscp=AF41)", "ipv4_src=10.0.1.1"}},
		{[]string{"meters"}, []string{"class 3", "40Mbps"}},
		{[]string{"groups"}, []string{"[3×1 4×1] max_size=64"}},
		{[]string{"pipeline"}, []string{"the same P4Info", "QosIngress.classifier"}},
	} {
		out, code := inspectCmd(t, inspect.Show, append(tc.args, "--switch", sw.Addr(), "--device-id", fmt.Sprint(sw.DeviceID()))...)
		for _, w := range tc.want {
			if code != 0 || !strings.Contains(out, w) {
				t.Errorf("show %v: exit %d, output lacks %q:\n%s", tc.args, code, w, out)
			}
		}
	}
	cfg := filepath.Join(t.TempDir(), "p4qos.yaml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, "topology: %s\npolicy: %s\np4info: %s\nbmv2-json: %s\nswitches:\n  - {name: leaf1, address: %q, device-id: %d, target: bmv2}\n",
		bmv2env.RepoPath("topo/examples/fabric.yaml"), bmv2env.RepoPath("topo/examples/fabric-policy.yaml"), bmv2env.QosP4Info, bmv2env.QosJSON,
		sw.Addr(), sw.DeviceID()), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, code := inspectCmd(t, inspect.Diff, "-c", cfg, "-s", "leaf1"); code != 0 || !strings.Contains(out, "in sync") {
		t.Errorf("diff: exit %d\n%s", code, out)
	}
	if now := s.State(); !now.Primary || now.Stream != before.Stream {
		t.Errorf("the primary's state changed: %+v -> %+v", before, now)
	}
}
