package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// flowStats is one flow of flowgap.py's receiver output.
type flowStats struct {
	Received int      `json:"received"`
	Missing  int      `json:"missing"`
	LastS    float64  `json:"last_s"`
	MaxGapMS float64  `json:"max_gap_ms"`
	GapAtS   *float64 `json:"gap_at_s"`
}

// linkFailureBound is the longest a flow may go undelivered after a link
// fails, documented in docs/controller.md ("Link failures") as 2 ×
// policy-poll + 1s: the lab has no data-plane failover, so a flow hashed
// onto the dead link is black-holed until `p4qos run` has seen the
// rewritten topology on two polls in a row (1 to 2 polls after the
// rewrite; policy-poll is 1s by default) and written the new routes. On
// the lab the recompile and the writes to all four switches took about
// 12ms and the measured black hole was 1.5s; the remaining second is margin
// for a loaded machine.
const linkFailureBound = 2*time.Second + time.Second

// TestLinkFailure is issue 6's test 5: on the demo fabric, 16 UDP flows
// h1 -> h3 (100 datagrams/s each) are hashed over leaf1's two uplinks; the
// spine link leaf1:3-spine1:1 fails (`p4qos lab link down`: both ends drop
// everything), the controller reloads its topology copy and routes
// everything over spine2;
// then the link comes back (`lab link up`) and leaf1 spreads the flows over
// both spines again. No flow may go undelivered for longer than
// linkFailureBound, some flow must have been cut (else the failure hit
// nothing and the test proved nothing), every flow must be delivered again
// by the end, and after the restore both uplinks must carry traffic (the
// route to h3 is a two-member ECMP group again).
//
// The policy is the demo's, whose queue settings name leaf1:3: the failed
// link is marked down in the controller's topology, not removed, so its
// ports stay cabled and the policy still compiles.
func TestLinkFailure(t *testing.T) {
	root := repoRoot(t)
	// Probes off: this test measures the reaction to the topology file.
	l := startLab(t, filepath.Join(root, "topo/examples/fabric.yaml"), filepath.Join(root, "topo/examples/fabric-policy.yaml"), "--loop-interval=0s", "--probe-interval=0s")
	linkFailure(t, l, func(ctx context.Context) ([]byte, error) { return l.cli(ctx, "link", "down", "leaf1:3") },
		func(ctx context.Context) ([]byte, error) { return l.cli(ctx, "link", "up", "leaf1:3") }, linkFailureBound)
}

// TestLinkFailureProbed is TestLinkFailure with the link cut at the Linux
// level and nothing else: both ends' veths get a zero-length FIFO as the
// leaf queue of their shaping, so every frame either switch sends into the
// link vanishes before any packet tap, as on a cut cable (what `p4qos lab
// link down` does to the data plane, topo/mininet/link.go); the topology
// file is not touched, and the controller's link liveness (probes every
// 100 ms, 3 misses) must find the failure and move the flows. The veths are
// not set down: BMv2 stops sending on every port while one is
// administratively down. The per-flow outage is reported; the bound
// asserted is TestLinkFailure's (issue 17's goal is 3 probe intervals plus
// the reprogramming).
func TestLinkFailureProbed(t *testing.T) {
	root := repoRoot(t)
	l := startLab(t, filepath.Join(root, "topo/examples/fabric.yaml"), filepath.Join(root, "topo/examples/fabric-policy.yaml"), "--loop-interval=0s")
	tc := func(ctx context.Context, args ...string) (string, error) {
		out, err := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", "p4qos-" + l.name, "tc"}, args...)...).CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("tc %s: %v: %s", strings.Join(args, " "), err, out)
		}
		return string(out), nil
	}
	// saved holds, per veth, the leaf qdisc the blackhole replaced.
	saved := map[string][]string{}
	parent := func(ctx context.Context, dev string) (string, error) {
		classes, err := tc(ctx, "class", "show", "dev", dev)
		if f := strings.Fields(classes); err == nil && len(f) >= 3 && f[0] == "class" {
			return f[2], nil // "class htb 5:1 root ..."
		}
		return "", fmt.Errorf("%s: no shaping class (%v)", dev, err)
	}
	ends := []string{"leaf1-eth3", "spine1-eth1"}
	cut := func(ctx context.Context) ([]byte, error) {
		for _, dev := range ends {
			p, err := parent(ctx, dev)
			if err != nil {
				return nil, err
			}
			qdiscs, err := tc(ctx, "qdisc", "show", "dev", dev)
			if err != nil {
				return nil, err
			}
			for _, line := range strings.Split(qdiscs, "\n") {
				// "qdisc netem 10: parent 5:1 limit 1000 delay 1ms"
				if f := strings.Fields(line); len(f) >= 5 && f[3] == "parent" && f[4] == p {
					saved[dev] = append([]string{"qdisc", "replace", "dev", dev, "parent", p, "handle", f[2], f[1]}, f[5:]...)
				}
			}
			if _, err := tc(ctx, "qdisc", "replace", "dev", dev, "parent", p, "handle", "77:", "pfifo", "limit", "0"); err != nil {
				return nil, err
			}
		}
		return nil, nil
	}
	restore := func(ctx context.Context) ([]byte, error) {
		for _, dev := range ends {
			p, err := parent(ctx, dev)
			if err != nil {
				return nil, err
			}
			args := saved[dev]
			if args == nil {
				args = []string{"qdisc", "del", "dev", dev, "parent", p, "handle", "77:"}
			}
			if _, err := tc(ctx, args...); err != nil {
				return nil, err
			}
		}
		return nil, nil
	}
	linkFailure(t, l, cut, restore, linkFailureBound)
}

