package hostile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/p4qos/p4qos/internal/inputfile"
)

const (
	// addressSpaceKB is the ulimit -v each run gets.
	addressSpaceKB = 2_000_000
	// runTimeout is how long a run may take; the slowest file at a cap
	// takes a few seconds on a loaded 2-core machine.
	runTimeout = 90 * time.Second
	// serveGrace is how long a sim that accepted its input runs before it
	// is sent SIGTERM.
	serveGrace = 1500 * time.Millisecond
	// maxStderr bounds what one run may print to stderr: 200 listed
	// problems of a few hundred bytes each.
	maxStderr = 128 << 10
	// seed makes the random mutations reproducible.
	seed = 19
)

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// buildCLI builds p4qos without cgo (see the package comment).
func buildCLI(t *testing.T, root string) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), "p4qos")
	cmd := exec.Command(goTool, "build", "-o", bin, "./cmd/p4qos")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// slot is one place a command reads a file.
type slot struct {
	name      string
	base      string // a valid input, relative to the repository
	ext       string
	kind      inputfile.Kind
	denseKey  string                // a list key of the format, for the dense files at the cap
	args      func(string) []string // the command line for an input
	stdin     bool                  // also feed each input on standard input ("-")
	serves    bool                  // a valid input starts a server (sim)
	extraMuts []mutation
}

func slots(root string) []slot {
	rel := func(p string) string { return filepath.Join(root, p) }
	policy, topology, p4info := rel("topo/examples/fabric-policy.yaml"), rel("topo/examples/fabric.yaml"), rel("p4src/build/qos.p4info.txtpb")
	return []slot{
		{name: "compile -p", base: "topo/examples/fabric-policy.yaml", ext: ".yaml", kind: inputfile.Policy, denseKey: "classes",
			args: func(f string) []string { return []string{"compile", "-p", f, "-t", topology, "--p4info", p4info} }},
		{name: "compile -t", base: "topo/examples/fabric.yaml", ext: ".yaml", kind: inputfile.Topology, denseKey: "switches",
			args: func(f string) []string { return []string{"compile", "-p", policy, "-t", f, "--p4info", p4info} }},
		{name: "compile --p4info", base: "p4src/build/qos.p4info.txtpb", ext: ".txtpb", kind: inputfile.P4Info, denseKey: "tables",
			args:      func(f string) []string { return []string{"compile", "-p", policy, "-t", topology, "--p4info", f} },
			extraMuts: p4infoMutations()},
		{name: "compile --config", base: "", ext: ".yaml", kind: inputfile.Config, denseKey: "switch",
			args: func(f string) []string { return []string{"compile", "--config", f} }},
		{name: "compile --config (toml)", base: "", ext: ".toml", kind: inputfile.Config, denseKey: "switch",
			args: func(f string) []string { return []string{"compile", "--config", f} },
			extraMuts: []mutation{
				{"toml-deep-arrays", func([]byte) []byte { return repeat("a = ", "[", "", 400_000) }},
				{"toml-deep-tables", func([]byte) []byte { return repeat("a = ", "{b=", "", 200_000) }},
				{"toml-dotted-key", func([]byte) []byte { return repeat("", "a.", "b = 1\n", 400_000) }},
				{"toml-dotted-header", func([]byte) []byte { return repeat("[", "a.", "b]\n", 400_000) }},
				{"toml-long-line", func([]byte) []byte { return repeat("policy = \"", "x", "\n", 500_000) }},
			}},
		{name: "allocate -f", base: "allocator/testdata/example.yaml", ext: ".yaml", kind: inputfile.Problem, denseKey: "links",
			args: func(f string) []string { return []string{"allocate", "-f", f} }, stdin: true,
			// JSON above 2 MB skips the YAML reader (allocator/parsejson.go):
			// the worst shapes it can be given at the 32 MB cap.
			extraMuts: []mutation{
				{"json-one-path-of-8M-links", func([]byte) []byte {
					return repeat(`{"links":[{"name":"l","capacity":1}],"flow_groups":[{"name":"a","weight":1,"paths":[{"links":["l"`, `,"l"`, `]}]}]}`, 7_999_900)
				}},
				{"json-800k-flow-groups", func([]byte) []byte {
					return repeat(`{"links":[{"name":"l","capacity":1e9}],"flow_groups":[{"name":"a","weight":1,"paths":[{"links":["l"]}]}`, `,{"name":"a","paths":[{"links":["l"]}]}`, "]}", 800_000)
				}},
			}},
		// The daemon's slots: with --once and a switch address nothing
		// listens on, a valid input ends in exit 1 after --timeout.
		{name: "run -c", base: "", ext: ".yaml", kind: inputfile.Config, denseKey: "switches",
			// The flags repeat once/timeout/metrics-addr: a truncation that
			// cuts them off but leaves a valid config would otherwise start
			// a daemon that rightly runs until stopped.
			args: func(f string) []string {
				return []string{"run", "-c", f, "--once", "--timeout", "300ms", "--metrics-addr", "off"}
			}},
		{name: "run --policy", base: "topo/examples/fabric-policy.yaml", ext: ".yaml", kind: inputfile.Policy, denseKey: "classes",
			args: func(f string) []string { return runArgs(f, topology, p4info) }},
		{name: "run --topology", base: "topo/examples/fabric.yaml", ext: ".yaml", kind: inputfile.Topology, denseKey: "switches",
			args: func(f string) []string { return runArgs(policy, f, p4info) }},
		{name: "sim --flows", base: "", ext: ".yaml", kind: inputfile.Flows, denseKey: "flows",
			args: func(f string) []string {
				return []string{"sim", "--listen", "127.0.0.1:0", "--tick", "10ms", "--flows", f}
			}, serves: true},
	}
}

