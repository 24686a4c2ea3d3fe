package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestEFProtected is issue 6's test 1 on topo/examples/single.yaml with
// testdata/ef-policy.yaml: h1 floods h3 with best-effort UDP (20Mbps into a
// port served at 6Mbps per queue, so BMv2's best-effort queue stays full)
// while h2 sends UDP probes to h3, once marked DF (the baseline: they wait
// behind the flood) and once marked EF (DSCP 46, queue 7, served first).
// EF's p99 round trip must be far below the baseline's.
func TestEFProtected(t *testing.T) {
	l := startLab(t, filepath.Join(repoRoot(t), "topo/examples/single.yaml"), testdata(t, "ef-policy.yaml"))
	probe := testdata(t, "udpprobe.py")
	l.background("h3", "/usr/bin/python3", probe, "server", "7000")
	l.background("h3", "iperf3", "-s", "-p", "5201")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	// The path works before anything is measured.
	waitProbe := func() {
		for i := 0; i < 20; i++ {
			out, err := l.exec(ctx, "h2", "/usr/bin/python3", probe, "client", "10.0.0.3", "7000", "46", "5", "0.05")
			if err == nil && parseProbe(t, out).Received == 5 {
				return
			}
			time.Sleep(500 * time.Millisecond)
		}
		t.Fatal("no probe came back from h3 without load: h2 -> s1 -> h3 does not forward")
	}
	waitProbe()

	measure := func(dscp int) probeResult {
		flood := l.background("h1", "iperf3", "-c", "10.0.0.3", "-p", "5201", "-u", "-b", "20M", "-l", "1400", "-t", "12")
		time.Sleep(3 * time.Second) // let the queue fill
		// 150 probes 40ms apart: 6s, inside the flood.
		out, err := l.exec(ctx, "h2", "/usr/bin/python3", probe, "client", "10.0.0.3", "7000", fmt.Sprint(dscp), "150", "0.04")
		if err != nil {
			t.Fatal(err)
		}
		if err := flood.wait(30 * time.Second); err != nil {
			t.Fatalf("iperf3 flood: %v\n%s", err, flood.out.String())
		}
		return parseProbe(t, out)
	}
	base := measure(0)
	ef := measure(46)
	t.Logf("best-effort probes under load: p50 %.2fms p99 %.2fms (%d/%d back)", deref(base.P50), deref(base.P99), base.Received, base.Sent)
	t.Logf("EF probes under load:          p50 %.2fms p99 %.2fms (%d/%d back)", deref(ef.P50), deref(ef.P99), ef.Received, ef.Sent)
	if ef.P99 == nil {
		t.Fatal("no EF probe came back under load")
	}
	if ef.Received < ef.Sent*95/100 {
		t.Errorf("EF lost %d of %d probes", ef.Sent-ef.Received, ef.Sent)
	}
	// A 64-packet queue served at 500 packets/s holds 128ms. Most
	// best-effort probes are tail-dropped behind the flood (27 of 150 came
	// back in one run, none in another): a baseline with no reply at all
	// means the queue was full throughout, and EF is then compared with
	// the queue's own 128ms rather than with a measured p99.
	baseP99 := 128.0
	if base.P99 != nil {
		baseP99 = *base.P99
		// If the baseline does not see a good part of the queue, the flood
		// did not build one in BMv2 and the comparison proves nothing.
		if baseP99 < 30 {
			t.Fatalf("baseline p99 %.2fms: the best-effort queue did not build up; the test setup is broken", baseP99)
		}
	} else {
		t.Logf("no best-effort probe came back: the queue dropped all %d; comparing EF with the queue's 128ms", base.Sent)
	}
	if *ef.P99 > baseP99/5 {
		t.Errorf("EF p99 %.2fms is not far below the best-effort baseline's %.2fms (want < 1/5)", *ef.P99, baseP99)
	}
}

func deref(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}

