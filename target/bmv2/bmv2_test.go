package bmv2

import (
	"testing"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"

	"github.com/p4qos/p4qos/target"
)

func TestSameMeterAllowsBMv2Rounding(t *testing.T) {
	w := &p4v1.MeterConfig{Cir: 125000, Cburst: 10000, Pir: 250000, Pburst: 20000}
	for _, tc := range []struct {
		read *p4v1.MeterConfig
		same bool
	}{
		{&p4v1.MeterConfig{Cir: 125000, Cburst: 10000, Pir: 250000, Pburst: 20000}, true},
		{&p4v1.MeterConfig{Cir: 124999, Cburst: 10000, Pir: 250001, Pburst: 20000}, true}, // PI's truncation
		{&p4v1.MeterConfig{Cir: 124998, Cburst: 10000, Pir: 250000, Pburst: 20000}, false},
		{&p4v1.MeterConfig{Cir: 125000, Cburst: 10001, Pir: 250000, Pburst: 20000}, false}, // bursts are exact
	} {
		if got := (&Driver{}).SameMeter(tc.read, w); got != tc.same {
			t.Errorf("SameMeter(%v) = %v, want %v", tc.read, got, tc.same)
		}
	}
}

func TestQueuesAddress(t *testing.T) {
	d := &Driver{}
	for _, tc := range []struct {
		sw   target.Switch
		want string
	}{
		{target.Switch{Address: "10.1.2.3:9559"}, "10.1.2.3:9090"},
		{target.Switch{Address: "[::1]:9559"}, "[::1]:9090"},
		{target.Switch{Address: "127.0.0.1:9559", QueueAddress: "127.0.0.1:9091"}, "127.0.0.1:9091"},
	} {
		q, ok := d.Queues(tc.sw).(*target.ThriftQueues)
		if !ok || q.Addr != tc.want {
			t.Errorf("%+v: queue interface %+v, want %s", tc.sw, q, tc.want)
		}
	}
	if d.Queues(target.Switch{Address: "no-port"}) != nil {
		t.Error("an address without a port got a queue interface")
	}
	if _, err := New(nil, []byte("{}")); err == nil {
		t.Error("New without a P4Info")
	}
}