// runArgs runs the daemon once against switches that are not there, so
// that only the input decides the outcome (2 when it is bad, else 1).
func runArgs(policy, topology, p4info string) []string {
	return []string{"run", "--once", "--timeout", "300ms", "--metrics-addr", "off", "--policy", policy, "--topology", topology, "--p4info", p4info}
}

// baseInput is the slot's valid input.
func baseInput(t *testing.T, root string, s slot) []byte {
	t.Helper()
	if s.base != "" {
		b, err := os.ReadFile(filepath.Join(root, s.base))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	switch {
	case s.name == "run -c":
		return []byte(fmt.Sprintf("policy: %s\ntopology: %s\np4info: %s\nonce: true\ntimeout: 300ms\nmetrics-addr: \"off\"\nswitches:\n  - {name: leaf1, address: \"127.0.0.1:1\"}\n",
			filepath.Join(root, "topo/examples/fabric-policy.yaml"), filepath.Join(root, "topo/examples/fabric.yaml"), filepath.Join(root, "p4src/build/qos.p4info.txtpb")))
	case strings.HasPrefix(s.name, "compile --config (toml)"):
		return []byte(fmt.Sprintf("policy = %q\ntopology = %q\np4info = %q\noutput = \"text\"\nswitch = \"leaf1\"\n",
			filepath.Join(root, "topo/examples/fabric-policy.yaml"), filepath.Join(root, "topo/examples/fabric.yaml"), filepath.Join(root, "p4src/build/qos.p4info.txtpb")))
	case strings.HasPrefix(s.name, "compile --config"):
		return []byte(fmt.Sprintf("policy: %s\ntopology: %s\np4info: %s\noutput: json\nswitch: spine1\n",
			filepath.Join(root, "topo/examples/fabric-policy.yaml"), filepath.Join(root, "topo/examples/fabric.yaml"), filepath.Join(root, "p4src/build/qos.p4info.txtpb")))
	}
	return []byte("flows:\n  - {name: voice, src: 10.0.1.1, dst: 10.0.2.2, proto: udp, sport: 4000, dport: 5060, dscp: 46, ingress_port: 1, rate: 2Mbps, packet_size: 200B}\n  - {name: bulk, src: 10.0.1.1, dst: 10.0.2.2, proto: tcp, dport: 5001, rate: 10Mbps}\n")
}

// corpus writes the slot's inputs into dir.
func corpus(t *testing.T, root, dir string, s slot, n int, special []input) []input {
	t.Helper()
	base := baseInput(t, root, s)
	muts := append([]mutation{{"valid", func(b []byte) []byte { return b }}}, textMutations()...)
	muts = append(muts, sizeMutations(s.kind.Limit(), s.denseKey)...)
	muts = append(muts, binaryInputs(seed)...)
	muts = append(muts, s.extraMuts...)
	muts = append(muts, randomMutations(n, seed)...)
	var out []input
	for i, m := range muts {
		p := filepath.Join(dir, fmt.Sprintf("%03d-%s%s", i, m.name, s.ext))
		if err := os.WriteFile(p, m.make(base), 0o644); err != nil {
			t.Fatal(err)
		}
		out = append(out, input{m.name, p})
	}
	return append(out, special...)
}

// result is what one run did.
type result struct {
	slot, input string
	stdin       bool
	code        int // -1: killed by a signal
	stderr      []byte
	stdout      []byte
	took        time.Duration
	timedOut    bool
	served      bool // a sim that ran until SIGTERM
}

// capped keeps the first limit bytes written and counts the rest.
type capped struct {
	buf   bytes.Buffer
	limit int
	total int
}

func (c *capped) Write(p []byte) (int, error) {
	c.total += len(p)
	if room := c.limit - c.buf.Len(); room > 0 {
		c.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// run runs the CLI under ulimit -v with a timeout.
func run(bin string, s slot, in input, viaStdin bool) result {
	args := s.args(in.path)
	if viaStdin {
		args = s.args("-")
	}
	r := result{slot: s.name, input: in.name, stdin: viaStdin}
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	// sh sets the limit and execs p4qos, so the process signalled below is
	// p4qos itself.
	cmd := exec.CommandContext(ctx, "/bin/sh", append([]string{"-c", fmt.Sprintf(`ulimit -v %d && exec "$0" "$@"`, addressSpaceKB), bin}, args...)...)
	cmd.Env = append(os.Environ(), "GOTRACEBACK=all")
	stdout, stderr := &capped{limit: 1 << 20}, &capped{limit: 1 << 20}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if viaStdin {
		f, err := os.Open(in.path)
		if err != nil {
			r.code, r.stderr = -2, []byte("test: cannot open stdin input: "+err.Error())
			return r
		}
		defer f.Close()
		cmd.Stdin = f
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		r.code, r.stderr = -2, []byte("test: start: "+err.Error())
		return r
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	if s.serves {
		select {
		case err = <-done:
		case <-time.After(serveGrace):
			r.served = true
			_ = cmd.Process.Signal(syscall.SIGTERM)
			err = <-done
		}
	} else {
		err = <-done
	}
	r.took = time.Since(start)
	r.timedOut = ctx.Err() != nil
	r.code = cmd.ProcessState.ExitCode()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		r.code = -2
	}
	r.stdout, r.stderr = stdout.buf.Bytes(), stderr.buf.Bytes()
	if stderr.total > stderr.limit {
		r.stderr = append(r.stderr, fmt.Sprintf("\n[test: %d bytes in all]", stderr.total)...)
	}
	return r
}

// problems lists what is wrong with a run, or nothing.
func problems(r result) []string {
	var out []string
	all := string(r.stdout) + string(r.stderr)
	for _, bad := range []string{"goroutine ", "fatal error:", "panic:", "runtime error", "SIGSEGV", "[signal "} {
		if strings.Contains(all, bad) {
			out = append(out, fmt.Sprintf("output contains %q", bad))
		}
	}
	switch {
	case r.timedOut:
		out = append(out, fmt.Sprintf("did not finish within %v", runTimeout))
	case r.code < 0:
		out = append(out, fmt.Sprintf("ended by a signal or could not run (code %d)", r.code))
	case r.code > 2:
		out = append(out, fmt.Sprintf("exit status %d", r.code))
	case r.code != 0 && len(bytes.TrimSpace(r.stderr)) == 0:
		out = append(out, fmt.Sprintf("exit status %d without a message", r.code))
	}
	if len(r.stderr) > maxStderr {
		out = append(out, fmt.Sprintf("%d bytes of stderr (limit %d)", len(r.stderr), maxStderr))
	}
	return out
}

func TestHostileInputs(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("Linux only: FIFOs, /dev/zero and ulimit -v")
	}
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh for ulimit -v")
	}
	n := 3
	if v := os.Getenv("P4QOS_HOSTILE_N"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 0 {
			t.Fatalf("P4QOS_HOSTILE_N=%q: want a number of random mutations per slot", v)
		}
	}
	root := repoRoot(t)
	if _, err := os.Stat(filepath.Join(root, "p4src/build/qos.p4info.txtpb")); err != nil {
		t.Skipf("skipping: the committed P4Info is not there: %v", err)
	}
	bin := buildCLI(t, root)
	dir := t.TempDir()
	special := specialPaths(t, dir)

	type job struct {
		s     slot
		in    input
		stdin bool
	}
	var jobs []job
	for i, s := range slots(root) {
		sd := filepath.Join(dir, fmt.Sprintf("slot%d", i))
		if err := os.Mkdir(sd, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, in := range corpus(t, root, sd, s, n, special) {
			jobs = append(jobs, job{s, in, false})
			if fi, err := os.Stat(in.path); s.stdin && (in.path == "/dev/zero" || in.path == "/dev/urandom" || err == nil && fi.Mode().IsRegular()) {
				jobs = append(jobs, job{s, in, true})
			}
		}
	}

	workers := min(4, max(2, runtime.NumCPU()))
	results := make([]result, len(jobs))
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				results[i] = run(bin, jobs[i].s, jobs[i].in, jobs[i].stdin)
			}
		}()
	}
	for i := range jobs {
		next <- i
	}
	close(next)
	wg.Wait()

	strict := os.Getenv("P4QOS_HOSTILE_STRICT") == "1"
	for _, r := range results {
		if r.code == 1 { // allowed (a runtime failure), but input should mostly be exit 2
			t.Logf("exit 1: %s %s: %.300s", r.slot, r.input, r.stderr)
		}
		ps := problems(r)
		if len(ps) == 0 {
			continue
		}
		how := ""
		if r.stdin {
			how = " (on stdin)"
		}
		msg := fmt.Sprintf("%s %s%s: %s (exit %d, %v)\nstderr: %.1500s", r.slot, r.input, how, strings.Join(ps, "; "), r.code, r.took.Round(time.Millisecond), r.stderr)
		if why, known := knownFailure(r.slot); known && !strict {
			t.Logf("KNOWN FAILURE (%s): %s", why, msg)
			continue
		}
		t.Error(msg)
	}
	report(t, results)
}

