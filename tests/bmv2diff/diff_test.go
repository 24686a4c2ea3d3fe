package bmv2diff

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"testing"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"

	"github.com/p4qos/p4qos/compiler/contract"
	"github.com/p4qos/p4qos/tables"
	"github.com/p4qos/p4qos/target/sim"
	"github.com/p4qos/p4qos/tests/internal/bmv2env"
)

const deviceID = 1

var electionID = &p4v1.Uint128{Low: 1}

// target is a P4Runtime switch the test programs as primary.
type target struct {
	name string
	c    p4v1.P4RuntimeClient
}

// connect becomes the primary controller of the target behind conn.
func connect(t *testing.T, name string, conn grpc.ClientConnInterface) *target {
	t.Helper()
	return &target{name: name, c: bmv2env.BecomePrimary(t, conn, deviceID, electionID)}
}

func (tg *target) push(t *testing.T, s *tables.Schema, deviceConfig []byte) {
	t.Helper()
	err := bmv2env.PushPipeline(context.Background(), tg.c, deviceID, electionID,
		&p4v1.ForwardingPipelineConfig{P4Info: s.P4Info(), P4DeviceConfig: deviceConfig})
	if err != nil {
		t.Fatalf("%s: %v", tg.name, err)
	}
}

func (tg *target) write(t *testing.T, updates ...*p4v1.Update) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := tg.c.Write(ctx, &p4v1.WriteRequest{DeviceId: deviceID, ElectionId: electionID, Updates: updates}); err != nil {
		t.Fatalf("%s: Write: %v", tg.name, err)
	}
}

// counters reads every cell of an indirect counter.
func (tg *target) counters(t *testing.T, s *tables.Schema, name string) map[int64]int64 {
	t.Helper()
	ce, err := s.CounterEntry(name, -1)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rs, err := tg.c.Read(ctx, &p4v1.ReadRequest{DeviceId: deviceID, Entities: []*p4v1.Entity{tables.EntityOf(ce)}})
	if err != nil {
		t.Fatalf("%s: read %s: %v", tg.name, name, err)
	}
	out := map[int64]int64{}
	for {
		r, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("%s: read %s: %v", tg.name, name, err)
		}
		for _, e := range r.GetEntities() {
			out[e.GetCounterEntry().GetIndex().GetIndex()] = e.GetCounterEntry().GetData().GetPacketCount()
		}
	}
}

