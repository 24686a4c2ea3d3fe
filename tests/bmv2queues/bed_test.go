package bmv2queues

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/p4qos/p4qos/controller"
	"github.com/p4qos/p4qos/internal/bmv2json"
	"github.com/p4qos/p4qos/target"
	"github.com/p4qos/p4qos/tests/internal/bmv2env"
)

// The fabric: one BMv2 switch, s1, with h1 on port 1 and h2 on port 2.
// Frames go in at port 1 (from h1) and leave at port 2 (to h2).
const (
	deviceID = 1
	inPort   = 1
	outPort  = 2
	// bulkQueue is the queue of class bulk (PHB AF11: queue 2 in the
	// DiffServ default map, docs/policy.md), the queue the policy shapes.
	bulkQueue = 2
	bulkPort  = 5001 // UDP destination port of class bulk
	// otherPort is a UDP destination port no class matches: such frames
	// keep DSCP 0 and use queue 1, which the policy does not shape.
	otherPort = 5002
	// policyDepth is the shaped queue's depth in the policy; BMv2's
	// default is target.DefaultQueueDepth (64).
	policyDepth = 128
)

const topology = `name: bmv2queues
switches:
  - {name: s1, device_id: 1, address: 127.0.0.1:9559, target: bmv2}
hosts:
  - {name: h1, ipv4: 10.0.0.1/24, mac: "02:00:00:00:01:01", switch: s1, port: 1}
  - {name: h2, ipv4: 10.0.0.2/24, mac: "02:00:00:00:01:02", switch: s1, port: 2}
`

// policy shapes queue bulkQueue of s1's port outPort to rate (a policy
// rate such as 2.4Mbps) with depth policyDepth.
func policy(rate string) []byte {
	return fmt.Appendf(nil, `version: 1
classes:
  - name: bulk
    match: {protocol: udp, dst_port: %d}
    phb: AF11
queues:
  ports:
    - {switch: s1, port: %d, queue: %d, rate: %s, depth: %d}
`, bulkPort, outPort, bulkQueue, rate, policyDepth)
}

// bed is one test's switch and controller: simple_switch_grpc with 8
// priority queues in a namespace of its own, programmed by nothing but a
// controller.Controller running as `p4qos run` does.
type bed struct {
	t   *testing.T
	sw  *bmv2env.Switch
	c   *controller.Controller
	ev  *eventLog
	ctx context.Context
	// next is the index of the first event no wait has consumed yet.
	next int
}

// newBed starts the switch and the controller with the policy at rate and
// the given reconcile interval, and returns once the controller has
// programmed the switch and applied its queue settings (the first
// queues-applied event). It skips the test, saying why, without root, `ip`,
// BMv2, simple_switch_CLI or the compiled pipeline.
func newBed(t *testing.T, rate string, reconcile time.Duration) *bed {
	t.Helper()
	bmv2env.RequireNetnsSwitch(t)
	bmv2env.RequireCLI(t)
	bmv2env.RequireQosPipeline(t)
	bmv2env.RequireFile(t, bmv2env.QosP4Info, "compile p4src/v1model/qos.p4 with p4c-bm2-ss (`make p4`)")
	// The controller pushes the BMv2 JSON as it is, so the committed file
	// must already carry `make p4`'s repair (internal/bmv2json).
	js, err := os.ReadFile(bmv2env.QosJSON)
	if err != nil {
		t.Fatal(err)
	}
	if _, changed, err := bmv2json.UnifySharedProfileActions(js); err != nil || changed {
		t.Fatalf("%s still needs internal/bmv2json's repair (changed=%v, err=%v): run make p4", bmv2env.QosJSON, changed, err)
	}

	sw := bmv2env.Start(t, bmv2env.WithPorts(2), bmv2env.WithPriorityQueues(8), bmv2env.WithDeviceID(deviceID),
		bmv2env.WithNetnsPrefix("p4qos-queues"), bmv2env.WithoutSegmentationOffload())

	dir := t.TempDir()
	cfg := controller.Default()
	cfg.Topology = writeFile(t, dir, "topology.yaml", []byte(topology))
	cfg.Policy = writeFile(t, dir, "policy.yaml", policy(rate))
	cfg.P4Info = bmv2env.QosP4Info
	cfg.BMv2JSON = bmv2env.QosJSON
	id := uint64(deviceID)
	cfg.Switches = []controller.SwitchEntry{{Name: "s1", Address: sw.Addr(), DeviceID: &id, Target: "bmv2", ThriftAddress: sw.ThriftAddr()}}
	cfg.MetricsAddr = "off"
	cfg.LoopInterval = 0
	cfg.ReconcileInterval = reconcile

	ev := &eventLog{changed: make(chan struct{})}
	// RunController's cleanup is registered after the switch's, so the
	// controller stops while the switch still answers; this one runs
	// before it.
	c, ctx := bmv2env.RunController(t, cfg, controller.WithDialer(sw.Dial), controller.WithEvents(ev.add))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("controller events:\n%s", ev.String())
		}
	})

	b := &bed{t: t, sw: sw, c: c, ev: ev, ctx: ctx}
	// Fixture check: the policy's class really uses the queue the policy
	// shapes.
	for _, cl := range c.Compiled().Classes {
		if cl.Name == "bulk" && cl.Queue != bulkQueue {
			t.Fatalf("class bulk uses queue %d, the test shapes queue %d", cl.Queue, bulkQueue)
		}
	}
	// Pushing the pipeline and ~70 entities to BMv2 on a busy machine can
	// take a while; a minute is generous.
	e := b.waitEvent("the first queues-applied event (pipeline, entities and queue settings applied)", 60*time.Second, isQueuesApplied)
	t.Logf("controller programmed s1: queue settings applied (%d parameters written)", e.Count)
	return b
}

