package bmv2

import (
	"context"
	"io"
	"os"
	"testing"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/protobuf/proto"

	"github.com/p4qos/p4qos/compiler/contract"
	"github.com/p4qos/p4qos/tables"
	"github.com/p4qos/p4qos/tests/internal/bmv2env"
)

// bed is one test's switch: a target (target_test.go) started in a
// namespace of its own with the committed pipeline loaded, a P4Runtime
// session as primary controller, and a packet socket per port (dev.Port).
type bed struct {
	t        *testing.T
	dev      dut
	sw       *bmv2env.Switch // the same switch on BMv2, nil on other targets
	target   string
	deviceID uint64
	names    contract.Names
	schema   *tables.Schema
	client   p4v1.P4RuntimeClient
}

const deviceID = 1

var electionID = &p4v1.Uint128{High: 0, Low: 1}

// newBed starts BMv2 with ports 1..nPorts and loads the committed
// pipeline. It skips the test when BMv2 or the compiled program is not
// available.
func newBed(t *testing.T, nPorts int) *bed {
	t.Helper()
	return newBedOn(t, targets[0], nPorts)
}

// newBedOn starts tg with ports 1..nPorts, with its committed pipeline
// loaded and the test primary. It skips the test when tg or its compiled
// program is not available.
func newBedOn(t *testing.T, tg target, nPorts int) *bed {
	t.Helper()
	schema, err := tables.Load(tg.p4info)
	if err != nil {
		t.Fatalf("load P4Info: %v", err)
	}
	dev, sw := tg.start(t, nPorts, schema)
	client := bmv2env.BecomePrimary(t, dev.Conn(t), tg.deviceID, electionID)
	b := &bed{t: t, dev: dev, sw: sw, target: tg.name, deviceID: tg.deviceID, names: tg.names, schema: schema, client: client}
	if tg.load != nil {
		tg.load(b)
	}
	return b
}

// startBed starts BMv2 with ports 1..nPorts and becomes its primary
// controller, without loading a program.
func startBed(t *testing.T, nPorts int) *bed {
	t.Helper()
	bmv2env.RequireNetnsSwitch(t)
	schema, err := tables.Load(bmv2env.QosP4Info)
	if err != nil {
		t.Fatalf("load P4Info: %v", err)
	}
	sw := bmv2env.Start(t, bmv2env.WithPorts(nPorts), bmv2env.WithPriorityQueues(8), bmv2env.WithDeviceID(deviceID),
		bmv2env.WithCPUPort(contract.CPUPortBMv2))
	client := bmv2env.BecomePrimary(t, sw.Conn(t), deviceID, electionID)
	return &bed{t: t, dev: sw, sw: sw, target: "bmv2", deviceID: deviceID, schema: schema, client: client}
}

// loadPipeline pushes the committed BMv2 JSON and P4Info.
func (b *bed) loadPipeline() {
	b.t.Helper()
	deviceConfig, err := os.ReadFile(bmv2env.QosJSON)
	if err != nil {
		b.t.Fatalf("read BMv2 JSON: %v", err)
	}
	if err := bmv2env.PushPipeline(context.Background(), b.client, b.deviceID, electionID,
		&p4v1.ForwardingPipelineConfig{P4Info: b.schema.P4Info(), P4DeviceConfig: deviceConfig}); err != nil {
		b.t.Fatal(err)
	}
}

