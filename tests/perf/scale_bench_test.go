package perf

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/p4qos/p4qos/tests/internal/bmv2env"
)

// BenchmarkControllerScale programs a fabric of n sim switches (writeFabric:
// n/50 spines, two uplinks per leaf, 200 hosts) spread over several `p4qos
// sim` processes on loopback, with `p4qos run` as a process:
//   - once: `run --once`, start to every switch programmed (wall, peak RSS);
//   - daemon: `run` with the closed loop (1 s) and reconcile (5 s) running:
//     start to /readyz (every switch converged once) and the daemon's CPU
//     to then, then its CPU over a 10 s steady-state window from one
//     reconcile interval after ready, per switch per loop interval and per
//     reconcile pass in the window, and its resident memory at the end.
//
// Reference in the same run: the same measurements at 200 switches; the
// goal (issue #18 item 4) is linear growth to 2,000, converge ≤ 10 s.
func BenchmarkControllerScale(b *testing.B) {
	bin := buildBinary(b)
	for _, n := range []int{200, 2000} {
		b.Run(fmt.Sprintf("switches=%d", n), func(b *testing.B) {
			dir := b.TempDir()
			topo, shards := writeFabric(b, dir, n, max(1, n/500))
			for _, shard := range shards {
				startProcess(b, bin, "sim", "-t", shard, "--no-port-rates", "--log-level", "warn")
			}
			waitListening(b, topo, 2*time.Minute)
			policy := filepath.Join(dir, "policy.yaml")
			writeFile(b, policy, scalePolicy)
			p4info := bmv2env.RepoPath("p4src/build/qos.p4info.txtpb")
			base := []string{"run", "--policy", policy, "--topology", topo, "--p4info", p4info, "--log-level", "warn"}

			var once time.Duration
			var onceRSS int64
			for range b.N {
				t, rss := measure(b, bin, append(base, "--once", "--timeout", "120s", "--metrics-addr", "off")...)
				once += t
				onceRSS = max(onceRSS, rss)
			}
			b.ReportMetric(once.Seconds()/float64(b.N), "once-s")
			b.ReportMetric(float64(onceRSS)/1024, "once-peak-RSS-MB")

			addr := freeAddr(b)
			start := time.Now()
			p := startProcess(b, bin, append(base, "--metrics-addr", addr, "--loop-interval", "1s", "--reconcile-interval", "5s")...)
			waitReady(b, "http://"+addr+"/readyz", 3*time.Minute)
			b.ReportMetric(time.Since(start).Seconds(), "daemon-ready-s")
			// The daemon's CPU to ready: what its own work costs, which
			// other processes on a loaded machine move less than the wall
			// time (the sims' CPU is not in it).
			b.ReportMetric(processCPU(b, p.Pid).Seconds(), "daemon-ready-cpu-s")
			// The window starts one reconcile interval after ready: each
			// worker's ticker kept a tick through the start-up convergence,
			// and the passes those ticks start are start-up, not steady.
			time.Sleep(5 * time.Second)
			metrics := "http://" + addr + "/metrics"
			// One scrape before and one after the window, outside the
			// daemon's CPU measurement: at 2,000 switches a scrape of the
			// per-switch series takes the daemon a good part of a second.
			names := []string{"p4qos_reconciles_total", "p4qos_link_probe_rounds_total", "p4qos_link_probe_round_seconds_sum"}
			before := sumCounters(b, metrics, names...)
			cpu0, t0 := processCPU(b, p.Pid), time.Now()
			const window = 10 * time.Second
			time.Sleep(window)
			cpu, elapsed := processCPU(b, p.Pid)-cpu0, time.Since(t0)
			after := sumCounters(b, metrics, append(names, `p4qos_link_liveness_changes_total{to="down"}`)...)
			// The counters' window runs from the first scrape to the
			// second: a little longer than the CPU's, so their rates are
			// per second of that (the scrapes' own duration included).
			span := time.Since(t0).Seconds() // upper bound; the first scrape ended just before t0
			recs := after[0] - before[0]
			// Link liveness sends a round every probe interval (100 ms)
			// unless sending one takes longer: the rounds achieved, and
			// the mean time to send one.
			probes := after[1] - before[1]
			b.ReportMetric(probes/span, "probe-rounds/s")
			b.ReportMetric((after[2]-before[2])/max(probes, 1)*1000, "ms/probe-round")
			// Links found down since the start: none is (a false failure
			// would recompile and reprogram the fabric).
			b.ReportMetric(after[3], "links-down")
			// Reconcile passes run on a ticker, each switch every 5 s:
			// per switch per second in the counters' window (0.2 when
			// every pass ran), and the daemon's CPU per pass.
			b.ReportMetric(recs/float64(n)/span, "reconciles/switch/s")
			b.ReportMetric(float64(cpu.Microseconds())/max(recs*elapsed.Seconds()/span, 1), "cpu-µs/reconcile")
			b.ReportMetric(float64(cpu.Microseconds())/float64(n)/elapsed.Seconds(), "cpu-µs/switch/interval")
			b.ReportMetric(float64(cpu)/float64(elapsed)*100, "daemon-cpu-%")
			b.ReportMetric(float64(processRSS(b, p.Pid))/1024, "daemon-RSS-MB")
		})
	}
}

