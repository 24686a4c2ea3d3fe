package e2e

import (
	"context"
	"encoding/json"
	"os"
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
// spine link leaf1:3-spine1:1 fails with `p4qos lab link down
// --edit-topology` (both ends drop everything, and the link is marked down
// in the controller's topology copy), the controller reloads its topology
// copy and routes everything over spine2; then the link comes back (`lab
// link up`) and leaf1 spreads the flows over both spines again. Probes are
// off, so this measures the reaction to the topology file alone. No flow
// may go undelivered for longer than linkFailureBound, some flow must have
// been cut (else the failure hit nothing and the test proved nothing),
// every flow must be delivered again by the end, and after the restore
// both uplinks must carry traffic (the route to h3 is a two-member ECMP
// group again).
//
// The policy is the demo's, whose queue settings name leaf1:3: the failed
// link is marked down in the controller's topology, not removed, so its
// ports stay cabled and the policy still compiles.
func TestLinkFailure(t *testing.T) {
	root := repoRoot(t)
	l := startLab(t, filepath.Join(root, "topo/examples/fabric.yaml"), filepath.Join(root, "topo/examples/fabric-policy.yaml"), "--loop-interval=0s", "--probe-interval=0s")
	linkFailure(t, l, "--edit-topology", linkFailureBound)
}

// TestLinkFailureProbed is TestLinkFailure with the link cut in the data
// plane and nothing else: `p4qos lab link down` without --edit-topology
// gives both ends' veths a zero-length FIFO as the leaf queue of their
// shaping, so every frame either switch sends into the link vanishes, as on
// a cut cable (topo/mininet/link.go); the topology file is not touched, and
// the controller's link liveness (probes every 100 ms, 3 misses; the
// defaults) must find the failure and move the flows. The per-flow outage
// is reported; the bound asserted is TestLinkFailure's (issue 17's goal is
// 3 probe intervals plus the reprogramming).
func TestLinkFailureProbed(t *testing.T) {
	root := repoRoot(t)
	l := startLab(t, filepath.Join(root, "topo/examples/fabric.yaml"), filepath.Join(root, "topo/examples/fabric-policy.yaml"), "--loop-interval=0s")
	linkFailure(t, l, "", linkFailureBound)
	// The intent is untouched: the controller's copy marks no link down.
	b, err := os.ReadFile(filepath.Join(l.stateRoot, "lab-"+l.name, "topology.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "down: true") || strings.Contains(string(b), "Links down") {
		t.Errorf("lab link down without --edit-topology changed the controller's topology copy:\n%s", b)
	}
}

// linkFailure runs 16 UDP flows h1 -> h3, takes leaf1:3 down with `p4qos
// lab link down` (plus mode, "--edit-topology" or none) after 3 s, up again
// 6 s later, and checks and logs every flow's outage.
func linkFailure(t *testing.T, l *lab, mode string, bound time.Duration) {
	down := func(ctx context.Context) ([]byte, error) {
		if mode == "" {
			return l.cli(ctx, "link", "down", "leaf1:3")
		}
		return l.cli(ctx, "link", "down", mode, "leaf1:3")
	}
	up := func(ctx context.Context) ([]byte, error) { return l.cli(ctx, "link", "up", "leaf1:3") }
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
	// names is sorted by gap, so the first flow has the longest.
	worst := stats[names[0]].MaxGapMS
	cut := 0
	var outages []float64 // longest gap of each cut flow, descending
	for _, k := range names {
		f := stats[k]
		at := -1.0
		if f.GapAtS != nil {
			at = *f.GapAtS
		}
		t.Logf("flow %2s: received %4d, missing %4d, longest gap %7.1f ms (from t=%.2fs)", k, f.Received, f.Missing, f.MaxGapMS, at)
		// A flow sends every 10ms; a gap of 100ms with datagrams missing
		// is ten in a row lost. On a loaded machine all flows also show
		// a shorter gap at one instant (the sender stalled, and its
		// catch-up burst may overflow a queue): a flow counts as cut by
		// the link only with a gap of at least half the longest.
		if f.MaxGapMS > 100 && f.Missing > 0 && f.MaxGapMS >= worst/2 {
			cut++
			outages = append(outages, f.MaxGapMS)
		}
		if f.LastS < seconds-2 {
			t.Errorf("flow %s: last datagram at t=%.1fs, the sender ran %.0fs: it was not delivered again", k, f.LastS, seconds)
		}
	}
	t.Logf("%d of %d flows were cut; the longest gap was %.0f ms (bound %s)", cut, flows, worst, bound)
	if cut > 0 {
		t.Logf("outage of the cut flows: median %.0f ms, max %.0f ms", outages[cut/2], outages[0])
	}
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
