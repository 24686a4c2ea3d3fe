package bmv2

import (
	"context"
	"math"
	"net/netip"
	"sync"
	"testing"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc"

	"github.com/p4qos/p4qos/controller"
	"github.com/p4qos/p4qos/controlplane"
	"github.com/p4qos/p4qos/tables"
	"github.com/p4qos/p4qos/tests/internal/bmv2env"
)

// TestClosedLoopWritesMeters runs the controller as `p4qos run` does with the
// example configuration's topology and policy (docs/examples/p4qos.yaml:
// topo/examples/fabric.yaml, fabric-policy.yaml) against a switch of the
// target standing in for leaf1; the fabric's other three switches are not
// started, so their reconciles fail and are retried, which the test
// ignores. Once leaf1 has converged, the test sends tenant b's bulk traffic
// (h2 → h4, TCP, class b-bulk, metered at tenant b's allocation) into leaf1's
// port 2 at about 4 Mbit/s and ticks the closed loop once a second: the loop
// must write meters on leaf1, the meter cells read back from leaf1 must
// have changed, and one of them must carry tenant b's allocation (b-bulk's
// meter) as its CIR. The CIR is compared within 1 %: Tofino stores a rate
// as a 9-bit mantissa (at most 1/256 low) after PI truncates it to kbit/s;
// BMv2 reads back exactly what was written.
func TestClosedLoopWritesMeters(t *testing.T) { forTargets(t, testClosedLoopWritesMeters) }

func testClosedLoopWritesMeters(t *testing.T, tg target) {
	schema, err := tables.Load(tg.p4info)
	if err != nil {
		t.Fatalf("load P4Info: %v", err)
	}
	dev, bm := tg.start(t, 4, schema)

	cfg := controller.Default()
	cfg.Topology = bmv2env.RepoPath("topo/examples/fabric.yaml")
	cfg.Policy = bmv2env.RepoPath("topo/examples/fabric-policy.yaml")
	cfg.P4Info = bmv2env.QosP4Info
	cfg.BMv2JSON = bmv2env.QosJSON
	cfg.MetricsAddr = "off"
	cfg.LoopInterval = 0
	id := tg.deviceID
	leaf1 := controller.SwitchEntry{Name: "leaf1", Address: dev.Addr(), DeviceID: &id}
	if bm != nil {
		leaf1.Target, leaf1.ThriftAddress = "bmv2", bm.ThriftAddr()
	} else {
		leaf1.Target, leaf1.DeviceConfigFormat = "tofino", "pi-bfrt"
	}
	cfg.Switches = []controller.SwitchEntry{leaf1}

	converged := make(chan struct{})
	var once sync.Once
	c, ctx := bmv2env.RunController(t, cfg, controller.WithDialer(dev.Dial), controller.WithManualLoop(),
		controller.WithEvents(func(e controller.Event) {
			if e.Kind == controller.SwitchConverged && e.Switch == "leaf1" {
				once.Do(func() { close(converged) })
			}
		}))
	// A pipeline push and the fabric policy's entities: seconds on BMv2,
	// minutes on the model.
	select {
	case <-converged:
	case <-time.After(5 * time.Minute):
		t.Fatalf("leaf1 did not converge within 5 minutes")
	}

	ro, err := controlplane.Dial(controlplane.SwitchConfig{Name: "leaf1", Address: dev.Addr(), DeviceID: tg.deviceID},
		controlplane.WithReadOnly(), controlplane.WithDialOptions(grpc.WithContextDialer(dev.Dial)))
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	static := c.Compiled().Intents["leaf1"]
	meters := func() map[string]string {
		t.Helper()
		out := map[string]string{}
		for _, me := range readMeters(t, ctx, ro, static) {
			out[schema.Describe(tables.EntityOf(me))] = me.GetConfig().String()
		}
		return out
	}
	before := meters()

	// 1 000-byte frames at 500 per second: 4 Mbit/s of class b-bulk.
	frame := pkt{src: netip.MustParseAddr("10.0.1.2"), dst: netip.MustParseAddr("10.0.2.4"), l4: tcpL4,
		sport: 40000, dport: 873, frameLen: 1000}.bytes()
	stop := make(chan struct{})
	sendErr := make(chan error, 1)
	go func() {
		start := time.Now()
		for i := 0; ; i++ {
			select {
			case <-stop:
				sendErr <- nil
				return
			case <-time.After(time.Until(start.Add(time.Duration(i) * 2 * time.Millisecond))):
			}
			if err := dev.Port(2).Send(frame); err != nil {
				sendErr <- err
				return
			}
		}
	}()
	written := 0
	var alloc map[string]float64
	for i := 0; i < 6; i++ {
		time.Sleep(time.Second)
		res, err := c.Tick(ctx, time.Now())
		// The other three switches are unreachable: their errors are
		// expected; leaf1's writes are what counts.
		if err != nil {
			t.Logf("tick %d: %v", i, err)
		}
		written += res.Written["leaf1"]
		// The allocation of the last tick that wrote to leaf1: later ticks
		// within the hysteresis (5 %) leave the meters as they are.
		if res.Written["leaf1"] > 0 {
			alloc = res.Allocation
		}
		t.Logf("tick %d: wrote %d entities on leaf1; demand %v", i, res.Written["leaf1"], res.Demand)
	}
	close(stop)
	if err := <-sendErr; err != nil {
		t.Fatalf("send: %v", err)
	}
	if written == 0 {
		t.Fatalf("the closed loop wrote nothing on leaf1 (%s) while b-bulk ran at 4 Mbit/s", tg.name)
	}
	after := meters()
	changed := 0
	for k, v := range after {
		if before[k] != v {
			changed++
			t.Logf("%s: %s → %s", k, before[k], v)
		}
	}
	if changed == 0 {
		t.Errorf("the loop reported %d writes, but no meter cell read back from leaf1 changed", written)
	}
	// Tenant b has one flow group, b-sync, so its allocation is b-bulk's
	// meter rate (bits/s; P4Runtime meters are in bytes/s).
	want := alloc["b-sync"] / 8
	found := false
	for _, e := range readMeters(t, ctx, ro, static) {
		if cir := float64(e.GetConfig().GetCir()); want > 0 && math.Abs(cir-want) <= want/100 {
			found = true
		}
	}
	t.Logf("tenant b allocation %.0f bit/s = %.0f B/s", alloc["b-sync"], want)
	if !found {
		t.Errorf("no meter cell on leaf1 has a CIR within 1 %% of tenant b's allocation, %.0f B/s", want)
	}
}

// readMeters reads the meter cells of the intent from the switch.
func readMeters(t *testing.T, ctx context.Context, s *controlplane.Session, in *controlplane.Intent) []*p4v1.MeterEntry {
	t.Helper()
	got, err := s.ReadState(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	var out []*p4v1.MeterEntry
	for _, e := range got {
		if me := e.GetMeterEntry(); me != nil && me.GetConfig() != nil {
			out = append(out, me)
		}
	}
	return out
}
