package controlplane

import (
	"bytes"
	"testing"

	p4configv1 "github.com/p4lang/p4runtime/go/p4/config/v1"
)

func TestPackTofinoByHand(t *testing.T) {
	got, err := PackTofino("qos", []byte{0xAA, 0xBB}, []byte("{}"))
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
	name, bin, ctx, err := UnpackTofino(got)
	if err != nil || name != "qos" || !bytes.Equal(bin, []byte{0xAA, 0xBB}) || string(ctx) != "{}" {
		t.Fatalf("unpack = %q % x %q %v", name, bin, ctx, err)
	}
}

func TestUnpackTofinoRejectsMalformed(t *testing.T) {
	for name, b := range map[string][]byte{
		"empty":          nil,
		"short length":   {1, 0},
		"overlong field": {9, 0, 0, 0, 'x'},
		"trailing":       append(mustPack(t), 0),
		"huge length":    {0xff, 0xff, 0xff, 0xff},
	} {
		if _, _, _, err := UnpackTofino(b); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func mustPack(t *testing.T) []byte {
	b, err := PackTofino("p", []byte{1}, []byte{2})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func FuzzUnpackTofino(f *testing.F) {
	f.Add([]byte{3, 0, 0, 0, 'q', 'o', 's', 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		name, bin, ctx, err := UnpackTofino(b)
		if err != nil {
			return
		}
		re, err := PackTofino(name, bin, ctx)
		if err != nil || !bytes.Equal(re, b) {
			t.Fatalf("round trip changed the bytes")
		}
	})
}

func TestPipelineCookie(t *testing.T) {
	info := &p4configv1.P4Info{PkgInfo: &p4configv1.PkgInfo{Name: "qos"}}
	a, err := NewPipeline(info, BMv2Target{JSON: []byte(`{"a":1}`)})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewPipeline(info, BMv2Target{JSON: []byte(`{"a":1}`)})
	c, _ := NewPipeline(info, BMv2Target{JSON: []byte(`{"a":2}`)})
	d, _ := NewPipeline(&p4configv1.P4Info{PkgInfo: &p4configv1.PkgInfo{Name: "other"}}, BMv2Target{JSON: []byte(`{"a":1}`)})
	if a.Cookie != b.Cookie {
		t.Error("same pipeline, different cookies")
	}
	if a.Cookie == c.Cookie || a.Cookie == d.Cookie {
		t.Error("a different device config or P4Info must change the cookie")
	}
	if _, err := NewPipeline(info, BMv2Target{}); err == nil {
		t.Error("empty BMv2 JSON accepted")
	}
	if _, err := NewPipeline(info, TofinoTarget{ProgramName: "qos"}); err == nil {
		t.Error("Tofino without binary accepted")
	}
}

func TestEnsurePipelineSkipsWhenCookieMatches(t *testing.T) {
	f, addr := startFake(t)
	ctx := testCtx(t)
	s := dial(t, addr, ElectionID{Low: 1})
	if err := s.WaitPrimary(ctx); err != nil {
		t.Fatal(err)
	}
	p, err := NewPipeline(&p4configv1.P4Info{PkgInfo: &p4configv1.PkgInfo{Name: "qos"}}, SimTarget{})
	if err != nil {
		t.Fatal(err)
	}
	for i, wantPushed := range []bool{true, false, false} {
		pushed, err := s.EnsurePipeline(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if pushed != wantPushed {
			t.Errorf("call %d: pushed = %v, want %v", i, pushed, wantPushed)
		}
	}
	if _, _, pushes := f.snapshot(); pushes != 1 {
		t.Errorf("%d pushes, want 1", pushes)
	}
	p2, _ := NewPipeline(&p4configv1.P4Info{PkgInfo: &p4configv1.PkgInfo{Name: "qos2"}}, SimTarget{})
	if pushed, err := s.EnsurePipeline(ctx, p2); err != nil || !pushed {
		t.Errorf("new pipeline: pushed=%v err=%v, want a push", pushed, err)
	}
}
