package controller

import (
	"testing"

	"github.com/p4qos/p4qos/target/tofino"
)

// Tofino switches get their device config in the packing their config
// asks for (PI by default, stratum_bfrt's BfPipelineConfig per switch); the
// other switches keep theirs, and an explicit device id 0 is kept.
func TestFabricTofinoPackings(t *testing.T) {
	_, entries := fabricSims(t)
	cfg, dir := testConfig(t, entries)
	cfg.TofinoBin = writeFile(t, dir, "tofino.bin", "BIN")
	cfg.TofinoContext = writeFile(t, dir, "context.json", "{}")
	cfg.TofinoBfrt = writeFile(t, dir, "bf-rt.json", `{"tables":[]}`)
	cfg.TofinoProgram = "qos_tna"
	zero := uint64(0)
	cfg.Switches[0].DeviceID = &zero
	cfg.Switches[2].Target = "tofino" // spine1: PI packing
	cfg.Switches[3].Target, cfg.Switches[3].DeviceConfigFormat = "tofino", "stratum-bfrt"
	f, err := LoadFabric(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	dc := func(sw string) []byte {
		b, err := f.Driver(sw).DeviceConfig()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	name, bin, ctx, err := tofino.Unpack(dc("spine1"))
	if err != nil || name != "qos_tna" || string(bin) != "BIN" || string(ctx) != "{}" {
		t.Errorf("spine1 (pi) unpacks to %q %q %q %v", name, bin, ctx, err)
	}
	sc, err := tofino.UnmarshalStratumConfig(dc("spine2"))
	if err != nil || sc.P4Name != "qos_tna" || string(sc.BfRuntimeInfo) != `{"tables":[]}` || len(sc.Profiles) != 1 || string(sc.Profiles[0].Binary) != "BIN" {
		t.Errorf("spine2 (stratum-bfrt) decodes to %+v %v", sc, err)
	}
	if len(dc("leaf1")) != 0 || f.Driver("leaf1").Name() != "sim" {
		t.Errorf("leaf1 (sim) has a device config or driver %s", f.Driver("leaf1").Name())
	}
	want := map[string]uint64{"leaf1": 0, "leaf2": 2, "spine1": 3, "spine2": 4}
	for _, sw := range f.Switches() {
		if sw.DeviceID != want[sw.Name] {
			t.Errorf("%s: device id %d, want %d", sw.Name, sw.DeviceID, want[sw.Name])
		}
	}
	cfg.Switches[3].DeviceConfigFormat, cfg.TofinoBfrt = "stratum-bfrt", ""
	if _, err := LoadFabric(&cfg); err == nil || !contains(err.Error(), "tofino-bfrt") {
		t.Errorf("stratum-bfrt without bf-rt.json: %v", err)
	}
}