func isQueuesApplied(e controller.Event) bool {
	return e.Kind == controller.QueuesApplied && e.Switch == "s1"
}

// waitEvent waits for the next event, from b.next on, that pred accepts,
// consumes the events up to it, and returns it. It fails the test after
// limit, listing the controller's failures.
func (b *bed) waitEvent(what string, limit time.Duration, pred func(controller.Event) bool) controller.Event {
	b.t.Helper()
	e, i, ok := b.ev.wait(b.next, limit, pred)
	if !ok {
		b.t.Fatalf("no %s within %v; the controller reported:\n%s", what, limit, b.ev.String())
	}
	b.next = i + 1
	return e
}

// applyPolicy reloads the policy through the library call and waits until
// the switch holds it: the reload's queues-applied event.
func (b *bed) applyPolicy(rate string) controller.Event {
	b.t.Helper()
	if err := b.c.ApplyPolicy(b.ctx, policy(rate)); err != nil {
		b.t.Fatalf("ApplyPolicy(rate %s): %v", rate, err)
	}
	b.waitEvent("reload-accepted event", 10*time.Second, func(e controller.Event) bool { return e.Kind == controller.ReloadAccepted })
	return b.waitEvent("queues-applied event after the reload", 30*time.Second, isQueuesApplied)
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// wantPPS is BMv2's queue rate for a policy rate in bits/s: what the
// controller must write (target.PacketsPerSecond, packets of 1500 bytes).
func wantPPS(bps float64) float64 { return float64(target.PacketsPerSecond(bps)) }

// eventLog records the controller's events; WithEvents calls add from the
// controller's goroutines, so add never blocks.
type eventLog struct {
	mu      sync.Mutex
	events  []controller.Event
	changed chan struct{} // closed and replaced on every add
}

func (l *eventLog) add(e controller.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
	close(l.changed)
	l.changed = make(chan struct{})
}

// wait returns the first event at index ≥ from that pred accepts, and its
// index, waiting at most limit for it.
func (l *eventLog) wait(from int, limit time.Duration, pred func(controller.Event) bool) (controller.Event, int, bool) {
	timer := time.NewTimer(limit)
	defer timer.Stop()
	for {
		l.mu.Lock()
		for i := from; i < len(l.events); i++ {
			if pred(l.events[i]) {
				e := l.events[i]
				l.mu.Unlock()
				return e, i, true
			}
		}
		from = max(from, len(l.events))
		ch := l.changed
		l.mu.Unlock()
		select {
		case <-ch:
		case <-timer.C:
			return controller.Event{}, 0, false
		}
	}
}

// len is the number of events so far: an index for wait and count.
func (l *eventLog) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.events)
}

