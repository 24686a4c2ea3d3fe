package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/p4qos/p4qos/topo"
	"github.com/p4qos/p4qos/topo/mininet"
)

// repoRoot is the module root, two levels up from this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// requireLab skips unless a Mininet+BMv2 lab can run here.
func requireLab(t *testing.T) {
	t.Helper()
	// These tests push real traffic through Mininet for minutes and measure
	// rates and latencies; they run on request (make e2e), not in every
	// make test, so that a loaded CI machine cannot turn them into noise.
	if os.Getenv("P4QOS_E2E") == "" {
		t.Skip("Mininet end-to-end test (minutes of real traffic): run `make e2e` (P4QOS_E2E=1) to include it")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root for network namespaces and Mininet")
	}
	if missing := mininet.MissingTools(mininet.FindBMv2()); len(missing) > 0 {
		t.Skipf("lab tools missing: %v", missing)
	}
}

// pipelineFiles returns the BMv2 JSON and P4Info the tests program the
// switches with: p4src/build's, unless P4QOS_E2E_BMV2_JSON and
// P4QOS_E2E_P4INFO name others (e.g. a build being tried out).
func pipelineFiles(t *testing.T) (bmv2JSON, p4info string) {
	root := repoRoot(t)
	bmv2JSON, p4info = filepath.Join(root, "p4src/build/qos.json"), filepath.Join(root, "p4src/build/qos.p4info.txtpb")
	if v := os.Getenv("P4QOS_E2E_BMV2_JSON"); v != "" {
		bmv2JSON = v
	}
	if v := os.Getenv("P4QOS_E2E_P4INFO"); v != "" {
		p4info = v
	}
	return bmv2JSON, p4info
}

// requirePipeline skips unless the compiled qos pipeline and iperf3 are
// there too: the tests that send traffic need programmed switches.
func requirePipeline(t *testing.T) {
	t.Helper()
	requireLab(t)
	j, p := pipelineFiles(t)
	for _, f := range []string{j, p} {
		if _, err := os.Stat(f); err != nil {
			t.Skipf("%s is missing: compile the P4 program with `make p4` (needs p4c)", f)
		}
	}
	if _, err := exec.LookPath("iperf3"); err != nil {
		t.Skip("iperf3 is missing: apt-get install iperf3")
	}
}

