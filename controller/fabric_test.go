package controller

import (
	"bytes"
	"context"
	"os"
	"strings"
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
	// pi-bfrt: the PI fields, then the pipeline name and bf-rt.json.
	cfg.Switches[3].DeviceConfigFormat = "pi-bfrt"
	if f, err = LoadFabric(&cfg); err != nil {
		t.Fatal(err)
	}
	if want := must(tofino.PackPipeline("qos_tna", []byte("BIN"), []byte("{}"), "pipe", []byte(`{"tables":[]}`))); !bytes.Equal(dc("spine2"), want) {
		t.Errorf("spine2 (pi-bfrt) packs to % x, want % x", dc("spine2"), want)
	}
	for _, format := range []string{"stratum-bfrt", "pi-bfrt"} {
		cfg.Switches[3].DeviceConfigFormat, cfg.TofinoBfrt = format, ""
		if _, err := LoadFabric(&cfg); err == nil || !contains(err.Error(), "tofino-bfrt") {
			t.Errorf("%s without bf-rt.json: %v", format, err)
		}
	}
}

// A tofino switch with no Tofino paths in the config gets the committed
// bf-p4c outputs of tofino-chip (the binary's embedded copies: the test
// runs outside the repository root), in either packing; the device config
// unpacks to exactly the committed files and packs back to the same bytes,
// the driver runs the Tofino P4Info, and the policy compiles for it.
func TestFabricTofinoCommittedPipeline(t *testing.T) {
	for _, chip := range tofino.Chips {
		t.Run(string(chip), func(t *testing.T) {
			t.Setenv("XDG_CACHE_HOME", t.TempDir()) // the embedded copies go here
			_, entries := fabricSims(t)
			cfg, _ := testConfig(t, entries)
			cfg.TofinoChip = string(chip)
			if problems := cfg.Validate(); len(problems) > 0 {
				t.Fatal(problems)
			}
			cfg.Switches[2].Target = "tofino"
			cfg.Switches[3].Target, cfg.Switches[3].DeviceConfigFormat = "tofino", "stratum-bfrt"
			f, err := LoadFabric(&cfg)
			if err != nil {
				t.Fatal(err)
			}
			files, err := tofino.CommittedFiles(chip)
			if err != nil {
				t.Fatal(err)
			}
			read := func(rel string) []byte { return must(os.ReadFile(repoFile(t, rel))) }
			bin, ctxJSON, bfrt := read(files.Binary), read(files.Context), read(files.BfRt)

			pi := must(f.Driver("spine1").DeviceConfig())
			name, gotBin, gotCtx, err := tofino.Unpack(pi)
			if err != nil || name != tofino.Program || !bytes.Equal(gotBin, bin) || !bytes.Equal(gotCtx, ctxJSON) {
				t.Errorf("pi: %q, %d/%d binary bytes, %d/%d context bytes, %v", name, len(gotBin), len(bin), len(gotCtx), len(ctxJSON), err)
			}
			if re := must(tofino.Pack(name, gotBin, gotCtx)); !bytes.Equal(re, pi) {
				t.Error("pi: packing the unpacked parts gives other bytes")
			}
			sb := must(f.Driver("spine2").DeviceConfig())
			sc, err := tofino.UnmarshalStratumConfig(sb)
			if err != nil || sc.P4Name != tofino.Program || !bytes.Equal(sc.BfRuntimeInfo, bfrt) || len(sc.Profiles) != 1 ||
				!bytes.Equal(sc.Profiles[0].Binary, bin) || !bytes.Equal(sc.Profiles[0].Context, ctxJSON) {
				t.Fatalf("stratum-bfrt: %v", err)
			}
			if !bytes.Equal(sc.Marshal(), sb) {
				t.Error("stratum-bfrt: marshalling the decoded config gives other bytes")
			}
			wantArch := map[tofino.Chip]string{tofino.Tofino1: "tna", tofino.Tofino2: "t2na"}[chip]
			for _, sw := range []string{"spine1", "spine2"} {
				if arch := f.Driver(sw).Schema().P4Info().GetPkgInfo().GetArch(); arch != wantArch {
					t.Errorf("%s: P4Info arch %q, want %q", sw, arch, wantArch)
				}
			}
			c, err := f.Compile(context.Background(), must(os.ReadFile(cfg.Policy)))
			if err != nil {
				t.Fatal(err)
			}
			for _, sw := range []string{"spine1", "spine2", "leaf1"} {
				s := f.Driver(sw).Schema()
				for _, e := range c.Intents[sw].Entities {
					if err := s.ValidateEntity(e); err != nil {
						t.Fatalf("%s: %v", sw, err)
					}
				}
			}
		})
	}
}

// tofino-bin without tofino-context (or the reverse) is refused, as is an
// unknown chip.
func TestConfigTofinoFiles(t *testing.T) {
	cfg, _ := testConfig(t, nil)
	cfg.TofinoBin = "x.bin"
	cfg.TofinoChip = "tofino3"
	got := strings.Join(cfg.Validate(), "\n")
	for _, want := range []string{"tofino-bin and tofino-context go together", `tofino-chip: must be tofino or tofino2, got "tofino3"`} {
		if !strings.Contains(got, want) {
			t.Errorf("Validate lacks %q:\n%s", want, got)
		}
	}
}
