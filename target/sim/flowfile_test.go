package sim

import (
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/p4qos/p4qos/topo"
)

func TestParseFlowFile(t *testing.T) {
	ff, err := ParseFlowFile("f.yaml", []byte("flows:\n  - {name: a, switch: leaf1, src: 10.0.0.1, dst: 10.0.0.2, rate: 5Mbps, dport: 80, proto: tcp, packet_size: 1000B}\n"), nil)
	if err != nil || len(ff) != 1 || ff[0].Switch != "leaf1" || ff[0].Flow.Proto != 6 || ff[0].Flow.RateBps != 5e6 || ff[0].Flow.PacketSize != 1000 {
		t.Fatalf("parsed %+v, %v", ff, err)
	}
	for _, tc := range []struct{ in, want string }{
		{"flows:\n  - {name: a, src: 10.0.0.1, dst: 10.0.0.2, rate: 5Mbps, bogus: 1}\n", `f.yaml:2:58: flows[0].bogus: unknown key "bogus"`},
		{"flows:\n  - {name: b, src: nope, dst: 10.0.0.2, rate: 5Mbps}\n", "f.yaml:2:5: flows[0]: flow \"b\": src:"},
		{"flows:\n  - {name: c, src: 10.0.0.1, dst: 10.0.0.2, rate: 5Mbps, dport: 70000}\n", "f.yaml:2:65: flows[0].dport: expected an integer from 0 to 65535"},
		{"flows:\n  - {name: d, src: 10.0.0.1, dst: 10.0.0.2}\n", "rate is required"},
	} {
		if _, err := ParseFlowFile("f.yaml", []byte(tc.in), nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want %q", tc.in, err, tc.want)
		}
	}
}

// Finding of the hostile corpus: a flow file of many bad items printed one
// line per item (55 MB for a 2 MB file). The list now stops at a bound.
func TestReliability_FlowFileErrorsAreBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("flows:\n")
	for i := range 20000 {
		fmt.Fprintf(&b, "  - {name: f%d, src: x, dst: y, rate: 1Mbps}\n", i)
	}
	_, err := ParseFlowFile("f.yaml", []byte(b.String()), nil)
	if err == nil {
		t.Fatal("accepted")
	}
	if n := strings.Count(err.Error(), "\n"); n > 250 {
		t.Errorf("%d error lines for 20,000 bad flows", n)
	}
}

func TestFlowFileHostsConnectionsSchedule(t *testing.T) {
	tp, err := topo.Load("../../topo/examples/fabric.yaml")
	if err != nil {
		t.Fatal(err)
	}
	src := `flows:
  - {name: web, src: h1, dst: h3, proto: tcp, sport: 40000, dport: 5001, rate: 60Mbps, connections: 3,
     schedule: [{at: 5s, rate: 30Mbps}, {at: 10s, rate: 0bps}]}
  - {name: v6, src: h2, dst: h4, ipv6: true, rate: 1Mbps}
  - {name: mixed, switch: leaf2, src: h1, dst: 10.0.2.4, ingress_port: 3, rate: 1Mbps}
`
	ff, err := ParseFlowFile("f.yaml", []byte(src), tp)
	if err != nil {
		t.Fatal(err)
	}
	if len(ff) != 5 {
		t.Fatalf("%d flows, want 3 connections + 2", len(ff))
	}
	for i, f := range ff[:3] {
		want := Flow{Name: fmt.Sprintf("web#%d", i+1), SrcIP: netip.MustParseAddr("10.0.1.1"), DstIP: netip.MustParseAddr("10.0.2.3"), Proto: 6,
			SrcPort: uint16(40000 + i), DstPort: 5001, IngressPort: 1, RateBps: 20e6,
			Schedule: []RateStep{{At: 5 * time.Second, RateBps: 10e6}, {At: 10 * time.Second, RateBps: 0}}}
		if f.Switch != "leaf1" || !reflect.DeepEqual(f.Flow, want) {
			t.Errorf("connection %d: %s %+v, want leaf1 %+v", i, f.Switch, f.Flow, want)
		}
	}
	if v6 := ff[3]; v6.Switch != "leaf1" || v6.Flow.IngressPort != 2 || v6.Flow.SrcIP != netip.MustParseAddr("2001:db8:1::2") || v6.Flow.DstIP != netip.MustParseAddr("2001:db8:2::4") {
		t.Errorf("ipv6 host flow: %s %+v", v6.Switch, v6.Flow)
	}
	if m := ff[4]; m.Switch != "leaf2" || m.Flow.IngressPort != 3 {
		t.Errorf("explicit switch and port: %s %+v", m.Switch, m.Flow)
	}
	for _, tc := range []struct{ in, want string }{
		{"flows:\n  - {name: a, src: h9, dst: h3, rate: 1Mbps}\n", `f.yaml:2:5: flows[0]: flow "a": src: "h9" is neither an address nor a host of the topology`},
		{"flows:\n  - {name: a, src: h1, dst: h3, rate: 1Mbps, connections: 5000}\n", "connections 5000: want 1..1024"},
		{"flows:\n  - {name: a, src: h1, dst: h3, rate: 1Mbps, schedule: [{at: 2s, rate: 1Mbps}, {at: 1s, rate: 2Mbps}]}\n", "schedule[1].at 1s: not after 2s"},
		{"flows:\n  - {name: a, src: h1, dst: h3, rate: 1Mbps, schedule: [{at: soon, rate: 1Mbps}]}\n", `schedule[0].at "soon": want a duration`},
		{"flows:\n  - {name: a, src: h1, dst: h3, rate: 1Mbps, schedule: [{at: 1s, rate: 10mbps}]}\n", "schedule[0].rate:"},
		{"flows:\n  - {name: a, src: h1, dst: h3, rate: 1Mbps, schedule: [{at: 1s}]}\n", "schedule[0]: rate is required"},
		{"flows:\n  - {name: a, src: h1, dst: h3, rate: 1Mbps, sport: 65535, connections: 2}\n", "would pass 65535"},
	} {
		if _, err := ParseFlowFile("f.yaml", []byte(tc.in), tp); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want %q", tc.in, err, tc.want)
		}
	}
	if _, err := ParseFlowFile("f.yaml", []byte("flows:\n  - {name: a, src: h1, dst: h3, rate: 1Mbps}\n"), nil); err == nil || !strings.Contains(err.Error(), "host names need the topology") {
		t.Errorf("host name without a topology: %v", err)
	}
}