func must[T any](t *testing.T) func(v T, err error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// program returns the write batches, in dependency order, that both
// targets get.
func program(t *testing.T, s *tables.Schema) [][]*p4v1.Update {
	ins := func(m proto.Message, err error) *p4v1.Update {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return &p4v1.Update{Type: p4v1.Update_INSERT, Entity: tables.EntityOf(m)}
	}
	mod := func(m proto.Message, err error) *p4v1.Update {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return &p4v1.Update{Type: p4v1.Update_MODIFY, Entity: tables.EntityOf(m)}
	}
	hop := func(port int) tables.ActionCall {
		return tables.Action(contract.SetNextHop, tables.Param(contract.ParamPort, port), tables.Param(contract.ParamSMAC, "02:00:00:00:ff:01"), tables.Param(contract.ParamDMAC, "02:00:00:00:00:02"))
	}
	class := func(id, dscp int) tables.ActionCall {
		return tables.Action(contract.SetClass, tables.Param(contract.ParamClassID, id), tables.Param(contract.ParamDSCP, dscp))
	}
	rule := func(prio int32, m []tables.Match, a tables.ActionCall) *p4v1.Update {
		return ins(s.TableEntry(contract.Classifier, m, a, tables.Priority(prio)))
	}
	return [][]*p4v1.Update{
		{ins(s.ActionProfileMember(contract.ECMPSelector, 1, hop(2))), ins(s.ActionProfileMember(contract.ECMPSelector, 2, hop(3))), ins(s.ActionProfileMember(contract.ECMPSelector, 3, hop(4)))},
		{ins(s.ActionProfileGroup(contract.ECMPSelector, 10, []tables.GroupMember{{ID: 3, Weight: 1}}, 4))},
		{
			ins(s.TableEntry(contract.IPv4LPM, []tables.Match{tables.LPM(contract.KeyIPv4Dst, "10.2.0.0/16")}, tables.Member(1))),
			ins(s.TableEntry(contract.IPv4LPM, []tables.Match{tables.LPM(contract.KeyIPv4Dst, "10.3.0.0/16")}, tables.Member(2))),
			ins(s.TableEntry(contract.IPv4LPM, []tables.Match{tables.LPM(contract.KeyIPv4Dst, "10.3.3.0/24")}, tables.Group(10))),

			rule(10, []tables.Match{tables.Range(contract.KeyL4DstPort, 5000, 5099)}, class(1, 10)),
			rule(10, []tables.Match{tables.Range(contract.KeyL4DstPort, 6000, 6099)}, class(2, 10)),
			rule(10, []tables.Match{tables.Range(contract.KeyL4DstPort, 7000, 7099)}, class(3, 10)),
			rule(20, []tables.Match{tables.Ternary(contract.KeyDSCP, 46, 0x3f)}, tables.Action(contract.TrustDSCP, tables.Param(contract.ParamClassID, 4))),
			rule(30, []tables.Match{tables.Ternary(contract.KeyIPv4Src, "10.1.7.0", "255.255.255.0"), tables.Ternary(contract.KeyIPProto, 6, 0xff)}, class(5, 18)),
			rule(25, []tables.Match{tables.Ternary(contract.KeyIPv4Src, "10.1.7.7", "255.255.255.255")}, class(6, 26)),

			// Class 2: CBS of 1 byte, always yellow; class 3: both bursts 1
			// byte, always red (RFC 2698: a packet larger than a full bucket
			// never fits).
			mod(s.MeterEntry(contract.ClassMeter, 2, &tables.MeterConfig{CIR: 1, CBurst: 1, PIR: 1_000_000_000, PBurst: 1_000_000})),
			mod(s.MeterEntry(contract.ClassMeter, 3, &tables.MeterConfig{CIR: 1, CBurst: 1, PIR: 1, PBurst: 1})),
			ins(s.TableEntry(contract.ColorAction, []tables.Match{tables.Exact(contract.KeyClassID, 2), tables.Exact(contract.KeyColor, 1)}, tables.Action(contract.RemarkDSCP, tables.Param(contract.ParamDSCP, 12)))),
			ins(s.TableEntry(contract.ColorAction, []tables.Match{tables.Exact(contract.KeyClassID, 3), tables.Exact(contract.KeyColor, 2)}, tables.Action(contract.Drop))),

			ins(s.TableEntry(contract.PHB, []tables.Match{tables.Exact(contract.KeyDSCP, 10)}, tables.Action(contract.SetQueue, tables.Param(contract.ParamQueue, 1)))),
			ins(s.TableEntry(contract.PHB, []tables.Match{tables.Exact(contract.KeyDSCP, 12)}, tables.Action(contract.SetQueue, tables.Param(contract.ParamQueue, 2)))),
			ins(s.TableEntry(contract.PHB, []tables.Match{tables.Exact(contract.KeyDSCP, 18)}, tables.Action(contract.SetQueue, tables.Param(contract.ParamQueue, 3)))),
			ins(s.TableEntry(contract.PHB, []tables.Match{tables.Exact(contract.KeyDSCP, 46)}, tables.Action(contract.SetQueue, tables.Param(contract.ParamQueue, 7)))),
		},
	}
}

// outcome is what the test compares per packet.
type outcome struct {
	dropped bool
	class   int64
	dscp    uint8
	queue   int64
	port    int64
}

func (o outcome) String() string {
	if o.dropped {
		return "dropped"
	}
	return fmt.Sprintf("class %d dscp %d queue %d port %d", o.class, o.dscp, o.queue, o.port)
}

type probe struct {
	name string
	p    probePacket
	// want is the outcome worked out by hand from program(); the sim must
	// produce it (TestSimOutcomesAsProgrammed) and BMv2 must agree with the
	// sim (TestSimMatchesBMv2).
	want outcome
}

func probes() []probe {
	a := netip.MustParseAddr
	return []probe{
		// dport 5001: class 1 marks AF11 (10), unmetered so green, no
		// color_action entry, phb 10 -> queue 1, 10.2/16 -> member 1 -> port 2.
		{"class 1 by dport range", probePacket{src: a("10.1.0.1"), dst: a("10.2.0.1"), proto: 17, sport: 1000, dport: 5001},
			outcome{class: 1, dscp: 10, queue: 1, port: 2}},
		// class 2 is always yellow: remarked AF12 (12), queue 2.
		{"class 2 metered yellow, remarked", probePacket{src: a("10.1.0.1"), dst: a("10.2.0.1"), proto: 17, sport: 1000, dport: 6050},
			outcome{class: 2, dscp: 12, queue: 2, port: 2}},
		// class 3 is always red, and red class 3 is dropped.
		{"class 3 metered red, dropped", probePacket{src: a("10.1.0.1"), dst: a("10.2.0.1"), proto: 17, sport: 1000, dport: 7099},
			outcome{dropped: true}},
		// DSCP 46 hits the priority-20 trust rule: class 4 keeps EF, queue 7;
		// 10.3/16 -> member 2 -> port 3.
		{"trust_dscp EF", probePacket{src: a("10.1.0.1"), dst: a("10.3.0.1"), proto: 17, sport: 1000, dport: 80, dscp: 46},
			outcome{class: 4, dscp: 46, queue: 7, port: 3}},
		// TCP from 10.1.7.7 matches priorities 30 and 25: 30 wins, AF21 (18) -> queue 3.
		{"priority 30 beats 25 (tcp)", probePacket{src: a("10.1.7.7"), dst: a("10.3.0.1"), proto: 6, sport: 1000, dport: 80},
			outcome{class: 5, dscp: 18, queue: 3, port: 3}},
		// UDP from 10.1.7.7 only matches 25: AF31 (26), no phb entry -> queue 0.
		{"priority 25 alone (udp)", probePacket{src: a("10.1.7.7"), dst: a("10.3.0.1"), proto: 17, sport: 1000, dport: 80},
			outcome{class: 6, dscp: 26, queue: 0, port: 3}},
		// Nothing matches: default class 0 keeps DSCP 8, queue 0.
		{"no class: DSCP kept, queue 0", probePacket{src: a("10.1.0.9"), dst: a("10.3.0.1"), proto: 17, sport: 1000, dport: 9999, dscp: 8},
			outcome{class: 0, dscp: 8, queue: 0, port: 3}},
		// 10.3.3/24 is longer than 10.3/16: group 10, whose only member goes to port 4.
		{"longer prefix to a one-member group", probePacket{src: a("10.1.0.1"), dst: a("10.3.3.3"), proto: 17, sport: 1000, dport: 5002},
			outcome{class: 1, dscp: 10, queue: 1, port: 4}},
		// No route: dropped.
		{"no route: dropped", probePacket{src: a("10.1.0.1"), dst: a("11.0.0.1"), proto: 17, sport: 1000, dport: 5001},
			outcome{dropped: true}},
	}
}

// simOutcomes programs a fresh sim over gRPC with program() and sends one
// packet per probe through its traffic model.
func simOutcomes(t *testing.T, schema *tables.Schema, deviceConfig []byte, ps []probe) []outcome {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	sw, addr, err := sim.Start(ctx, "127.0.0.1:0", sim.WithDeviceID(deviceID))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sw.Close)
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("sim at %s: %v", addr, err)
	}
	t.Cleanup(func() { conn.Close() })
	tg := connect(t, "sim", conn)
	tg.push(t, schema, deviceConfig)
	for _, batch := range program(t, schema) {
		tg.write(t, batch...)
	}
	// One flow per probe, one packet each: a rate of one packet per
	// second and an Advance of one second.
	var flows []sim.Flow
	for _, pr := range ps {
		size := len(pr.p.frame())
		flows = append(flows, sim.Flow{Name: pr.name, SrcIP: pr.p.src, DstIP: pr.p.dst, Proto: pr.p.proto, SrcPort: pr.p.sport, DstPort: pr.p.dport,
			DSCP: pr.p.dscp, IngressPort: 1, RateBps: float64(size * 8), PacketSize: size})
	}
	if err := sw.SetFlows(flows); err != nil {
		t.Fatal(err)
	}
	sw.Advance(time.Second)
	out := make([]outcome, len(ps))
	for i, fs := range sw.FlowStats() {
		if fs.OfferedPackets != 1 {
			t.Fatalf("%s: sim offered %d packets, want 1", ps[i].name, fs.OfferedPackets)
		}
		o := outcome{dropped: true}
		for c := sim.Green; c <= sim.Red; c++ {
			if cs := fs.Colors[c]; cs.Packets == 1 && !cs.Dropped && fs.Routed {
				o = outcome{class: int64(fs.Class), dscp: cs.DSCP, queue: int64(cs.Queue), port: int64(fs.EgressPort)}
			}
		}
		out[i] = o
	}
	return out
}