// count is how many events at index ≥ from pred accepts.
func (l *eventLog) count(from int, pred func(controller.Event) bool) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, e := range l.events[min(from, len(l.events)):] {
		if pred(e) {
			n++
		}
	}
	return n
}

func (l *eventLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var sb strings.Builder
	for _, e := range l.events {
		fmt.Fprintf(&sb, "  %s %s %s count=%d", e.Time.Format("15:04:05.000"), e.Kind, e.Switch, e.Count)
		if e.Err != nil {
			fmt.Fprintf(&sb, " err=%v", e.Err)
		}
		sb.WriteByte('\n')
	}
	return sb.String()
}

// Frames. Every frame the tests send is h1 → h2 IPv4/UDP with a 1500-byte
// IP packet, the packet size of BMv2's queue rate unit
// (target.QueuePacketBytes): at that size the measured packet rate times
// 12,000 bits is the policy's bit rate.
const ipLen = target.QueuePacketBytes

var (
	routerMAC = []byte{0x02, 0, 0, 0, 0, 0x01} // s1's, from its device id (docs/topology.md)
	h1MAC     = []byte{0x02, 0, 0, 0, 0x01, 0x01}
	h2MAC     = []byte{0x02, 0, 0, 0, 0x01, 0x02}
	h1IP      = []byte{10, 0, 0, 1}
	h2IP      = []byte{10, 0, 0, 2}
)

// udpFrame builds frame seq of a burst to UDP port dport: Ethernet to the
// router MAC, IPv4 (DSCP 0, TTL 64, correct header checksum), UDP without a
// checksum (allowed over IPv4, RFC 768), and seq in the first 4 payload
// bytes.
func udpFrame(seq uint32, dport uint16) []byte {
	f := make([]byte, 14+ipLen)
	copy(f[0:], routerMAC)
	copy(f[6:], h1MAC)
	binary.BigEndian.PutUint16(f[12:], 0x0800)
	ip := f[14:]
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], ipLen)
	binary.BigEndian.PutUint16(ip[4:], uint16(seq))
	ip[8], ip[9] = 64, 17
	copy(ip[12:], h1IP)
	copy(ip[16:], h2IP)
	binary.BigEndian.PutUint16(ip[10:], ipChecksum(ip[:20]))
	udp := ip[20:]
	binary.BigEndian.PutUint16(udp[0:], 40000)
	binary.BigEndian.PutUint16(udp[2:], dport)
	binary.BigEndian.PutUint16(udp[4:], ipLen-20)
	binary.BigEndian.PutUint32(udp[8:], seq)
	return f
}

// ipChecksum is the Internet checksum (RFC 1071) of an IPv4 header whose
// checksum field is zero.
func ipChecksum(h []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(h); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(h[i:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

// departed checks that f is one of the test's frames as s1 forwards it to
// h2 (rewritten MACs, TTL decremented) and returns its sequence number
// and UDP destination port.
func departed(f []byte) (seq uint32, dport uint16, err error) {
	if len(f) < 14+28+4 {
		return 0, 0, fmt.Errorf("%d-byte frame", len(f))
	}
	ip := f[14:]
	switch {
	case !bytes.Equal(f[0:6], h2MAC) || !bytes.Equal(f[6:12], routerMAC):
		return 0, 0, fmt.Errorf("MACs %x → %x, want s1's router MAC → h2", f[6:12], f[0:6])
	case binary.BigEndian.Uint16(f[12:]) != 0x0800 || ip[9] != 17:
		return 0, 0, errors.New("not IPv4/UDP")
	case !bytes.Equal(ip[12:16], h1IP) || !bytes.Equal(ip[16:20], h2IP):
		return 0, 0, fmt.Errorf("addresses %v → %v", ip[12:16], ip[16:20])
	case ip[8] != 63:
		return 0, 0, fmt.Errorf("TTL %d, want 63", ip[8])
	}
	return binary.BigEndian.Uint32(ip[28:]), binary.BigEndian.Uint16(ip[22:]), nil
}
