package bmv2env

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// ToolDir is where docs/targets.md ("Building") puts p4c and BMv2; FindTool looks
// there after PATH.
const ToolDir = "/opt/p4/bin"

// FindTool returns the path of an executable on PATH or in ToolDir.
func FindTool(name string) (string, bool) {
	if p, err := exec.LookPath(name); err == nil {
		return p, true
	}
	p := filepath.Join(ToolDir, name)
	if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
		return p, true
	}
	return "", false
}

// requireTool returns the path of tool, or skips t saying what it is for.
func requireTool(t testing.TB, name, why string) string {
	t.Helper()
	p, ok := FindTool(name)
	if !ok {
		t.Skipf("%s not found on PATH or in %s (%s)", name, ToolDir, why)
	}
	return p
}

// Require skips t unless simple_switch_grpc (BMv2 with P4Runtime) is found,
// and returns its path. It is all a switch on the host's loopback needs.
func Require(t testing.TB) string {
	t.Helper()
	return requireTool(t, "simple_switch_grpc", "BMv2 with P4Runtime support; see docs/targets.md")
}

// RequireNetnsSwitch skips t with -short (a namespaced switch takes
// seconds), and unless both RequireNetns and Require pass.
func RequireNetnsSwitch(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("tests with BMv2 in a network namespace take seconds each; skipped with -short")
	}
	RequireNetns(t)
	Require(t)
}

// RequireNetns skips t unless it can create network namespaces and veth
// pairs: root and iproute2's `ip`.
func RequireNetns(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create network namespaces and veth pairs (run the BMv2 packet tests as root)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs iproute2 `ip` for network namespaces and veth pairs")
	}
}

// RequireCLI skips t unless simple_switch_CLI (thrift client, for queue
// rates and depths) is found, and returns its path.
func RequireCLI(t testing.TB) string {
	t.Helper()
	return requireTool(t, "simple_switch_CLI", "needed for thrift commands such as set_queue_rate")
}

// RequireFile skips t unless path exists; hint says how to make it.
func RequireFile(t testing.TB, path, hint string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Skipf("%s missing: %s", path, hint)
	}
}

// RepoPath is rel inside the repository: the nearest directory above the
// working directory (a test's package directory) that holds go.mod.
func RepoPath(rel string) string {
	dir, err := os.Getwd()
	if err != nil {
		return rel
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return filepath.Join(d, rel)
		}
		if filepath.Dir(d) == d {
			return rel
		}
	}
}

// The committed qos pipeline compiled for BMv2 (p4src/build, `make p4`).
var (
	QosJSON   = RepoPath(filepath.Join("p4src", "build", "qos.json"))
	QosP4Info = RepoPath(filepath.Join("p4src", "build", "qos.p4info.txtpb"))
)

// RequireQosPipeline skips t unless the compiled qos pipeline's BMv2 JSON
// exists (its P4Info is committed next to it).
func RequireQosPipeline(t testing.TB) {
	t.Helper()
	RequireFile(t, QosJSON, "compile p4src/v1model/qos.p4 with p4c-bm2-ss (`make p4`)")
}