// buildCLI builds bin/p4qos into a temp dir once per test.
func buildCLI(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "p4qos")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/p4qos")
	cmd.Dir = repoRoot(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// lab is a running lab in a test: `p4qos lab up` was run and `lab down`
// runs at cleanup, after every background command has been stopped.
type lab struct {
	t                                    *testing.T
	bin, root, topoFile, stateRoot, name string
}

// startLab starts topoFile's lab with policy (and extra `p4qos run` flags)
// and stops it when the test ends.
func startLab(t *testing.T, topoFile, policy string, ctlArgs ...string) *lab {
	t.Helper()
	return startLabWith(t, topoFile, policy, nil, ctlArgs...)
}

// startLabWith is startLab with extra `p4qos lab up` flags.
func startLabWith(t *testing.T, topoFile, policy string, upArgs []string, ctlArgs ...string) *lab {
	t.Helper()
	requirePipeline(t)
	l := &lab{t: t, bin: buildCLI(t), root: repoRoot(t), topoFile: topoFile, stateRoot: t.TempDir()}
	tp, err := topo.Load(topoFile)
	if err != nil {
		t.Fatal(err)
	}
	l.name = tp.Name
	bmv2JSON, p4info := pipelineFiles(t)
	args := append([]string{"up", "--policy", policy, "--bmv2-json", bmv2JSON, "--p4info", p4info}, upArgs...)
	for _, a := range ctlArgs {
		args = append(args, "--controller-arg="+a)
	}
	// A lab left over by an earlier, killed run would make up fail.
	_, _ = l.cli(context.Background(), "down")
	t.Cleanup(func() {
		if out, err := l.cli(context.Background(), "down"); err != nil {
			t.Errorf("lab down: %v\n%s", err, out)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	start := time.Now()
	if out, err := l.cli(ctx, args...); err != nil {
		t.Fatalf("lab up: %v\n%s", err, out)
	}
	t.Logf("lab up took %s", time.Since(start).Round(100*time.Millisecond))
	return l
}

// cli runs `p4qos lab ARGS -t topo --state-dir ...`.
func (l *lab) cli(ctx context.Context, args ...string) ([]byte, error) {
	sub := args[0]
	full := append([]string{"lab", sub, "-t", l.topoFile, "--state-dir", l.stateRoot}, args[1:]...)
	c := exec.CommandContext(ctx, l.bin, full...)
	c.Dir = l.root
	return c.CombinedOutput()
}

// exec runs a command on a host and returns its stdout; stderr goes into
// the error.
func (l *lab) exec(ctx context.Context, host string, args ...string) ([]byte, error) {
	c := exec.CommandContext(ctx, l.bin, append([]string{"lab", "exec", "-t", l.topoFile, "--state-dir", l.stateRoot, host, "--"}, args...)...)
	c.Dir = l.root
	var stderr bytes.Buffer
	c.Stderr = &stderr
	out, err := c.Output()
	if err != nil {
		return out, fmt.Errorf("%s: %s: %v: %s", host, strings.Join(args, " "), err, stderr.String())
	}
	return out, nil
}

// background starts a command on a host; it is killed when the test ends
// (lab down would kill it too). Its stdout is in the returned buffer once
// wait returns.
type bgCmd struct {
	cmd  *exec.Cmd
	out  bytes.Buffer
	done chan error
}

func (l *lab) background(host string, args ...string) *bgCmd {
	l.t.Helper()
	b := &bgCmd{done: make(chan error, 1)}
	b.cmd = exec.Command(l.bin, append([]string{"lab", "exec", "-t", l.topoFile, "--state-dir", l.stateRoot, host, "--"}, args...)...)
	b.cmd.Dir = l.root
	b.cmd.Stdout = &b.out
	b.cmd.Stderr = &b.out
	// Its own process group, so that the command it runs in the host
	// (a child of p4qos lab exec) dies with it; and Wait must not hang on a
	// pipe some straggler still holds.
	b.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	b.cmd.WaitDelay = 2 * time.Second
	if err := b.cmd.Start(); err != nil {
		l.t.Fatalf("%s: %v", strings.Join(args, " "), err)
	}
	go func() { b.done <- b.cmd.Wait() }()
	l.t.Cleanup(func() {
		_ = syscall.Kill(-b.cmd.Process.Pid, syscall.SIGKILL)
		<-b.done
	})
	return b
}

// wait waits for the command, at most max.
func (b *bgCmd) wait(max time.Duration) error {
	select {
	case err := <-b.done:
		b.done <- err // for the cleanup
		return err
	case <-time.After(max):
		return fmt.Errorf("still running after %s", max)
	}
}

// iperf3Received parses an iperf3 -J document (server side or the client's
// "server_output_json") and returns the received bit rate.
func iperf3Received(t *testing.T, doc []byte) float64 {
	t.Helper()
	var r struct {
		End struct {
			Sum struct {
				BitsPerSecond float64 `json:"bits_per_second"`
				LostPercent   float64 `json:"lost_percent"`
			} `json:"sum"`
			SumReceived struct {
				BitsPerSecond float64 `json:"bits_per_second"`
			} `json:"sum_received"`
		} `json:"end"`
		ServerOutput json.RawMessage `json:"server_output_json"`
		Error        string          `json:"error"`
	}
	if err := json.Unmarshal(doc, &r); err != nil {
		t.Fatalf("iperf3 JSON: %v\n%s", err, doc)
	}
	if r.Error != "" {
		t.Fatalf("iperf3: %s", r.Error)
	}
	if r.End.SumReceived.BitsPerSecond > 0 {
		return r.End.SumReceived.BitsPerSecond
	}
	// UDP: the client's sum is what it sent; lost_percent is from the
	// server's count, so sent × (1 − lost) is what arrived.
	return r.End.Sum.BitsPerSecond * (1 - r.End.Sum.LostPercent/100)
}

// probeResult is udpprobe.py's output.
type probeResult struct {
	Sent     int      `json:"sent"`
	Received int      `json:"received"`
	P50      *float64 `json:"p50_ms"`
	P99      *float64 `json:"p99_ms"`
	Max      *float64 `json:"max_ms"`
}

func parseProbe(t *testing.T, out []byte) probeResult {
	t.Helper()
	var r probeResult
	if err := json.Unmarshal(bytes.TrimSpace(out), &r); err != nil {
		t.Fatalf("probe output: %v\n%s", err, out)
	}
	return r
}

// metrics fetches the lab controller's Prometheus metrics (its endpoint
// is inside the lab namespace).
func (l *lab) metrics(ctx context.Context) (string, error) {
	c := exec.CommandContext(ctx, "ip", "netns", "exec", "p4qos-"+l.name, "curl", "-sf", "http://"+mininet.MetricsAddr+"/metrics")
	out, err := c.Output()
	return string(out), err
}

// sample returns the value of the sample line "name{labels} value".
func sample(metrics, name, labels string) (float64, bool) {
	prefix := name + "{" + labels + "} "
	for _, line := range strings.Split(metrics, "\n") {
		if strings.HasPrefix(line, prefix) {
			var v float64
			if _, err := fmt.Sscanf(strings.TrimPrefix(line, prefix), "%g", &v); err == nil {
				return v, true
			}
		}
	}
	return 0, false
}

func testdata(t *testing.T, name string) string {
	return filepath.Join(repoRoot(t), "tests", "e2e", "testdata", name)
}
