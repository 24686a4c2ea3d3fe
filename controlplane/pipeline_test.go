package controlplane

import (
	"errors"
	"testing"

	p4configv1 "github.com/p4lang/p4runtime/go/p4/config/v1"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/protobuf/proto"
)

// testTarget is a target whose device config is given bytes (none: like the
// embedded sim) and whose meters read back exactly.
type testTarget struct{ config []byte }

func (testTarget) Name() string { return "test" }
func (t testTarget) DeviceConfig() ([]byte, error) {
	if t.config != nil && len(t.config) == 0 {
		return nil, errors.New("empty device config")
	}
	return t.config, nil
}
func (testTarget) SameMeter(read, written *p4v1.MeterConfig) bool { return proto.Equal(read, written) }

// SimTarget is the embedded switch's packing: no device config.
var SimTarget = func() testTarget { return testTarget{} }

func TestPipelineCookie(t *testing.T) {
	info := &p4configv1.P4Info{PkgInfo: &p4configv1.PkgInfo{Name: "qos"}}
	a, err := NewPipeline(info, testTarget{config: []byte(`{"a":1}`)})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewPipeline(info, testTarget{config: []byte(`{"a":1}`)})
	c, _ := NewPipeline(info, testTarget{config: []byte(`{"a":2}`)})
	d, _ := NewPipeline(&p4configv1.P4Info{PkgInfo: &p4configv1.PkgInfo{Name: "other"}}, testTarget{config: []byte(`{"a":1}`)})
	if a.Cookie != b.Cookie {
		t.Error("same pipeline, different cookies")
	}
	if a.Cookie == c.Cookie || a.Cookie == d.Cookie {
		t.Error("a different device config or P4Info must change the cookie")
	}
	if _, err := NewPipeline(info, testTarget{config: []byte{}}); err == nil {
		t.Error("a target's packing error was ignored")
	}
	if _, err := NewPipeline(info, nil); err == nil {
		t.Error("nil target accepted")
	}
}

func TestEnsurePipelineSkipsWhenCookieMatches(t *testing.T) {
	f, addr := startFake(t)
	ctx := testCtx(t)
	s := dial(t, addr, ElectionID{Low: 1})
	if err := s.WaitPrimary(ctx); err != nil {
		t.Fatal(err)
	}
	p, err := NewPipeline(&p4configv1.P4Info{PkgInfo: &p4configv1.PkgInfo{Name: "qos"}}, SimTarget())
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
	p2, _ := NewPipeline(&p4configv1.P4Info{PkgInfo: &p4configv1.PkgInfo{Name: "qos2"}}, SimTarget())
	if pushed, err := s.EnsurePipeline(ctx, p2); err != nil || !pushed {
		t.Errorf("new pipeline: pushed=%v err=%v, want a push", pushed, err)
	}
}