// knownFailure says why a slot's failures are logged, not failed, until the
// code that reads it is fixed (P4QOS_HOSTILE_STRICT=1 fails them too).
// Add a case only with the reason and the fix that removes it.
// None is known today: sim --flows, the last one, reports through
// internal/yamlerr since the flow parser was fixed.
func knownFailure(slot string) (string, bool) {
	_ = slot
	return "", false
}

// report logs the runs per command and exit status (go test -v shows it).
func report(t *testing.T, results []result) {
	type row struct {
		runs, served int
		codes        map[int]int
		maxStderr    int
		slowest      time.Duration
		slowestInput string
	}
	rows := map[string]*row{}
	var names []string
	codes := map[int]int{}
	for _, r := range results {
		name := r.slot
		if r.stdin {
			name += " (stdin)"
		}
		w := rows[name]
		if w == nil {
			w = &row{codes: map[int]int{}}
			rows[name] = w
			names = append(names, name)
		}
		w.runs++
		w.codes[r.code]++
		codes[r.code]++
		if r.served {
			w.served++
		}
		w.maxStderr = max(w.maxStderr, len(r.stderr))
		if r.took > w.slowest {
			w.slowest, w.slowestInput = r.took, r.input
		}
	}
	sort.Strings(names)
	var b strings.Builder
	fmt.Fprintf(&b, "%d runs under ulimit -v %d:\n", len(results), addressSpaceKB)
	fmt.Fprintf(&b, "%-26s %5s %6s %6s %6s %7s %10s  %s\n", "command", "runs", "exit 0", "exit 1", "exit 2", "served", "max stderr", "slowest")
	for _, n := range names {
		w := rows[n]
		fmt.Fprintf(&b, "%-26s %5d %6d %6d %6d %7d %10d  %v (%s)\n", n, w.runs, w.codes[0], w.codes[1], w.codes[2], w.served, w.maxStderr, w.slowest.Round(time.Millisecond), w.slowestInput)
	}
	fmt.Fprintf(&b, "%-26s %5d %6d %6d %6d\n", "all", len(results), codes[0], codes[1], codes[2])
	t.Log("\n" + b.String())
}