// get turns a (value, error) result into a value, failing the test on error:
// get(f())(t).
func get[T any](v T, err error) func(testing.TB) T {
	return func(t testing.TB) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func (b *bed) writeUpdates(typ p4v1.Update_Type, msgs ...proto.Message) {
	b.t.Helper()
	req := &p4v1.WriteRequest{DeviceId: b.deviceID, ElectionId: electionID}
	for _, m := range msgs {
		e := tables.EntityOf(m)
		if e == nil {
			b.t.Fatalf("not an entity: %T", m)
		}
		req.Updates = append(req.Updates, &p4v1.Update{Type: typ, Entity: e})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := b.client.Write(ctx, req); err != nil {
		b.t.Fatalf("Write %v: %v", typ, err)
	}
}

// insert writes entities one batch per call, in the order given (members
// before groups before table entries).
func (b *bed) insert(msgs ...proto.Message) {
	b.t.Helper()
	b.writeUpdates(p4v1.Update_INSERT, msgs...)
}

// modify is for meters, counters and default entries, which P4Runtime only
// lets a client MODIFY.
func (b *bed) modify(msgs ...proto.Message) {
	b.t.Helper()
	b.writeUpdates(p4v1.Update_MODIFY, msgs...)
}

// readCounter returns the packet and byte count of one counter cell.
func (b *bed) readCounter(name string, index int64) (packets, bytes int64) {
	b.t.Helper()
	ce := get(b.schema.CounterEntry(name, index))(b.t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rc, err := b.client.Read(ctx, &p4v1.ReadRequest{DeviceId: b.deviceID, Entities: []*p4v1.Entity{tables.EntityOf(ce)}})
	if err != nil {
		b.t.Fatalf("Read %s[%d]: %v", name, index, err)
	}
	for {
		resp, err := rc.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			b.t.Fatalf("Read %s[%d]: %v", name, index, err)
		}
		for _, e := range resp.GetEntities() {
			if c := e.GetCounterEntry(); c != nil && c.GetIndex().GetIndex() == index {
				packets, bytes = c.GetData().GetPacketCount(), c.GetData().GetByteCount()
			}
		}
	}
	return packets, bytes
}

// nextHopMAC is the destination MAC the routes to port p write.
func nextHopMAC(p int) []byte { return []byte{0x02, 0x00, 0x00, 0x00, 0x01, byte(p)} }

var routerMAC = []byte{0x02, 0x00, 0x00, 0x00, 0xfe, 0x01}

// member writes action profile member id: next hop out of port.
func (b *bed) member(id uint32, port int) proto.Message {
	b.t.Helper()
	return get(b.schema.ActionProfileMember(b.names.Of(contract.ECMPSelector), id,
		tables.Action(contract.SetNextHop, tables.Param(contract.ParamPort, port), tables.Param(contract.ParamSMAC, routerMAC),
			tables.Param(contract.ParamDMAC, nextHopMAC(port)))))(b.t)
}

// routeAll routes 10.0.0.0/8 and 2001:db8::/32 out of port through member
// 1000+port.
func (b *bed) routeAll(port int) {
	b.t.Helper()
	mid := uint32(1000 + port)
	b.insert(b.member(mid, port))
	b.insert(
		get(b.schema.TableEntry(contract.IPv4LPM, []tables.Match{tables.LPM(contract.KeyIPv4Dst, "10.0.0.0/8")}, tables.Member(mid)))(b.t),
		get(b.schema.TableEntry(contract.IPv6LPM, []tables.Match{tables.LPM(contract.KeyIPv6Dst, "2001:db8::/32")}, tables.Member(mid)))(b.t),
	)
}

// chunkFrames is how many frames sendFrames sends back to back: half of
// simple_switch's default egress queue depth (64).
const chunkFrames = 32

// sendFrames sends frames into switch port in, in order. Long bursts pause
// briefly every chunkFrames frames so that the switch's 64-frame egress queues are
// not the subject of the test.
func (b *bed) sendFrames(in int, frames ...[]byte) {
	b.t.Helper()
	for i, f := range frames {
		if i > 0 && i%chunkFrames == 0 {
			time.Sleep(5 * time.Millisecond)
		}
		if err := b.dev.Port(in).Send(f); err != nil {
			b.t.Fatalf("send frame %d on port %d: %v", i, in, err)
		}
	}
}

// exchange sends frames into port in and returns what each of the out
// ports received; it waits until want frames arrived in total or nothing
// arrived for a second.
//
// When every frame should come out (want == len(frames)), a long burst goes
// in chunks of chunkFrames, each sent once the ones before it have come
// out: on a busy machine BMv2's threads can be starved of CPU long enough
// for its 64-frame egress queues to overflow, and these tests are about
// where frames go, not about how fast BMv2 is.
func (b *bed) exchange(in int, out []int, want int, frames ...[]byte) map[int][]parsed {
	b.t.Helper()
	caps := make([]*bmv2env.Capture, len(out))
	for i, p := range out {
		caps[i] = b.dev.Port(p).Capture()
	}
	if want == len(frames) {
		deadline := time.Now().Add(30 * time.Second)
		for sent := 0; sent < len(frames) && time.Now().Before(deadline); {
			n := min(chunkFrames, len(frames)-sent)
			b.sendFrames(in, frames[sent:sent+n]...)
			sent += n
			bmv2env.WaitForFrames(caps, sent, time.Second, time.Until(deadline))
		}
	} else {
		b.sendFrames(in, frames...)
	}
	bmv2env.WaitForFrames(caps, want, time.Second, 30*time.Second)
	res := map[int][]parsed{}
	for i, p := range out {
		for _, f := range caps[i].Stop(b.t) {
			pp, err := parse(f)
			if err != nil {
				b.t.Errorf("port %d: unparsable frame %x: %v", p, f, err)
				continue
			}
			res[p] = append(res[p], pp)
		}
	}
	if !b.dev.Alive() {
		b.t.Fatalf("the %s switch exited\n%s", b.target, b.dev.Log())
	}
	return res
}
