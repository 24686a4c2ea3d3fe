package controller

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"math"
	"net/http"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/grpc"

	"github.com/p4qos/p4qos/compiler/contract"
	"github.com/p4qos/p4qos/controller/statusapi"
	"github.com/p4qos/p4qos/tables"
	"github.com/p4qos/p4qos/target/sim"
)

func TestStatusObserve(t *testing.T) {
	at := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		events []Event
		want   switchStatus
		rev    uint64
	}{
		{"nothing yet", nil, switchStatus{}, 1},
		{"converged", []Event{{Kind: SwitchConverged, Switch: "s", Time: at}},
			switchStatus{last: at, reconciles: 1, converged: true, once: true}, 1},
		{"failed after converging", []Event{{Kind: SwitchConverged, Switch: "s", Time: at}, {Kind: SwitchFailed, Switch: "s", Time: at, Err: errors.New("gone")}},
			switchStatus{last: at, reconciles: 2, failures: 1, once: true, lastErr: "gone"}, 1},
		{"drift repaired", []Event{{Kind: DriftRepaired, Switch: "s", Count: 3}, {Kind: DriftRepaired, Switch: "s", Count: 2}, {Kind: SwitchConverged, Switch: "s", Time: at}},
			switchStatus{last: at, reconciles: 1, drift: 5, converged: true, once: true}, 1},
		{"reloads", []Event{{Kind: ReloadAccepted}, {Kind: ReloadRejected, Err: errors.New("bad")}, {Kind: ReloadAccepted}}, switchStatus{}, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newStatus()
			for _, e := range tc.events {
				s.observe(e)
			}
			got := switchStatus{}
			if st := s.switches["s"]; st != nil {
				got = *st
			}
			if got != tc.want || s.revision != tc.rev {
				t.Errorf("got %+v rev %d, want %+v rev %d", got, s.revision, tc.want, tc.rev)
			}
		})
	}
}

func getJSON(t *testing.T, url string, wantCode int, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != wantCode {
		t.Fatalf("%s: HTTP %d, want %d", url, resp.StatusCode, wantCode)
	}
	if v != nil {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatal(err)
		}
	}
}

// TestStatusAPIOnSims runs the controller on sims with its listener on an
// ephemeral port and observes it through the API only.
func TestStatusAPIOnSims(t *testing.T) {
	ctx := testCtx(t)
	_, entries := fabricSims(t)
	cfg, _ := testConfig(t, entries)
	cfg.MetricsAddr = "127.0.0.1:0"
	addrs := make(chan string, 1)
	c, _, _, _ := running(t, ctx, cfg, WithManualLoop(), WithServing(func(a string) { addrs <- a }))
	base := "http://" + <-addrs

	var st statusapi.Status
	getJSON(t, base+"/readyz", http.StatusOK, nil)
	getJSON(t, base+"/api/v1/status", http.StatusOK, &st)
	if !st.Ready || st.IntentRevision != 1 || len(st.Switches) != len(fabricSwitches) {
		t.Fatalf("status: ready %v revision %d, %d switches", st.Ready, st.IntentRevision, len(st.Switches))
	}
	for _, sw := range st.Switches {
		if sw.Stream != statusapi.StreamPrimary || !sw.ConvergedOnce || sw.LastReconcile == nil || sw.PipelineCookie == "" || sw.ReconcileErrors != 0 {
			t.Errorf("switch %+v: want primary, converged, with a reconcile time and a cookie", sw)
		}
	}
	if len(st.Allocation.FlowGroups) == 0 || len(st.Allocation.Links) == 0 {
		t.Fatalf("allocation: %+v", st.Allocation)
	}
	for _, fg := range st.Allocation.FlowGroups {
		if fg.Tenant == "" || fg.Enforced <= 0 {
			t.Errorf("flow group %+v: want a tenant and the installed meter rate", fg)
		}
	}

	// The event stream: the latest events (every switch converged), the
	// snapshot, then a round of the closed loop.
	resp, err := http.Get(base + "/api/v1/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	replayed := map[string]bool{}
	for {
		var ev statusapi.Event
		name := nextEvent(t, r, &ev)
		if name == "status" {
			break
		}
		if ev.Kind == string(SwitchConverged) {
			replayed[ev.Switch] = true
		}
	}
	if len(replayed) != len(fabricSwitches) {
		t.Errorf("replayed convergence of %v, want every switch", replayed)
	}
	for i := range 2 {
		if _, err := c.Tick(ctx, time.Unix(int64(i), 0)); err != nil {
			t.Fatal(err)
		}
	}
	var ev statusapi.Event
	for ev.Kind != "loop-round" || ev.Count != 2 {
		if nextEvent(t, r, &ev) != "controller" {
			ev = statusapi.Event{}
		}
	}
	var alloc struct{ Allocation statusapi.Allocation }
	getJSON(t, base+"/api/v1/allocation", http.StatusOK, &alloc)
	if alloc.Allocation.Rounds != 2 || alloc.Allocation.Time == nil || !alloc.Allocation.Time.Equal(time.Unix(1, 0)) {
		t.Errorf("allocation after 2 rounds: %+v", alloc.Allocation)
	}

	// A reload is a new intent revision.
	if err := c.ApplyPolicy(ctx, withExtraClass(t, c.policy)); err != nil {
		t.Fatal(err)
	}
	getJSON(t, base+"/api/v1/status", http.StatusOK, &st)
	if st.IntentRevision != 2 {
		t.Errorf("intent revision after a reload: %d, want 2", st.IntentRevision)
	}

	resp2, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp2.Body)
	resp2.Body.Close()
	for _, want := range []string{"p4qos_build_info{", "go_goroutines", "p4qos_link_transmit_bytes_total{", "p4qos_link_capacity_bytes_per_second{", "p4qos_enforced_bits_per_second{"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	getJSON(t, base+"/api/v1/nope", http.StatusNotFound, nil)
}

// nextEvent reads one SSE message, decoding a controller event's data
// into v when v is not nil.
func nextEvent(t *testing.T, r *bufio.Reader, v any) string {
	t.Helper()
	name, data, err := statusapi.ReadEvent(r)
	if err != nil {
		t.Fatalf("event stream: %v", err)
	}
	if v != nil && name == "controller" {
		if err := json.Unmarshal([]byte(data), v); err != nil {
			t.Fatal(err)
		}
	}
	return name
}

// counterReads counts, per switch, the Read RPCs that ask for a counter
// (by P4Info id), as a sim's gRPC server sees them.
type counterReads struct {
	id uint32
	mu sync.Mutex
	n  map[uint64]int // by device id
}

func (cr *counterReads) option() sim.Option {
	return sim.WithServerOptions(grpc.ChainStreamInterceptor(func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
		if info.FullMethod == "/p4.v1.P4Runtime/Read" {
			ss = &readSpy{ServerStream: ss, cr: cr}
		}
		return h(srv, ss)
	}))
}

