package tofino

import (
	"bytes"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/p4qos/p4qos/tables"
)

// TestStratumConfigByHand pins the encoding against the protobuf wire
// format written out by hand from bf.proto's field numbers.
func TestStratumConfigByHand(t *testing.T) {
	c := &StratumConfig{P4Name: "qos", BfRuntimeInfo: []byte("{}"), Profiles: []Profile{
		{Name: "pipe", Context: []byte("C"), Binary: []byte{0xAA}, PipeScope: []uint32{0, 2}},
	}}
	want := "0a03" + hex.EncodeToString([]byte("qos")) + // 1: p4_name
		"12027b7d" + // 2: bfruntime_info "{}"
		"1a" + "10" + // 3: profiles, 16 bytes
		"0a04" + hex.EncodeToString([]byte("pipe")) + // 1: profile_name
		"120143" + // 2: context "C"
		"1a01aa" + // 3: binary
		"22020002" // 4: pipe_scope packed [0, 2]
	if got := hex.EncodeToString(c.Marshal()); got != want {
		t.Fatalf("encoding\n got %s\nwant %s", got, want)
	}
}

func TestStratumConfigRoundTrip(t *testing.T) {
	c := &StratumConfig{P4Name: "qos", BfRuntimeInfo: []byte(`{"tables":[]}`), Profiles: []Profile{
		{Name: "pipe", Context: []byte(`{"ctx":1}`), Binary: bytes.Repeat([]byte{7}, 300), PipeScope: AllPipes},
		{Name: "other", Binary: []byte{1}},
	}}
	back, err := UnmarshalStratumConfig(c.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, c) {
		t.Errorf("round trip\n got %+v\nwant %+v", back, c)
	}
	// An unpacked pipe_scope (allowed by proto3 parsers) and an unknown
	// field decode too.
	raw := append(c.Marshal()[:0:0], 0x1a, 0x04, 0x20, 0x01, 0x20, 0x03, 0x78, 0x05)
	back, err = UnmarshalStratumConfig(raw)
	if err != nil || len(back.Profiles) != 1 || !reflect.DeepEqual(back.Profiles[0].PipeScope, []uint32{1, 3}) {
		t.Errorf("unpacked scope: %+v %v", back, err)
	}
	for _, bad := range [][]byte{{0x0a, 0x05, 'q'}, {0x1a, 0x02, 0x22, 0x05}, {0xff}} {
		if _, err := UnmarshalStratumConfig(bad); err == nil {
			t.Errorf("% x decoded", bad)
		}
	}
}

func FuzzUnmarshalStratumConfig(f *testing.F) {
	f.Add((&StratumConfig{P4Name: "q", Profiles: []Profile{{Name: "p", PipeScope: AllPipes}}}).Marshal())
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := UnmarshalStratumConfig(b)
		if err != nil {
			return
		}
		again, err := UnmarshalStratumConfig(c.Marshal())
		if err != nil || !reflect.DeepEqual(normalize(again), normalize(c)) {
			t.Fatalf("re-encoding changed the config: %v", err)
		}
	})
}

// normalize makes empty and nil byte slices alike (proto3 does not tell
// them apart).
func normalize(c *StratumConfig) *StratumConfig {
	n := *c
	if len(n.BfRuntimeInfo) == 0 {
		n.BfRuntimeInfo = nil
	}
	n.Profiles = nil
	for _, p := range c.Profiles {
		if len(p.Context) == 0 {
			p.Context = nil
		}
		if len(p.Binary) == 0 {
			p.Binary = nil
		}
		if len(p.PipeScope) == 0 {
			p.PipeScope = nil
		}
		n.Profiles = append(n.Profiles, p)
	}
	return &n
}

// With Stratum's bf.proto and protoc on the machine (STRATUM_SRC, default
// /opt/p4/src/stratum, and the p4runtime protos it imports), protoc decodes
// the driver's device config as a BfPipelineConfig.
func TestStratumConfigDecodesWithStratumProto(t *testing.T) {
	protoc, err := exec.LookPath("protoc")
	if err != nil {
		t.Skip("protoc is missing: apt-get install protobuf-compiler")
	}
	src := os.Getenv("STRATUM_SRC")
	if src == "" {
		src = "/opt/p4/src/stratum"
	}
	proto := filepath.Join(src, "stratum/hal/lib/barefoot/bf.proto")
	if _, err := os.Stat(proto); err != nil {
		t.Skipf("Stratum's bf.proto not found at %s (set STRATUM_SRC to a stratum checkout)", proto)
	}
	p4rt := os.Getenv("P4RUNTIME_PROTO")
	if p4rt == "" {
		p4rt = "/opt/p4/src/PI/proto/p4runtime/proto"
	}
	if _, err := os.Stat(filepath.Join(p4rt, "p4/config/v1/p4info.proto")); err != nil {
		t.Skipf("p4runtime protos not found at %s (set P4RUNTIME_PROTO)", p4rt)
	}
	s, err := tables.Load(filepath.Join("..", "..", "p4src", "build", "qos.p4info.txtpb"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(s, "qos", []byte("BIN"), []byte(`{"c":1}`), WithStratumBfrt([]byte(`{"b":2}`)))
	if err != nil {
		t.Fatal(err)
	}
	dc, err := d.DeviceConfig()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(protoc, "-I", src, "-I", p4rt, "--decode=stratum.hal.barefoot.BfPipelineConfig", proto)
	cmd.Stdin = bytes.NewReader(dc)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("protoc: %v\n%s", err, out)
	}
	for _, want := range []string{`p4_name: "qos"`, `bfruntime_info: "{\"b\":2}"`, `profile_name: "pipe"`, `binary: "BIN"`, `pipe_scope: 3`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("protoc's decoding lacks %s:\n%s", want, out)
		}
	}
}

// TestPIBfrtDeviceConfig checks that the pi-bfrt format packs with
// PackPipeline, and that it refuses to go without bf-rt.json.
func TestPIBfrtDeviceConfig(t *testing.T) {
	s, err := tables.Load(filepath.Join("..", "..", "p4src", "build", "qos.p4info.txtpb"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(s, "qos", []byte("BIN"), []byte(`{"c":1}`), WithPIBfrt([]byte(`{"b":2}`)))
	if err != nil {
		t.Fatal(err)
	}
	if d.Format() != FormatPIBfrt {
		t.Errorf("format %q, want %q", d.Format(), FormatPIBfrt)
	}
	got, err := d.DeviceConfig()
	if err != nil {
		t.Fatal(err)
	}
	want, err := PackPipeline("qos", []byte("BIN"), []byte(`{"c":1}`), "pipe", []byte(`{"b":2}`))
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("device config % x (%v), want % x", got, err, want)
	}
	if _, err := New(s, "qos", []byte("BIN"), []byte(`{"c":1}`), WithPIBfrt(nil)); err == nil {
		t.Error("pi-bfrt without bf-rt.json: no error")
	}
}
