package e2e

import (
	"context"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// txBytes reads the transmitted bytes of a switch-side interface of the lab
// (the switches' veths live in the lab namespace).
func (l *lab) txBytes(ctx context.Context, intf string) int64 {
	l.t.Helper()
	out, err := exec.CommandContext(ctx, "ip", "netns", "exec", "p4qos-"+l.name, "cat", "/sys/class/net/"+intf+"/statistics/tx_bytes").Output()
	if err != nil {
		l.t.Fatalf("tx_bytes of %s: %v", intf, err)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
	if err != nil {
		l.t.Fatal(err)
	}
	return n
}

// TestECMPUsesBothSpines is the ECMP half of issue 6's test 3: on the demo
// fabric (routing: ecmp), 64 parallel TCP flows from h1 (leaf1) to h3
// (leaf2) are hashed over leaf1's two uplinks (ports 3 and 4, to spine1 and
// spine2); both must carry traffic. The selector hashes the 5-tuple with
// CRC32 and iperf3's flows have consecutive source ports, so which uplink a
// flow takes is not a fair coin flip: with ephemeral ports, runs gave 53/47,
// 14/86 and once 5/95. The source ports are now fixed (--cport 40000), which
// makes the split the same every run (50/50 here); the test still asks only
// that each uplink carries at least 10% of the bytes (all on one spine would
// be 0%), and logs the split.
func TestECMPUsesBothSpines(t *testing.T) {
	root := repoRoot(t)
	l := startLab(t, filepath.Join(root, "topo/examples/fabric.yaml"), filepath.Join(root, "topo/examples/fabric-policy.yaml"), "--loop-interval=0s")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	l.background("h3", "iperf3", "-s", "-p", "5201")
	time.Sleep(time.Second)
	up3, up4 := l.txBytes(ctx, "leaf1-eth3"), l.txBytes(ctx, "leaf1-eth4")
	// 64 × 150Kbps = 9.6Mbps: well below the 2 × 40Mbps uplinks and what
	// BMv2 forwards, so no flow is squeezed and shares mean flow counts.
	// --cport fixes the source ports (40000, 40001, …): with ephemeral
	// ones the split moved from run to run (5/95 was seen once), so the
	// test was flaky; with fixed ones the hash, and so the split, is the
	// same every run.
	out, err := l.exec(ctx, "h1", "iperf3", "-c", "10.0.2.3", "-p", "5201", "--cport", "40000", "-P", "64", "-b", "150K", "-t", "10")
	if err != nil {
		t.Fatalf("iperf3: %v\n%s", err, out)
	}
	d3, d4 := l.txBytes(ctx, "leaf1-eth3")-up3, l.txBytes(ctx, "leaf1-eth4")-up4
	total := float64(d3 + d4)
	t.Logf("leaf1 uplinks: to spine1 %d bytes (%.0f%%), to spine2 %d bytes (%.0f%%)", d3, 100*float64(d3)/total, d4, 100*float64(d4)/total)
	if total < 5e6 {
		t.Fatalf("only %.0f bytes crossed the uplinks: the flows did not run", total)
	}
	for _, share := range []float64{float64(d3) / total, float64(d4) / total} {
		if share < 0.10 {
			t.Errorf("an uplink carried only %.0f%% of the bytes: ECMP does not use both spines", 100*share)
		}
	}
}

// TestWCMPFollowsAllocation is the WCMP half of issue 6's test 3, on
// testdata/wcmp.yaml: leaf1's uplinks are 40Mbps (to spine1) and 20Mbps
// (to spine2), and testdata/wcmp-policy.yaml routes with mode wcmp. The
// allocator fills the two equal-cost paths of h1 -> h3 in order (40 + 20
// Mbps), so leaf1's group for h3 gets weights in the ratio 40:20 (`p4qos
// compile` prints members[3*2 4*1]); spine1's predicted share is 2/3. With
// 128 flows hashed independently, spine1's share is about
// Binomial(128, 2/3)/128: standard deviation sqrt(2/3 × 1/3 / 128) = 0.0417;
// the test accepts ±3σ, [0.542, 0.792], which excludes plain ECMP's 0.5.
// The hash is CRC32 over consecutive source ports, not independent coin
// flips (see TestECMPUsesBothSpines), so the bound is approximate; runs
// gave 63.4% and 62.4%; the share is logged.
func TestWCMPFollowsAllocation(t *testing.T) {
	l := startLab(t, testdata(t, "wcmp.yaml"), testdata(t, "wcmp-policy.yaml"), "--loop-interval=0s")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	l.background("h3", "iperf3", "-s", "-p", "5201")
	time.Sleep(time.Second)
	up3, up4 := l.txBytes(ctx, "leaf1-eth3"), l.txBytes(ctx, "leaf1-eth4")
	// 128 × 80Kbps = 10.2Mbps: no uplink is full, so byte shares are
	// flow shares.
	out, err := l.exec(ctx, "h1", "iperf3", "-c", "10.0.2.3", "-p", "5201", "-P", "128", "-b", "80K", "-t", "10")
	if err != nil {
		t.Fatalf("iperf3: %v\n%s", err, out)
	}
	d3, d4 := l.txBytes(ctx, "leaf1-eth3")-up3, l.txBytes(ctx, "leaf1-eth4")-up4
	total := float64(d3 + d4)
	share := float64(d3) / total
	t.Logf("leaf1 uplinks: to spine1 %d bytes (%.1f%%), to spine2 %d bytes (%.1f%%); WCMP weights 2:1 predict 66.7%% / 33.3%%", d3, 100*share, d4, 100*(1-share))
	if total < 5e6 {
		t.Fatalf("only %.0f bytes crossed the uplinks: the flows did not run", total)
	}
	if share < 0.542 || share > 0.792 {
		t.Errorf("spine1 carried %.1f%% of the bytes; WCMP 2:1 over 128 flows should give 54.2-79.2%%", 100*share)
	}
}