const scalePolicy = `version: 1
classify_at: edge
classes:
  - {name: voice, precedence: 300, match: {protocol: udp, dst_port: 16384-32767}, phb: EF, meter: {cir: 2Mbps, cbs: 3KB}}
  - {name: web, precedence: 200, match: {src: h1, dst: h2, protocol: tcp}, phb: AF41, meter: {from: allocator, flow_group: web}}
  - {name: best-effort, precedence: 1, phb: DF}
tenants:
  - name: a
    flow_groups:
      - {name: web, src: h1, dst: h2}
routing: {mode: single}
`

// writeFabric writes the whole topology (every switch target sim) and one
// file per sim process in which only that process's share of the switches
// is target sim (p4qos sim -t starts only those).
//
// The fabric: k = max(n/50, 10) spines (10 at 200 switches, 40 at 2,000), n-k
// leaves; leaf i has two uplinks, to spine i mod k and to spine (i/k) mod
// k, so two leaves share a spine or are four hops apart, and no spine has
// more than ~2n/k ports (the pipeline's ports are 9 bits: a full mesh of
// 1,990 leaves to each spine would not fit). The first 200 leaves have one
// host each: every switch routes to 200 hosts at both sizes, so the route
// count (200 per switch) grows with the switches only. The policy routes
// on one shortest path (routing mode single): the two-uplink fabric has up
// to ~2n/k equal-cost next hops at a spine, more than a selector group holds.
func writeFabric(b *testing.B, dir string, n, procs int) (string, []string) {
	spines := max(n/50, 10)
	leaves := n - spines
	hosts := min(leaves, 200)
	// Ports the kernel hands out, all held open at once so that none is
	// handed out twice, then released for the sims.
	addrs := make([]string, n)
	for i := range addrs {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		defer l.Close()
		addrs[i] = l.Addr().String()
	}
	render := func(shard int) string {
		var s strings.Builder
		s.WriteString("name: scale\nswitches:\n")
		for i := 0; i < n; i++ {
			name := fmt.Sprintf("leaf%d", i+1)
			if i >= leaves {
				name = fmt.Sprintf("spine%d", i-leaves+1)
			}
			target := "sim"
			if shard >= 0 && i%procs != shard {
				target = "bmv2"
			}
			fmt.Fprintf(&s, "  - {name: %s, device_id: %d, address: %q, target: %s}\n", name, i+1, addrs[i], target)
		}
		s.WriteString("hosts:\n")
		for l := 0; l < hosts; l++ {
			hi, lo := (l+1)>>8, (l+1)&255
			fmt.Fprintf(&s, "  - {name: h%d, ipv4: 10.%d.%d.1/24, mac: \"00:00:0a:%02x:%02x:01\", switch: leaf%d, port: 1, gateway: 10.%d.%d.254, link: {capacity: 1Gbps}}\n",
				l+1, hi, lo, hi, lo, l+1, hi, lo)
		}
		s.WriteString("links:\n")
		spinePort := make([]int, spines)
		for l := 0; l < leaves; l++ {
			a, c := l%spines, (l/spines)%spines
			for up, sp := range []int{a, c} {
				if up == 1 && c == a {
					sp = (a + 1) % spines
				}
				spinePort[sp]++
				fmt.Fprintf(&s, "  - {a: leaf%d:%d, b: spine%d:%d, capacity: 10Gbps}\n", l+1, up+2, sp+1, spinePort[sp])
			}
		}
		return s.String()
	}
	full := filepath.Join(dir, "topo.yaml")
	writeFile(b, full, render(-1))
	var shards []string
	for k := 0; k < procs; k++ {
		f := filepath.Join(dir, fmt.Sprintf("shard%d.yaml", k))
		writeFile(b, f, render(k))
		shards = append(shards, f)
	}
	return full, shards
}

