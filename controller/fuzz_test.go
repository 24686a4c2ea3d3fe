package controller

import (
	"context"
	"os"
	"testing"
)

// FuzzApplyPolicy feeds policy bytes to a controller's reload path: the
// controller must survive every input, and either reject it with the
// running intent unchanged, or make it the intent.
func FuzzApplyPolicy(f *testing.F) {
	orig := must(os.ReadFile(repoFile(f, "topo/examples/fabric-policy.yaml")))
	for _, seed := range [][]byte{
		orig,
		[]byte("version: 1\nclasses: [{name: x, precedence: 1, phb: AF11, meter: {cir: null}}]\n"),
		[]byte("# only a comment\n"),
		[]byte("~\n"),
		[]byte("version: 1\nclasses: []\n"),
		[]byte("version: 1\nclasses: [{name: a, precedence: 1, phb: EF, match: {protocol: udp, dst_port: 5004}}]\n"),
		[]byte("version: 1\ntenants: [{name: t, weight: .nan, flow_groups: [{name: f, src: h1, dst: h3}]}]\n"),
	} {
		f.Add(seed)
	}
	id := uint64(1)
	entries := []SwitchEntry{}
	for i, n := range fabricSwitches {
		d := id + uint64(i)
		entries = append(entries, SwitchEntry{Name: n, Address: "127.0.0.1:1", DeviceID: &d})
	}
	cfg, _ := testConfig(f, entries)
	c, err := New(context.Background(), cfg)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		before := c.Compiled()
		err := c.ApplyPolicy(context.Background(), data)
		after := c.Compiled()
		if err != nil && after != before {
			t.Fatalf("rejected (%v) but the intent changed", err)
		}
		if err == nil && after == before {
			t.Fatal("accepted but the intent did not change")
		}
	})
}