// predicted runs `p4qos allocate -o json` on a problem file and returns
// each flow group's rate.
func predicted(t *testing.T, bin, problem string) map[string]float64 {
	t.Helper()
	out, err := exec.Command(bin, "allocate", "-f", problem, "-o", "json").Output()
	if err != nil {
		t.Fatalf("p4qos allocate: %v", err)
	}
	var res struct {
		FlowGroups []struct {
			Name string  `json:"name"`
			Rate float64 `json:"rate"`
		} `json:"flow_groups"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	m := map[string]float64{}
	for _, fg := range res.FlowGroups {
		m[fg.Name] = fg.Rate
	}
	return m
}

// tenantFlow is one tenant's UDP stream in the dumbbell tests.
type tenantFlow struct {
	fg, src, dst, dstIP, offered string
}

var tenantFlows = []tenantFlow{
	{"a-fg", "h1", "h3", "10.0.2.3", "12M"},
	{"b-fg", "h2", "h4", "10.0.2.4", "6M"},
	{"c-fg", "h5", "h6", "10.0.2.6", "4M"},
}

// TestAllocationEnforced is issue 6's test 2: on testdata/dumbbell.yaml
// three tenants (weights 3:1:1, c capped at 1Mbps) send more UDP than the
// 10Mbps link takes; s1's meters, set from the allocation, drop the excess.
// What each tenant's receiver measures must be within ±10% of what
// `p4qos allocate` predicts for testdata/tenants-problem.yaml (by hand:
// 6.75, 2.25 and 1Mbps). The closed loop is off: this checks the static
// allocation.
func TestAllocationEnforced(t *testing.T) {
	l := startLab(t, testdata(t, "dumbbell.yaml"), testdata(t, "tenants-policy.yaml"), "--loop-interval=0s")
	want := predicted(t, l.bin, testdata(t, "tenants-problem.yaml"))
	for _, f := range tenantFlows {
		l.background(f.dst, "iperf3", "-s", "-p", "5201")
	}
	time.Sleep(time.Second)
	var clients []*bgCmd
	for _, f := range tenantFlows {
		clients = append(clients, l.background(f.src, "iperf3", "-c", f.dstIP, "-p", "5201", "-u", "-b", f.offered, "-l", "1400", "-t", "12", "-J", "--get-server-output"))
	}
	for i, c := range clients {
		f := tenantFlows[i]
		if err := c.wait(60 * time.Second); err != nil {
			t.Fatalf("%s: iperf3: %v\n%s", f.fg, err, c.out.String())
		}
		got := serverReceived(t, c.out.Bytes())
		w := want[f.fg]
		t.Logf("%s: measured %.2fMbps, p4qos allocate predicts %.2fMbps (%+.1f%%), offered %sbps", f.fg, got/1e6, w/1e6, 100*(got-w)/w, f.offered)
		if math.Abs(got-w) > 0.10*w {
			t.Errorf("%s: measured %.2fMbps is not within ±10%% of the predicted %.2fMbps", f.fg, got/1e6, w/1e6)
		}
	}
}

// serverReceived returns the receive rate the iperf3 server reported in
// the client's --get-server-output JSON, falling back to the client's view.
func serverReceived(t *testing.T, doc []byte) float64 {
	t.Helper()
	var r struct {
		ServerOutput json.RawMessage `json:"server_output_json"`
	}
	if err := json.Unmarshal(doc, &r); err == nil && len(r.ServerOutput) > 0 {
		return iperf3Received(t, r.ServerOutput)
	}
	return iperf3Received(t, doc)
}

// TestClosedLoop is issue 6's test 4: with the controller's loop running
// (1s interval), tenant b cuts its traffic from 6 to 0.3Mbps; the
// controller's allocation for b must shrink and a's grow. Demand estimates
// start at the estimator's floor and grow by its 1.1 headroom per interval
// while a meter limits the traffic (docs/controller.md), so the test first
// waits until a and b are stable. The estimator keeps a 10s peak window, so
// the drop becomes visible after that window plus up to two loop
// intervals; the test reports how long it took and allows 10s + 2 × 1s +
// 3s of slack.
func TestClosedLoop(t *testing.T) {
	l := startLab(t, testdata(t, "dumbbell.yaml"), testdata(t, "tenants-policy.yaml"), "--loop-interval=1s")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	for _, f := range tenantFlows {
		l.background(f.dst, "iperf3", "-s", "-p", "5201")
	}
	time.Sleep(time.Second)
	send := func(f tenantFlow, rate string, secs int) *bgCmd {
		return l.background(f.src, "iperf3", "-c", f.dstIP, "-p", "5201", "-u", "-b", rate, "-l", "1400", "-t", fmt.Sprint(secs))
	}
	alloc := func() (a, b float64) {
		m, err := l.metrics(ctx)
		if err != nil {
			t.Fatalf("metrics: %v", err)
		}
		a, _ = sample(m, "p4qos_allocation_bits_per_second", `flow_group="a-fg"`)
		b, _ = sample(m, "p4qos_allocation_bits_per_second", `flow_group="b-fg"`)
		return a, b
	}
	// Everyone sends more than the link takes until the loop settles.
	bLoad := send(tenantFlows[1], "6M", 150)
	send(tenantFlows[0], "12M", 150)
	send(tenantFlows[2], "4M", 150)
	var a0, b0 float64
	settled := false
	for start := time.Now(); time.Since(start) < 60*time.Second; {
		time.Sleep(2 * time.Second)
		a, b := alloc()
		if a > 0 && b > 0 && math.Abs(a-a0) < 0.02*a && math.Abs(b-b0) < 0.02*b {
			settled = true
			t.Logf("settled after %s", time.Since(start).Round(time.Second))
			break
		}
		a0, b0 = a, b
	}
	t.Logf("with every tenant sending: allocation a %.2fMbps, b %.2fMbps (static allocation: 6.75, 2.25)", a0/1e6, b0/1e6)
	if !settled {
		t.Fatalf("the allocation did not settle within 60s: a %.2fMbps, b %.2fMbps", a0/1e6, b0/1e6)
	}
	_ = syscall.Kill(-bLoad.cmd.Process.Pid, syscall.SIGKILL)
	send(tenantFlows[1], "300K", 90)
	dropped := time.Now()
	bound := 15 * time.Second
	var a1, b1 float64
	for time.Since(dropped) < bound+10*time.Second {
		time.Sleep(500 * time.Millisecond)
		a1, b1 = alloc()
		if b1 < 0.5*b0 && a1 > 1.05*a0 {
			break
		}
	}
	took := time.Since(dropped)
	t.Logf("after b dropped to 0.3Mbps: allocation a %.2fMbps, b %.2fMbps, %s after the drop", a1/1e6, b1/1e6, took.Round(100*time.Millisecond))
	if !(b1 < 0.5*b0 && a1 > 1.05*a0) {
		t.Fatalf("the allocation did not follow b's drop: a %.2f -> %.2fMbps, b %.2f -> %.2fMbps", a0/1e6, a1/1e6, b0/1e6, b1/1e6)
	}
	if took > bound {
		t.Errorf("the loop took %s to follow b's drop; bound %s (10s window + 2 intervals + slack)", took.Round(100*time.Millisecond), bound)
	}
}