func writeFile(b *testing.B, path, content string) {
	b.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		b.Fatal(err)
	}
}

// freeAddr returns a loopback address nothing listens on (a port the
// kernel just handed out and that was closed again).
func freeAddr(b *testing.B) string {
	b.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startProcess starts bin with args; it is stopped by PID at cleanup. Its
// output goes to a log file, not to the benchmark's: the start-up lines of
// dozens of sim processes split the result lines that benchstat reads. The
// file is kept, and named, only when the benchmark fails.
func startProcess(b *testing.B, bin string, args ...string) *os.Process {
	b.Helper()
	log, err := os.CreateTemp("", "p4qos-perf-*.log")
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		log.Close()
		os.Remove(log.Name())
		b.Fatal(err)
	}
	b.Cleanup(func() {
		log.Close()
		if b.Failed() {
			b.Logf("output of %s %s: %s", bin, strings.Join(args, " "), log.Name())
		} else {
			os.Remove(log.Name())
		}
	})
	b.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	return cmd.Process
}

// waitListening waits until every switch address of the topology accepts
// a connection.
func waitListening(b *testing.B, topo string, limit time.Duration) {
	b.Helper()
	data, err := os.ReadFile(topo)
	if err != nil {
		b.Fatal(err)
	}
	deadline := time.Now().Add(limit)
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for sc.Scan() {
		i := strings.Index(sc.Text(), `address: "`)
		if i < 0 {
			continue
		}
		addr := strings.SplitN(sc.Text()[i+len(`address: "`):], `"`, 2)[0]
		for {
			c, err := net.DialTimeout("tcp", addr, time.Second)
			if err == nil {
				c.Close()
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("%s not listening after %v: %v", addr, limit, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

func waitReady(b *testing.B, url string, limit time.Duration) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-ctx.Done():
			b.Fatalf("%s not ready after %v", url, limit)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// measure runs bin with args once and returns its wall time and peak
// resident set (KiB). The command is started by a copy of this test binary
// (measureChild, via TestMain), not from here: the kernel counts a child's
// peak RSS from the moment it was forked, and forked from this process —
// which holds the benchmark's inputs and reference results — every child
// would report this process's peak, not its own. Its stdout is discarded.
func measure(b *testing.B, bin string, args ...string) (time.Duration, int64) {
	b.Helper()
	self, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(self, append([]string{bin}, args...)...)
	cmd.Env = append(os.Environ(), measureEnv+"=1")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		b.Fatalf("%v: %v\n%s", args, err, stderr.String())
	}
	var ns, rss int64
	if _, err := fmt.Sscan(string(out), &ns, &rss); err != nil {
		b.Fatalf("measure: %q: %v", out, err)
	}
	return time.Duration(ns), rss
}

// processCPU is a process's user+system time from /proc/PID/stat.
func processCPU(b *testing.B, pid int) time.Duration {
	b.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// Fields after the command name (which may hold spaces) start at ')'.
	f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	const clkTck = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / clkTck
}

// processRSS is a process's resident set (KiB) from /proc/PID/status.
func processRSS(b *testing.B, pid int) int64 {
	b.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb
		}
	}
	return 0
}

// sumCounters sums, for each name, every series of that Prometheus counter
// on one scrape of a /metrics page (a name may carry labels, as written on
// the page: `x_total{to="down"}`).
func sumCounters(b *testing.B, url string, names ...string) []float64 {
	b.Helper()
	resp, err := http.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	sums := make([]float64, len(names))
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		for i, name := range names {
			if rest, ok := strings.CutPrefix(line, name); ok && (strings.HasPrefix(rest, "{") || strings.HasPrefix(rest, " ")) {
				f := strings.Fields(line)
				v, err := strconv.ParseFloat(f[len(f)-1], 64)
				if err != nil {
					b.Fatalf("%s: %q: %v", url, line, err)
				}
				sums[i] += v
			}
		}
	}
	if err := sc.Err(); err != nil {
		b.Fatal(err)
	}
	return sums
}