// linkFailure runs 16 UDP flows h1 -> h3, takes leaf1:3 down with down
// after 3 s, up again 6 s later, and checks and logs every flow's outage.
func linkFailure(t *testing.T, l *lab, down, up func(ctx context.Context) ([]byte, error), bound time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	const (
		flows   = 16
		pps     = 100
		seconds = 18.0
	)
	script := testdata(t, "flowgap.py")
	recv := l.background("h3", "/usr/bin/python3", script, "recv", "9000", "21")
	time.Sleep(time.Second)
	l.background("h1", "/usr/bin/python3", script, "send", "10.0.2.3", "9000", strconv.Itoa(flows), strconv.Itoa(pps), "18")
	// Both uplinks carry traffic before the failure.
	time.Sleep(2 * time.Second)
	up3, up4 := l.txBytes(ctx, "leaf1-eth3"), l.txBytes(ctx, "leaf1-eth4")
	time.Sleep(time.Second)
	t.Logf("before the failure, 1s: leaf1-eth3 %d bytes, leaf1-eth4 %d bytes", l.txBytes(ctx, "leaf1-eth3")-up3, l.txBytes(ctx, "leaf1-eth4")-up4)

	downAt := time.Now()
	if out, err := down(ctx); err != nil {
		t.Fatalf("link down: %v\n%s", err, out)
	}
	t.Logf("link down took %s", time.Since(downAt).Round(time.Millisecond))
	time.Sleep(6 * time.Second)

	upAt := time.Now()
	if out, err := up(ctx); err != nil {
		t.Fatalf("link up: %v\n%s", err, out)
	}
	// Give the controller the bound to put the group back, then look at
	// what each uplink sends.
	time.Sleep(bound)
	up3, up4 = l.txBytes(ctx, "leaf1-eth3"), l.txBytes(ctx, "leaf1-eth4")
	time.Sleep(2 * time.Second)
	d3, d4 := l.txBytes(ctx, "leaf1-eth3")-up3, l.txBytes(ctx, "leaf1-eth4")-up4
	t.Logf("after the restore, 2s: leaf1-eth3 %d bytes, leaf1-eth4 %d bytes", d3, d4)
	// 16 flows × 100/s × ~150 bytes on the wire × 2s ≈ 480kB in all; a
	// link carrying a few flows sends tens of kB. 5kB excludes ARP/LLDP-ish
	// noise (there is none in the lab, but the bound costs nothing).
	if d3 < 5000 || d4 < 5000 {
		t.Errorf("after link up only one uplink carries traffic (eth3 %d, eth4 %d bytes): leaf1's ECMP group to h3 did not get its second member back", d3, d4)
	}

	if err := recv.wait(30 * time.Second); err != nil {
		t.Fatalf("flowgap receiver: %v\n%s", err, recv.out.String())
	}
	var stats map[string]flowStats
	if err := json.Unmarshal([]byte(strings.TrimSpace(recv.out.String())), &stats); err != nil {
		t.Fatalf("receiver output: %v\n%s", err, recv.out.String())
	}
	logReloads(t, l, downAt, upAt)
	if len(stats) != flows {
		t.Fatalf("%d of %d flows reached h3 at all: %s", len(stats), flows, recv.out.String())
	}
	names := make([]string, 0, len(stats))
	for k := range stats {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool { return stats[names[i]].MaxGapMS > stats[names[j]].MaxGapMS })
	cut := 0
	var worst float64
	for _, k := range names {
		f := stats[k]
		at := -1.0
		if f.GapAtS != nil {
			at = *f.GapAtS
		}
		t.Logf("flow %2s: received %4d, missing %4d, longest gap %7.1f ms (from t=%.2fs)", k, f.Received, f.Missing, f.MaxGapMS, at)
		// A flow sends every 10ms; a gap of 100ms is ten datagrams in a
		// row lost, which scheduling noise does not do.
		if f.MaxGapMS > 100 {
			cut++
		}
		worst = max(worst, f.MaxGapMS)
		if f.LastS < seconds-2 {
			t.Errorf("flow %s: last datagram at t=%.1fs, the sender ran %.0fs: it was not delivered again", k, f.LastS, seconds)
		}
	}
	t.Logf("%d of %d flows were cut; the longest gap was %.0f ms (bound %s)", cut, flows, worst, bound)
	if cut == 0 {
		t.Errorf("no flow lost traffic when leaf1:3 went down: none was hashed onto spine1, the failure tested nothing")
	}
	if time.Duration(worst*float64(time.Millisecond)) > bound {
		t.Errorf("a flow was black-holed for %.0f ms, longer than the documented bound %s", worst, bound)
	}
}

// logReloads logs when the controller applied each topology change,
// relative to the lab link command: the measured reaction time.
func logReloads(t *testing.T, l *lab, downAt, upAt time.Time) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(l.stateRoot, "lab-"+l.name, "controller.log"))
	if err != nil {
		t.Logf("controller log: %v", err)
		return
	}
	for _, line := range strings.Split(string(b), "\n") {
		if !(strings.Contains(line, "topology") || strings.Contains(line, "link liveness")) || !strings.HasPrefix(line, "time=") {
			continue
		}
		ts, err := time.Parse(time.RFC3339Nano, strings.Fields(line)[0][len("time="):])
		if err != nil {
			continue
		}
		ref, what := downAt, "link down"
		if ts.After(upAt) {
			ref, what = upAt, "link up"
		}
		t.Logf("controller, %s after %s: %s", ts.Sub(ref).Round(time.Millisecond), what, line)
	}
}
