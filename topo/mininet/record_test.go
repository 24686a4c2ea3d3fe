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

// counterServer answers wildcard class_counter reads: on its n-th read,
// cell i holds n × perRead[i] bytes.
type counterServer struct {
	p4v1.UnimplementedP4RuntimeServer
	perRead map[int64]int64
	mu      sync.Mutex
	reads   int64
	device  uint64
}

func (s *counterServer) Read(req *p4v1.ReadRequest, st p4v1.P4Runtime_ReadServer) error {
	s.mu.Lock()
	s.reads++
	n := s.reads
	s.mu.Unlock()
	if req.DeviceId != s.device {
		return nil
	}
	var es []*p4v1.Entity
	for idx, b := range s.perRead {
		ce := &p4v1.CounterEntry{CounterId: req.Entities[0].GetCounterEntry().CounterId,
			Index: &p4v1.Index{Index: idx}, Data: &p4v1.CounterData{ByteCount: n * b, PacketCount: n}}
		es = append(es, &p4v1.Entity{Entity: &p4v1.Entity_CounterEntry{CounterEntry: ce}})
	}
	return st.Send(&p4v1.ReadResponse{Entities: es})
}

func startCounterServer(t *testing.T, device uint64, perRead map[int64]int64) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer()
	p4v1.RegisterP4RuntimeServer(g, &counterServer{perRead: perRead, device: device})
	go func() { _ = g.Serve(lis) }()
	t.Cleanup(g.Stop)
	return lis.Addr().String()
}

func TestRecordClassRatesSumsSwitchesAndSkipsClassZero(t *testing.T) {
	schema, err := tables.Load("../../p4src/build/qos.p4info.txtpb")
	if err != nil {
		t.Skipf("no P4Info to read the counter's id from: %v", err)
	}
	// Per read, class 1 grows by 1000 bytes on each switch, class 2 by
	// 3000 on s1 only, class 0 (transit) by a lot, which must not show.
	a := startCounterServer(t, 1, map[int64]int64{0: 1e6, 1: 1000, 2: 3000})
	b := startCounterServer(t, 2, map[int64]int64{0: 1e6, 1: 1000})
	var out strings.Builder
	err = RecordClassRates(context.Background(), &out, Recording{
		Switches: []RecordSwitch{{Name: "s1", Address: a, DeviceID: 1}, {Name: "s2", Address: b, DeviceID: 2}},
		Schema:   schema,
		Classes:  map[int]string{1: "gold", 2: "silver", 3: "idle"},
		Interval: 20 * time.Millisecond, Duration: 100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(out.String())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows[0], ",") != "time_s,gold,silver,idle" {
		t.Fatalf("header %v", rows[0])
	}
	if len(rows) < 3 {
		t.Fatalf("only %d samples:\n%s", len(rows)-1, out.String())
	}
	for _, r := range rows[1:] {
		gold, _ := strconv.ParseFloat(r[1], 64)
		silver, _ := strconv.ParseFloat(r[2], 64)
		// Between two samples gold grew by 2 × 1000 bytes (both switches)
		// and silver by 3000: silver/gold = 1.5 whatever the interval.
		if gold <= 0 || silver/gold < 1.49 || silver/gold > 1.51 || r[3] != "0" {
			t.Errorf("row %v: want silver = 1.5 × gold > 0 and idle 0", r)
		}
	}
}