func (cr *counterReads) counts() map[uint64]int {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	return maps.Clone(cr.n)
}

type readSpy struct {
	grpc.ServerStream
	cr *counterReads
}

func (r *readSpy) RecvMsg(m any) error {
	err := r.ServerStream.RecvMsg(m)
	if req, ok := m.(*p4v1.ReadRequest); ok && err == nil {
		for _, e := range req.GetEntities() {
			if e.GetCounterEntry().GetCounterId() == r.cr.id {
				r.cr.mu.Lock()
				r.cr.n[req.GetDeviceId()]++
				r.cr.mu.Unlock()
				break
			}
		}
	}
	return err
}

// TestRoundReadsClassCountersOnce: a closed-loop round reads each
// switch's class_counter once. The loop reads it on the ingress edges
// (its demand sources) and the round's metrics take those cells from the
// loop's result (controlplane.TickResult.Counters); only the switches the
// loop did not read (the spines) are read for the metrics. The metrics
// still count the traffic.
func TestRoundReadsClassCountersOnce(t *testing.T) {
	ctx := testCtx(t)
	info := must(tables.Load(filepath.Join("..", "p4src", "build", "qos.p4info.txtpb")))
	ce := must(info.CounterEntry(contract.ClassCounter, 0))
	cr := &counterReads{id: ce.GetCounterId(), n: map[uint64]int{}}
	sims, entries := fabricSims(t, cr.option())
	cfg, _ := testConfig(t, entries)
	c, _, _, _ := running(t, ctx, cfg, WithManualLoop())
	if err := sims["leaf1"].SetFlows([]sim.Flow{{Name: "a-web", SrcIP: netip.MustParseAddr("10.0.1.1"), DstIP: netip.MustParseAddr("10.0.2.3"),
		Proto: 6, SrcPort: 40000, DstPort: 5001, IngressPort: 1, RateBps: 8e6, PacketSize: 1000}}); err != nil {
		t.Fatal(err)
	}
	before := cr.counts()
	base := time.Unix(1000, 0)
	const rounds = 3
	for i := range rounds {
		sims["leaf1"].Advance(time.Second)
		if _, err := c.Tick(ctx, base.Add(time.Duration(i)*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	after := cr.counts()
	for i, e := range entries {
		id := uint64(i + 1)
		if e.DeviceID != nil {
			id = *e.DeviceID
		}
		if n := after[id] - before[id]; n != rounds {
			t.Errorf("%s: %d class_counter reads in %d rounds, want one a round", e.Name, n, rounds)
		}
	}
	var m dto.Metric
	if err := c.metrics.ClassBytes.WithLabelValues("leaf1", "a-interactive").Write(&m); err != nil {
		t.Fatal(err)
	}
	got := m.GetCounter().GetValue()
	if want := 2 * 1e6; math.Abs(got-want) > 0.01*want { // 8Mbps for the 2 rounds after the baseline
		t.Errorf("leaf1 a-interactive class bytes metric %.0f, want %.0f", got, want)
	}
}