// A schedule changes the offered rate at its model times, whether the
// clock moves in small ticks or one step across several changes.
func TestScheduleChangesTheOfferedRate(t *testing.T) {
	flow := Flow{Name: "s", SrcIP: netip.MustParseAddr("10.0.0.1"), DstIP: netip.MustParseAddr("10.0.0.2"), Proto: 17, RateBps: 1.2e6, // 100 packets/s of 1500 B
		Schedule: []RateStep{{At: time.Second, RateBps: 2.4e6}, {At: 2 * time.Second, RateBps: 0}, {At: 3 * time.Second, RateBps: 3.6e6}}}
	for _, tick := range []time.Duration{100 * time.Millisecond, 4 * time.Second} {
		sw := New()
		sw.Advance(7 * time.Second) // the schedule counts from SetFlows
		if err := sw.SetFlows([]Flow{flow}); err != nil {
			t.Fatal(err)
		}
		var perSecond []uint64
		var last uint64
		for now := time.Duration(0); now < 4*time.Second; now += tick {
			sw.Advance(tick)
			if tick < time.Second && (now+tick)%time.Second == 0 {
				got := sw.FlowStats()[0].OfferedPackets
				perSecond = append(perSecond, got-last)
				last = got
			}
		}
		if got := sw.FlowStats()[0].OfferedPackets; got != 600 {
			t.Errorf("tick %s: %d packets in 4s, want 100+200+0+300", tick, got)
		}
		if tick < time.Second && fmt.Sprint(perSecond) != "[100 200 0 300]" {
			t.Errorf("tick %s: packets per second %v, want [100 200 0 300]", tick, perSecond)
		}
		if r := sw.FlowStats()[0].Flow.RateBps; r != 3.6e6 {
			t.Errorf("tick %s: current rate %v, want the last step's 3.6e6", tick, r)
		}
	}
	if err := New().SetFlows([]Flow{{SrcIP: flow.SrcIP, DstIP: flow.DstIP, Schedule: []RateStep{{At: time.Second}, {At: time.Second}}}}); err == nil {
		t.Error("a schedule with two steps at the same time was accepted")
	}
}

// TestParseFlowFileBoundsFlows: more flows than the model takes, given as
// list items or through connections, are one positioned error, before the
// items are decoded.
func TestParseFlowFileBoundsFlows(t *testing.T) {
	many := "flows:\n" + strings.Repeat("  - x\n", MaxFlows+1)
	if _, err := ParseFlowFile("f.yaml", []byte(many), nil); err == nil || !strings.Contains(err.Error(), "f.yaml:2:3: flows: 10001 flows; the sim models at most 10000") {
		t.Fatalf("list: got %v", err)
	}
	var b strings.Builder
	b.WriteString("flows:\n")
	for i := 0; i < 11; i++ {
		fmt.Fprintf(&b, "  - {name: f%d, src: 10.0.0.1, dst: 10.0.0.2, proto: udp, sport: 1000, dport: 53, ingress_port: 1, rate: 1Mbps, connections: 1000}\n", i)
	}
	if _, err := ParseFlowFile("f.yaml", []byte(b.String()), nil); err == nil || !strings.Contains(err.Error(), "f.yaml:12:5: flows[10]: with its connections, more than 10000 flows") {
		t.Fatalf("connections: got %v", err)
	}
}
