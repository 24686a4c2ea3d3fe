package tofino

import (
	"bytes"
	"testing"
)

func TestPackByHand(t *testing.T) {
	got, err := Pack("qos", []byte{0xAA, 0xBB}, []byte("{}"))
	if err != nil {
		t.Fatal(err)
	}
	// Each field: uint32 little-endian length, then the bytes.
	want := []byte{
		3, 0, 0, 0, 'q', 'o', 's',
		2, 0, 0, 0, 0xAA, 0xBB,
		2, 0, 0, 0, '{', '}',
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("got % x\nwant % x", got, want)
	}
	name, bin, ctx, err := Unpack(got)
	if err != nil || name != "qos" || !bytes.Equal(bin, []byte{0xAA, 0xBB}) || string(ctx) != "{}" {
		t.Fatalf("unpack = %q % x %q %v", name, bin, ctx, err)
	}
}

func TestUnpackRejectsMalformed(t *testing.T) {
	for name, b := range map[string][]byte{
		"empty":          nil,
		"short length":   {1, 0},
		"overlong field": {9, 0, 0, 0, 'x'},
		"trailing":       append(mustPack(t), 0),
		"huge length":    {0xff, 0xff, 0xff, 0xff},
	} {
		if _, _, _, err := Unpack(b); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func mustPack(t *testing.T) []byte {
	b, err := Pack("p", []byte{1}, []byte{2})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func FuzzUnpack(f *testing.F) {
	f.Add([]byte{3, 0, 0, 0, 'q', 'o', 's', 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		name, bin, ctx, err := Unpack(b)
		if err != nil {
			return
		}
		re, err := Pack(name, bin, ctx)
		if err != nil || !bytes.Equal(re, b) {
			t.Fatalf("round trip changed the bytes")
		}
	})
}

// TestPackPipelineByHand checks the five-field packing that open-p4studio's
// bf_switchd P4Runtime server reads (bf-drivers src/pi/pi_imp.c): program
// name, tofino.bin, context.json, pipeline name, bf-rt.json, each after a
// 4-byte little-endian length.
func TestPackPipelineByHand(t *testing.T) {
	got, err := PackPipeline("qos", []byte{0xAA}, []byte("{}"), "pipe", []byte("[]"))
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{
		3, 0, 0, 0, 'q', 'o', 's',
		1, 0, 0, 0, 0xAA,
		2, 0, 0, 0, '{', '}',
		4, 0, 0, 0, 'p', 'i', 'p', 'e',
		2, 0, 0, 0, '[', ']',
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("got % x\nwant % x", got, want)
	}
	// Pack's three fields are a prefix of it: a server that reads only
	// those (PI before the bf-rt.json extension) ignores the rest.
	three, err := Pack("qos", []byte{0xAA}, []byte("{}"))
	if err != nil || !bytes.HasPrefix(got, three) {
		t.Errorf("Pack's fields % x (%v) are not a prefix of % x", three, err, got)
	}
}

func TestPackPipelineRejects(t *testing.T) {
	long := string(bytes.Repeat([]byte{'x'}, 101))
	for _, tc := range []struct{ name, program, pipeline string }{
		{"program name over 100 bytes", long, "pipe"},
		{"pipeline name over 100 bytes", "qos", long},
		{"no pipeline name", "qos", ""},
	} {
		if _, err := PackPipeline(tc.program, []byte{1}, []byte{2}, tc.pipeline, []byte{3}); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}
