package p4compile

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	p4configv1 "github.com/p4lang/p4runtime/go/p4/config/v1"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
)

// repoRoot is where the committed sources and outputs live, relative to this
// package directory (go test runs in it).
const repoRoot = "../.."

var (
	committedP4Info = filepath.Join(repoRoot, "p4src", "build", "qos.p4info.txtpb")
	committedJSON   = filepath.Join(repoRoot, "p4src", "build", "qos.json")
	v1modelSource   = filepath.Join(repoRoot, "p4src", "v1model", "qos.p4")
	tnaSource       = filepath.Join(repoRoot, "p4src", "tna", "qos.p4")
	includeDir      = filepath.Join(repoRoot, "p4src", "include")
)

// findTool returns the path of a p4c binary on PATH or in /opt/p4/bin (see
// docs/targets.md, "Building").
func findTool(name string) (string, bool) {
	if p, err := exec.LookPath(name); err == nil {
		return p, true
	}
	p := filepath.Join("/opt/p4/bin", name)
	if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
		return p, true
	}
	return "", false
}

func loadP4Info(t *testing.T, path string) *p4configv1.P4Info {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read P4Info: %v", err)
	}
	info := &p4configv1.P4Info{}
	if err := prototext.Unmarshal(data, info); err != nil {
		t.Fatalf("parse P4Info %s: %v", path, err)
	}
	return info
}

// normalize sorts the repeated entities of a P4Info by id: their order is not
// meaningful (P4Runtime identifies everything by id), and p4c's order follows
// its internal traversal, which a compiler upgrade may change.
func normalize(info *p4configv1.P4Info) *p4configv1.P4Info {
	info = proto.Clone(info).(*p4configv1.P4Info)
	byID := func(a, b interface{ GetPreamble() *p4configv1.Preamble }) int {
		return int(a.GetPreamble().GetId()) - int(b.GetPreamble().GetId())
	}
	slices.SortFunc(info.Tables, func(a, b *p4configv1.Table) int { return byID(a, b) })
	slices.SortFunc(info.Actions, func(a, b *p4configv1.Action) int { return byID(a, b) })
	slices.SortFunc(info.ActionProfiles, func(a, b *p4configv1.ActionProfile) int { return byID(a, b) })
	slices.SortFunc(info.Counters, func(a, b *p4configv1.Counter) int { return byID(a, b) })
	slices.SortFunc(info.DirectCounters, func(a, b *p4configv1.DirectCounter) int { return byID(a, b) })
	slices.SortFunc(info.Meters, func(a, b *p4configv1.Meter) int { return byID(a, b) })
	slices.SortFunc(info.DirectMeters, func(a, b *p4configv1.DirectMeter) int { return byID(a, b) })
	for _, ap := range info.ActionProfiles {
		slices.Sort(ap.TableIds)
	}
	return info
}

// textDiff renders both messages as text and returns the first differing
// lines with some context, enough to see what changed.
func textDiff(want, got proto.Message) string {
	opts := prototext.MarshalOptions{Multiline: true, Indent: "  "}
	w := strings.Split(opts.Format(want), "\n")
	g := strings.Split(opts.Format(got), "\n")
	for i := 0; i < max(len(w), len(g)); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			lo := max(0, i-6)
			var b strings.Builder
			fmt.Fprintf(&b, "first difference at line %d\n--- committed\n", i+1)
			b.WriteString(strings.Join(w[lo:min(len(w), i+6)], "\n"))
			b.WriteString("\n--- compiled\n")
			b.WriteString(strings.Join(g[lo:min(len(g), i+6)], "\n"))
			return b.String()
		}
	}
	return "(no textual difference)"
}

func runTool(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out.String())
	}
	return out.Bytes()
}

// TestCommittedP4InfoMatchesSource recompiles the v1model program exactly as
// `make p4` does and compares the P4Info with the committed one.
func TestCommittedP4InfoMatchesSource(t *testing.T) {
	p4c, ok := findTool("p4c-bm2-ss")
	if !ok {
		t.Skip("p4c-bm2-ss not found on PATH or in /opt/p4/bin: cannot check that p4src/build/qos.p4info.txtpb matches p4src/v1model/qos.p4 (see docs/targets.md)")
	}
	dir := t.TempDir()
	p4info := filepath.Join(dir, "qos.p4info.txtpb")
	out := runTool(t, p4c, "--arch", "v1model", "--std", "p4-16", "-I", includeDir,
		"--p4runtime-files", p4info, "-o", filepath.Join(dir, "qos.json"), v1modelSource)
	if len(bytes.TrimSpace(out)) > 0 {
		t.Logf("p4c-bm2-ss output:\n%s", out)
	}
	committed := normalize(loadP4Info(t, committedP4Info))
	compiled := normalize(loadP4Info(t, p4info))
	if !proto.Equal(committed, compiled) {
		t.Errorf("committed P4Info differs from p4c output; run `make p4` and commit p4src/build\n%s",
			textDiff(committed, compiled))
	}
	if _, err := os.Stat(committedJSON); err != nil {
		t.Errorf("committed BMv2 JSON: %v; run `make p4`", err)
	}
}

// tnaIncludeDir finds the TNA architecture headers: P4QOS_TNA_INCLUDE, or
// the open-source Tofino backend inside a p4c source tree.
func tnaIncludeDir() (string, bool) {
	candidates := []string{os.Getenv("P4QOS_TNA_INCLUDE")}
	if src := os.Getenv("P4C_SRC"); src != "" {
		candidates = append(candidates, filepath.Join(src, "backends/tofino/bf-p4c/p4include"))
	}
	candidates = append(candidates,
		"/opt/p4/src/p4c/backends/tofino/bf-p4c/p4include",
		"/opt/p4/share/p4c/p4include")
	for _, c := range candidates {
		if c == "" {
			continue
		}
		if _, err := os.Stat(filepath.Join(c, "tna.p4")); err == nil {
			return c, true
		}
	}
	return "", false
}

// TestTNAProgramCompiles runs the TNA program through p4test (p4c's front
// and mid end) with the TNA include files, for Tofino 1 and Tofino 2.
func TestTNAProgramCompiles(t *testing.T) {
	p4test, ok := findTool("p4test")
	if !ok {
		t.Skip("p4test not found on PATH or in /opt/p4/bin: cannot check p4src/tna/qos.p4")
	}
	inc, ok := tnaIncludeDir()
	if !ok {
		t.Skip("TNA include files (tna.p4) not found: set P4QOS_TNA_INCLUDE or P4C_SRC")
	}
	for _, target := range []string{"1", "2"} {
		t.Run("tofino"+target, func(t *testing.T) {
			out := runTool(t, p4test, "--std", "p4-16", "-D__TARGET_TOFINO__="+target, "-I", inc, tnaSource)
			if len(bytes.TrimSpace(out)) > 0 {
				t.Logf("p4test output:\n%s", out)
			}
		})
	}
}
