package mininet

import (
	"context"
	"encoding/csv"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc"

	"github.com/p4qos/p4qos/tables"
)

func TestRecordClassRatesSumsSwitchesAndSkipsClassZero(t *testing.T) {
	schema, err := tables.Load("../../p4src/build/qos.p4info.txtpb")
	if err != nil {
		t.Skipf("no P4Info to read the counter's id from: %v", err)
	}
	// Class 1 grows by 1000 bytes/s on each switch, class 2 by 3000 on s1
	// only, class 0 (transit) by a lot, which must not show.
	start := time.Now()
	a := startRateServer(t, &rateServer{start: start, rates: map[int64]float64{0: 1e6, 1: 1000, 2: 3000}})
	b := startRateServer(t, &rateServer{start: start, rates: map[int64]float64{0: 1e6, 1: 1000}})
	rows, out := recordTwo(t, schema, a, b, map[int]string{1: "gold", 2: "silver", 3: "idle"}, 20*time.Millisecond, 100*time.Millisecond)
	if strings.Join(rows[0], ",") != "time_s,gold,silver,idle" {
		t.Fatalf("header %v", rows[0])
	}
	if len(rows) < 3 {
		t.Fatalf("only %d samples:\n%s", len(rows)-1, out)
	}
	for _, r := range rows[1:] {
		gold, _ := strconv.ParseFloat(r[1], 64)
		silver, _ := strconv.ParseFloat(r[2], 64)
		// gold is 2 × 1000 bytes/s (both switches), silver 3000:
		// silver/gold = 1.5, up to the timing of 20 ms samples.
		if gold <= 0 || silver/gold < 1.35 || silver/gold > 1.65 || r[3] != "0" {
			t.Errorf("row %v: want silver = 1.5 × gold > 0 and idle 0", r)
		}
	}
}

// rateServer answers class_counter reads with cells that grow at a steady
// rate (bytes/s since start); every stallEvery-th read first sleeps stall,
// as a busy switch answers late.
type rateServer struct {
	p4v1.UnimplementedP4RuntimeServer
	start      time.Time
	rates      map[int64]float64
	stall      time.Duration
	stallEvery int
	mu         sync.Mutex
	reads      int
}

func (s *rateServer) Read(req *p4v1.ReadRequest, st p4v1.P4Runtime_ReadServer) error {
	s.mu.Lock()
	s.reads++
	n := s.reads
	s.mu.Unlock()
	if s.stallEvery > 0 && n%s.stallEvery == 0 {
		time.Sleep(s.stall)
	}
	el := time.Since(s.start).Seconds()
	var es []*p4v1.Entity
	for idx, r := range s.rates {
		ce := &p4v1.CounterEntry{CounterId: req.Entities[0].GetCounterEntry().CounterId,
			Index: &p4v1.Index{Index: idx}, Data: &p4v1.CounterData{ByteCount: int64(r * el)}}
		es = append(es, &p4v1.Entity{Entity: &p4v1.Entity_CounterEntry{CounterEntry: ce}})
	}
	return st.Send(&p4v1.ReadResponse{Entities: es})
}

// TestRecordClassRatesSlowSwitch: a switch that answers late now and then
// must not distort the other switch's rates. s1 carries class 1 at
// 125,000 B/s (1Mbit/s), s2 class 2 at the same rate and stalls 350 ms on
// every third read (sampling every 100 ms): every row must show both near
// 1Mbit/s. With one timestamp per sample, s1's bytes of a stalled
// interval were divided by the short interval that follows it.
func TestRecordClassRatesSlowSwitch(t *testing.T) {
	schema, err := tables.Load("../../p4src/build/qos.p4info.txtpb")
	if err != nil {
		t.Skipf("no P4Info to read the counter's id from: %v", err)
	}
	start := time.Now()
	a := startRateServer(t, &rateServer{start: start, rates: map[int64]float64{1: 125000}})
	b := startRateServer(t, &rateServer{start: start, rates: map[int64]float64{2: 125000}, stall: 350 * time.Millisecond, stallEvery: 3})
	rows, out := recordTwo(t, schema, a, b, map[int]string{1: "one", 2: "two"}, 100*time.Millisecond, 1200*time.Millisecond)
	if len(rows) < 4 {
		t.Fatalf("only %d samples:\n%s", len(rows)-1, out)
	}
	for _, r := range rows[1:] {
		for _, c := range r[1:] {
			// Counters are read at slightly different moments than timed
			// (ms on a busy machine): 15 % on samples of ≥ 50 ms.
			if v, _ := strconv.ParseFloat(c, 64); v < 0.85e6 || v > 1.15e6 {
				t.Errorf("row %v: want every class near 1Mbit/s\n%s", r, out)
				break
			}
		}
	}
}

func startRateServer(t *testing.T, s *rateServer) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer()
	p4v1.RegisterP4RuntimeServer(g, s)
	go func() { _ = g.Serve(lis) }()
	t.Cleanup(g.Stop)
	return lis.Addr().String()
}

// recordTwo records switches s1 (device 1 at a) and s2 (device 2 at b) and
// returns the CSV's rows and text.
func recordTwo(t *testing.T, schema *tables.Schema, a, b string, classes map[int]string, interval, duration time.Duration) ([][]string, string) {
	t.Helper()
	var out strings.Builder
	err := RecordClassRates(context.Background(), &out, Recording{
		Switches: []RecordSwitch{{Name: "s1", Address: a, DeviceID: 1}, {Name: "s2", Address: b, DeviceID: 2}},
		Schema:   schema,
		Classes:  classes,
		Interval: interval, Duration: duration,
	})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(out.String())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows, out.String()
}
