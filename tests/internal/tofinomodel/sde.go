package tofinomodel

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/p4qos/p4qos/tests/internal/bmv2env"
)

// DefaultSDE is where docs/targets.md ("Tofino model") installs the SDE.
const DefaultSDE = "/opt/sde/install"

// SDE is an open-p4studio install directory.
type SDE struct {
	Dir string
}

// Model is the tofino-model executable.
func (s SDE) Model() string { return filepath.Join(s.Dir, "bin", "tofino-model") }

// Switchd is the bf_switchd executable.
func (s SDE) Switchd() string { return filepath.Join(s.Dir, "bin", "bf_switchd") }

// Env is the environment both processes run with: the SDE's libraries
// first on the loader path, and SDE_INSTALL, which bf_switchd reads.
func (s SDE) Env() []string {
	env := append(os.Environ(), "SDE_INSTALL="+s.Dir, "SDE="+filepath.Dir(s.Dir))
	ld := filepath.Join(s.Dir, "lib")
	if old := os.Getenv("LD_LIBRARY_PATH"); old != "" {
		ld += ":" + old
	}
	return append(env, "LD_LIBRARY_PATH="+ld)
}

// FindSDE returns the SDE named by $P4QOS_SDE (default DefaultSDE), or an
// error that says which executable is missing.
func FindSDE() (SDE, error) {
	s := SDE{Dir: cmp.Or(os.Getenv("P4QOS_SDE"), DefaultSDE)}
	var missing []string
	for _, p := range []string{s.Model(), s.Switchd()} {
		if st, err := os.Stat(p); err != nil || !st.Mode().IsRegular() || st.Mode()&0o111 == 0 {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		return s, fmt.Errorf("the open-p4studio SDE is not installed: %s missing (set P4QOS_SDE to its install directory; docs/targets.md, \"Tofino model\")",
			strings.Join(missing, " and "))
	}
	return s, nil
}

// HasP4RT reports whether bf_switchd was built with its P4Runtime server
// (open-p4studio's -DP4RT=ON): its --help lists --p4rt-server only then.
func (s SDE) HasP4RT() bool {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.Switchd(), "--help")
	cmd.Env = s.Env()
	out, _ := cmd.CombinedOutput()
	return strings.Contains(string(out), "--p4rt-server")
}

// Require skips t unless the SDE is installed with a P4Runtime server and
// the test may create namespaces (root, `ip`); it also skips with -short,
// since the model takes tens of seconds to start. It returns the SDE.
func Require(t testing.TB) SDE {
	t.Helper()
	if testing.Short() {
		t.Skip("tests on the Tofino model take tens of seconds each; skipped with -short")
	}
	s, err := FindSDE()
	if err != nil {
		t.Skip(err.Error())
	}
	if !s.HasP4RT() {
		t.Skipf("%s has no P4Runtime server (--p4rt-server): rebuild bf-drivers with -DP4RT=ON", s.Switchd())
	}
	bmv2env.RequireNetns(t)
	return s
}

// The committed Tofino 1 outputs of bf-p4c (`make p4-tofino`).
var (
	P4Info  = bmv2env.RepoPath(filepath.Join("p4src", "build", "tofino", "qos.p4info.txtpb"))
	Binary  = bmv2env.RepoPath(filepath.Join("p4src", "build", "tofino", "tofino.bin"))
	Context = bmv2env.RepoPath(filepath.Join("p4src", "build", "tofino", "context.json"))
	BfRt    = bmv2env.RepoPath(filepath.Join("p4src", "build", "tofino", "bf-rt.json"))
)

// RequirePipeline skips t unless the committed Tofino 1 outputs exist.
func RequirePipeline(t testing.TB) {
	t.Helper()
	for _, p := range []string{P4Info, Binary, Context, BfRt} {
		bmv2env.RequireFile(t, p, "compile p4src/tna/qos.p4 with bf-p4c (`make p4-tofino`)")
	}
}
