package mininet

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/p4qos/p4qos/topo"
)

func fabric(t *testing.T) *topo.Topology {
	t.Helper()
	tp, err := topo.Load("../examples/fabric.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return tp
}

// lab up --pcap: the spec lab.py reads names the capture directory, made
// and absolute, and lab.py hands it to every BMv2 as one --pcap=DIR token.
func TestPcapSpec(t *testing.T) {
	tp := fabric(t)
	dir := t.TempDir()
	t.Chdir(dir)
	l := New(tp, WithPcap("caps"), WithStateRoot(filepath.Join(dir, "state")))
	s, err := BuildSpec(l.topo, "/bin/true", l.stateDir)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.preparePcap(s); err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "caps"); s.PcapDir != want {
		t.Errorf("pcap dir %q, want %q", s.PcapDir, want)
	}
	if fi, err := os.Stat(s.PcapDir); err != nil || !fi.IsDir() {
		t.Errorf("capture directory not made: %v", err)
	}
	if !strings.Contains(string(labScript), `args += ["--pcap=" + self.lab["pcap_dir"]]`) {
		t.Error("lab.py does not pass pcap_dir to BMv2")
	}
	s2, _ := BuildSpec(l.topo, "/bin/true", l.stateDir)
	if err := New(tp).preparePcap(s2); err != nil || s2.PcapDir != "" {
		t.Errorf("without --pcap: %q, %v", s2.PcapDir, err)
	}
}

// lab cli names what is wrong before any shell starts: an unknown host is
// the user's mistake, a lab that is not up a precondition.
func TestShellErrors(t *testing.T) {
	if missing := ShellTools(); len(missing) > 0 {
		t.Skipf("lab cli tools missing: %v", missing)
	}
	l := New(fabric(t), WithStateRoot(t.TempDir()))
	l.namespace = "p4qos-test-absent-" + filepath.Base(t.TempDir())
	if _, err := l.Shell("h9"); !errors.Is(err, ErrNoHost) {
		t.Errorf("unknown host: %v", err)
	}
	if _, err := l.Shell(""); !errors.Is(err, ErrPrecondition) || !strings.Contains(err.Error(), "lab up first") {
		t.Errorf("lab not up: %v", err)
	}
}

// With a lab up (root, Mininet, BMv2), the shell on h1 is in h1's
// namespace: it sees h1's address.
func TestShellOnARunningLab(t *testing.T) {
	if os.Getenv("P4QOS_E2E") == "" {
		t.Skip("needs a running lab: run `make e2e` (P4QOS_E2E=1) as root with Mininet and BMv2")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root for network namespaces")
	}
	if missing := append(MissingTools(FindBMv2()), ShellTools()...); len(missing) > 0 {
		t.Skipf("lab tools missing: %v", missing)
	}
	l := New(fabric(t), WithStateRoot(t.TempDir()), WithPcap(t.TempDir()))
	if err := l.Up(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer l.Down(t.Context())
	c, err := l.Shell("h1")
	if err != nil {
		t.Fatal(err)
	}
	c.Stdin = strings.NewReader("ip -4 addr show; ping -c 1 -W 2 10.0.2.3 >/dev/null; exit\n")
	out, err := c.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "10.0.1.1/") {
		t.Errorf("shell on h1: %v\n%s", err, out)
	}
	caps, _ := filepath.Glob(filepath.Join(l.PcapDir(), "leaf1-eth1_*.pcap"))
	if len(caps) != 2 {
		t.Errorf("captures of leaf1 port 1: %v", caps)
	}
}

// --rt-priority reaches lab.py's spec, which runs BMv2 under chrt; a
// priority outside SCHED_RR's range is refused before anything starts.
func TestSwitchRTPriority(t *testing.T) {
	_, chrtErr := exec.LookPath("chrt")
	for _, c := range []struct {
		prio    int
		problem string // "" when the priority is fine
	}{
		{0, ""},
		{50, ""},
		{99, ""},
		{-1, "not a SCHED_RR priority"},
		{100, "not a SCHED_RR priority"},
	} {
		if c.prio > 0 && chrtErr != nil {
			c.problem = "chrt not found"
		}
		probs := rtProblems(c.prio)
		switch {
		case c.problem == "" && len(probs) > 0:
			t.Errorf("priority %d: %v", c.prio, probs)
		case c.problem != "" && (len(probs) != 1 || !strings.Contains(probs[0], c.problem)):
			t.Errorf("priority %d: %v, want one problem saying %q", c.prio, probs, c.problem)
		}
		l := New(fabric(t), WithSwitchRTPriority(c.prio), WithStateRoot(t.TempDir()))
		s, err := BuildSpec(l.topo, "/bin/true", l.stateDir)
		if err != nil {
			t.Fatal(err)
		}
		l.applyOptions(s)
		b, _ := json.Marshal(s)
		if got := strings.Contains(string(b), fmt.Sprintf(`"rt_priority":%d`, c.prio)); got != (c.prio != 0) {
			t.Errorf("priority %d: spec %s", c.prio, b)
		}
	}
	if !strings.Contains(string(labScript), `args = ["chrt", "-r", str(self.lab["rt_priority"])] + args`) {
		t.Error("lab.py does not start BMv2 under chrt when rt_priority is set")
	}
}