// TestSimOutcomesAsProgrammed needs no BMv2: it pins the sim's decisions
// for the probes to the hand-worked expectations, so that a BMv2 mismatch
// in TestSimMatchesBMv2 points at the right side.
func TestSimOutcomesAsProgrammed(t *testing.T) {
	schema, err := tables.Load(bmv2env.QosP4Info)
	if err != nil {
		t.Fatalf("load P4Info: %v", err)
	}
	ps := probes()
	for i, got := range simOutcomes(t, schema, nil, ps) {
		if got != ps[i].want {
			t.Errorf("%s: sim %v, want %v", ps[i].name, got, ps[i].want)
		}
	}
}

func TestSimMatchesBMv2(t *testing.T) {
	bmv2env.RequireNetnsSwitch(t)
	bmv2env.RequireQosPipeline(t)
	schema := must[*tables.Schema](t)(tables.Load(bmv2env.QosP4Info))
	deviceConfig := must[[]byte](t)(os.ReadFile(bmv2env.QosJSON))
	const nPorts = 4

	sw := bmv2env.Start(t, bmv2env.WithPorts(nPorts), bmv2env.WithPriorityQueues(8),
		bmv2env.WithDeviceID(deviceID), bmv2env.WithNetnsPrefix("p4qos-diff"), bmv2env.WithCPUPort(contract.CPUPortBMv2))
	bmv2 := connect(t, "bmv2", sw.Conn(t))
	bmv2.push(t, schema, deviceConfig)
	for _, batch := range program(t, schema) {
		bmv2.write(t, batch...)
	}
	ps := probes()
	simOut := simOutcomes(t, schema, deviceConfig, ps)

	// BMv2: one probe at a time, counters read around it.
	for i, pr := range ps {
		beforeClass := bmv2.counters(t, schema, contract.ClassCounter)
		beforeQueue := bmv2.counters(t, schema, contract.QueueCounter)
		if err := sw.Port(1).Send(pr.p.frame()); err != nil {
			t.Fatal(err)
		}
		// Poll the egress ports round-robin (each socket waits at most its
		// 20 ms receive timeout) until a frame shows up or 2 s pass; then
		// keep listening 200 ms for duplicates.
		got := outcome{dropped: true}
		frames := 0
		deadline := time.Now().Add(2 * time.Second)
		for time.Now().Before(deadline) {
			for p := 2; p <= nPorts; p++ {
				f, err := sw.Port(p).Recv(20 * time.Millisecond)
				if err != nil {
					t.Fatalf("%s: port %d: %v", pr.name, p, err)
				}
				if f == nil {
					continue
				}
				dscp, err := frameDSCP(f)
				if err != nil {
					t.Fatalf("%s: port %d: %v", pr.name, p, err)
				}
				frames++
				got = outcome{dscp: dscp, port: int64(p)}
				deadline = time.Now().Add(200 * time.Millisecond)
			}
		}
		if frames > 1 {
			t.Errorf("%s: BMv2 sent %d frames for one packet", pr.name, frames)
		}
		if !got.dropped {
			got.class, got.queue = -1, -1
			for idx, n := range bmv2.counters(t, schema, contract.ClassCounter) {
				if n != beforeClass[idx] {
					got.class = idx
				}
			}
			for idx, n := range bmv2.counters(t, schema, contract.QueueCounter) {
				if n != beforeQueue[idx] {
					if idx/8 != got.port {
						t.Errorf("%s: queue_counter moved at port %d, frame left on %d", pr.name, idx/8, got.port)
					}
					got.queue = idx % 8
				}
			}
		}
		if got != simOut[i] {
			t.Errorf("%s: BMv2 %v, sim %v", pr.name, got, simOut[i])
		} else {
			t.Logf("%s: both %v", pr.name, got)
		}
	}
}
