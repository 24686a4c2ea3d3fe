package tofinomodel

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"

	"github.com/p4qos/p4qos/tables"
	"github.com/p4qos/p4qos/tests/internal/bmv2env"
)

func TestPortMapJSON(t *testing.T) {
	b, err := PortMapJSON(3)
	if err != nil {
		t.Fatal(err)
	}
	// Decoded as the model's loader reads it: an object with a PortToIf
	// array of {device_port, if}.
	var got struct {
		PortToIf []struct {
			DevicePort int    `json:"device_port"`
			If         string `json:"if"`
		}
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := []string{"1 sw1", "2 sw2", "3 sw3"}
	var have []string
	for _, e := range got.PortToIf {
		have = append(have, fmt.Sprintf("%d %s", e.DevicePort, e.If))
	}
	if !reflect.DeepEqual(have, want) {
		t.Errorf("port map %v, want %v\n%s", have, want, b)
	}
	for _, n := range []int{0, 64} {
		if _, err := PortMapJSON(n); err == nil {
			t.Errorf("PortMapJSON(%d): no error", n)
		}
	}
}

// TestSwitchdConfJSON checks the keys bf_switchd's switch_config.c reads
// (and asserts on): chip_list[].instance and chip_family, and a
// p4_programs array, here empty, in every p4_devices entry.
func TestSwitchdConfJSON(t *testing.T) {
	b, err := SwitchdConfJSON()
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		ChipList []struct {
			Instance   *int   `json:"instance"`
			ChipFamily string `json:"chip_family"`
		} `json:"chip_list"`
		P4Devices []struct {
			DeviceID   *int               `json:"device-id"`
			P4Programs *[]json.RawMessage `json:"p4_programs"`
		} `json:"p4_devices"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.ChipList) != 1 || got.ChipList[0].Instance == nil || *got.ChipList[0].Instance != 0 || got.ChipList[0].ChipFamily != "tofino" {
		t.Errorf("chip_list: %s", b)
	}
	if len(got.P4Devices) != 1 || got.P4Devices[0].DeviceID == nil || *got.P4Devices[0].DeviceID != DeviceID ||
		got.P4Devices[0].P4Programs == nil || len(*got.P4Devices[0].P4Programs) != 0 {
		t.Errorf("p4_devices: %s", b)
	}
}

func TestFindSDE(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("P4QOS_SDE", dir)
	_, err := FindSDE()
	if err == nil || !strings.Contains(err.Error(), "tofino-model") || !strings.Contains(err.Error(), "bf_switchd") {
		t.Errorf("empty SDE: %v, want both executables named", err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"tofino-model", "bf_switchd"} {
		if err := os.WriteFile(filepath.Join(dir, "bin", name), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	s, err := FindSDE()
	if err != nil || s.Dir != dir {
		t.Errorf("FindSDE = %+v, %v; want %s", s, err, dir)
	}
	// A bf_switchd whose --help does not offer --p4rt-server was built
	// without P4RT.
	if s.HasP4RT() {
		t.Error("a bf_switchd that prints nothing has a P4Runtime server")
	}
	env := strings.Join(s.Env(), "\n")
	if !strings.Contains(env, "SDE_INSTALL="+dir) || !strings.Contains(env, "LD_LIBRARY_PATH="+filepath.Join(dir, "lib")) {
		t.Errorf("environment lacks SDE_INSTALL or the SDE's lib:\n%s", env)
	}
}

// TestDriverPacksCommittedPipeline decodes the device config Push sends,
// field by field, and compares each with the committed file.
func TestDriverPacksCommittedPipeline(t *testing.T) {
	RequirePipeline(t)
	schema, err := tables.Load(P4Info)
	if err != nil {
		t.Fatal(err)
	}
	d, err := Driver(schema)
	if err != nil {
		t.Fatal(err)
	}
	dc, err := d.DeviceConfig()
	if err != nil {
		t.Fatal(err)
	}
	var fields [][]byte
	for b := dc; len(b) > 0; {
		if len(b) < 4 {
			t.Fatalf("truncated length after %d fields", len(fields))
		}
		n := binary.LittleEndian.Uint32(b)
		if uint64(n) > uint64(len(b)-4) {
			t.Fatalf("field %d claims %d bytes, %d left", len(fields), n, len(b)-4)
		}
		fields, b = append(fields, b[4:4+n]), b[4+n:]
	}
	want := [][]byte{[]byte(Program), readFile(t, Binary), readFile(t, Context), []byte("pipe"), readFile(t, BfRt)}
	if len(fields) != len(want) {
		t.Fatalf("%d fields, want %d", len(fields), len(want))
	}
	for i := range want {
		if string(fields[i]) != string(want[i]) {
			t.Errorf("field %d (%d bytes) differs from the committed one (%d bytes)", i, len(fields[i]), len(want[i]))
		}
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestHarness starts tofino-model and bf_switchd, pushes the committed
// pipeline through a p4qos session, becomes primary itself afterwards,
// and checks that stopping kills both processes by pid. It skips without
// the SDE.
func TestHarness(t *testing.T) {
	RequirePipeline(t)
	s := Start(t, WithPorts(2))
	schema, err := tables.Load(P4Info)
	if err != nil {
		t.Fatal(err)
	}
	s.Push(t, schema)
	bmv2env.BecomePrimary(t, s.Conn(t), DeviceID, &p4v1.Uint128{Low: 1})
	if !s.Alive() {
		t.Fatalf("a process exited:\n%s", s.Log())
	}
	pids := []int{s.model.Pid(), s.switchd.Pid()}
	s.Stop()
	for _, pid := range pids {
		if err := syscall.Kill(pid, 0); err == nil {
			t.Errorf("pid %d still runs after Stop", pid)
		}
	}
}
