package sim

import (
	"testing"

	p4configv1 "github.com/p4lang/p4runtime/go/p4/config/v1"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

func (h *harness) setFPC(action p4v1.SetForwardingPipelineConfigRequest_Action, cfg *p4v1.ForwardingPipelineConfig, low uint64) error {
	_, err := h.c.SetForwardingPipelineConfig(h.ctx, &p4v1.SetForwardingPipelineConfigRequest{DeviceId: 1, ElectionId: eid(low), Action: action, Config: cfg})
	return err
}

func (h *harness) getFPC(rt p4v1.GetForwardingPipelineConfigRequest_ResponseType) *p4v1.ForwardingPipelineConfig {
	h.t.Helper()
	r, err := h.c.GetForwardingPipelineConfig(h.ctx, &p4v1.GetForwardingPipelineConfigRequest{DeviceId: 1, ResponseType: rt})
	if err != nil {
		h.t.Fatalf("GetForwardingPipelineConfig: %v", err)
	}
	return r.GetConfig()
}

func TestSetForwardingPipelineConfigActions(t *testing.T) {
	info := loadP4Info(t, "testdata/generic.p4info.txtpb")
	cfg := &p4v1.ForwardingPipelineConfig{P4Info: info, P4DeviceConfig: []byte("bmv2 json"), Cookie: &p4v1.ForwardingPipelineConfig_Cookie{Cookie: 0xfeed}}
	bad := &p4v1.ForwardingPipelineConfig{P4Info: &p4configv1.P4Info{Tables: []*p4configv1.Table{{Preamble: &p4configv1.Preamble{Id: 5, Name: "t"}, ActionRefs: []*p4configv1.ActionRef{{Id: 99}}}}}}
	const (
		verify    = p4v1.SetForwardingPipelineConfigRequest_VERIFY
		save      = p4v1.SetForwardingPipelineConfigRequest_VERIFY_AND_SAVE
		vcommit   = p4v1.SetForwardingPipelineConfigRequest_VERIFY_AND_COMMIT
		commit    = p4v1.SetForwardingPipelineConfigRequest_COMMIT
		reconcile = p4v1.SetForwardingPipelineConfigRequest_RECONCILE_AND_COMMIT
	)

	h := newHarness(t)
	if got := status.Code(h.setFPC(vcommit, cfg, 1)); got != codes.PermissionDenied {
		t.Errorf("SetFPC without being primary: %v, want PERMISSION_DENIED (§14)", got)
	}
	h.primary(1)
	if c := h.getFPC(p4v1.GetForwardingPipelineConfigRequest_ALL); c != nil {
		t.Errorf("config before any Set: %v, want unset (§15)", c)
	}
	checks := []struct {
		name   string
		action p4v1.SetForwardingPipelineConfigRequest_Action
		cfg    *p4v1.ForwardingPipelineConfig
		want   codes.Code
	}{
		{"VERIFY without config", verify, nil, codes.InvalidArgument},
		{"VERIFY of an inconsistent P4Info", verify, bad, codes.InvalidArgument},
		{"VERIFY ok", verify, cfg, codes.OK},
		{"COMMIT with nothing saved", commit, nil, codes.NotFound},
		{"UNSPECIFIED action", p4v1.SetForwardingPipelineConfigRequest_UNSPECIFIED, cfg, codes.InvalidArgument},
	}
	for _, c := range checks {
		if got := status.Code(h.setFPC(c.action, c.cfg, 1)); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	if c := h.getFPC(p4v1.GetForwardingPipelineConfigRequest_ALL); c != nil {
		t.Errorf("VERIFY installed a config: %v", c)
	}

	// VERIFY_AND_SAVE then COMMIT.
	if err := h.setFPC(save, cfg, 1); err != nil {
		t.Fatalf("VERIFY_AND_SAVE: %v", err)
	}
	if got := status.Code(h.setFPC(commit, cfg, 1)); got != codes.InvalidArgument {
		t.Errorf("COMMIT with a config: %v, want INVALID_ARGUMENT", got)
	}
	h.mustWrite(1, insert(exactEntry(1))) // writes refer to the saved config
	if err := h.setFPC(commit, nil, 1); err != nil {
		t.Fatalf("COMMIT: %v", err)
	}
	if n := len(h.mustRead(tableEntity(&p4v1.TableEntry{}))); n != 1 {
		t.Errorf("entries after COMMIT: %d, want the 1 written after SAVE", n)
	}

	// Cookie round trip per response type (§15).
	types := []struct {
		rt                p4v1.GetForwardingPipelineConfigRequest_ResponseType
		p4info, deviceCfg bool
	}{
		{p4v1.GetForwardingPipelineConfigRequest_ALL, true, true},
		{p4v1.GetForwardingPipelineConfigRequest_COOKIE_ONLY, false, false},
		{p4v1.GetForwardingPipelineConfigRequest_P4INFO_AND_COOKIE, true, false},
		{p4v1.GetForwardingPipelineConfigRequest_DEVICE_CONFIG_AND_COOKIE, false, true},
	}
	for _, tt := range types {
		c := h.getFPC(tt.rt)
		if c.GetCookie().GetCookie() != 0xfeed {
			t.Errorf("%v: cookie %v", tt.rt, c.GetCookie())
		}
		if (c.GetP4Info() != nil) != tt.p4info || proto.Equal(c.GetP4Info(), info) != tt.p4info {
			t.Errorf("%v: p4info present=%v", tt.rt, c.GetP4Info() != nil)
		}
		if (string(c.GetP4DeviceConfig()) == "bmv2 json") != tt.deviceCfg {
			t.Errorf("%v: device config %q", tt.rt, c.GetP4DeviceConfig())
		}
	}

	// RECONCILE_AND_COMMIT with the same P4Info keeps the state.
	cfg2 := proto.Clone(cfg).(*p4v1.ForwardingPipelineConfig)
	cfg2.Cookie.Cookie = 2
	if err := h.setFPC(reconcile, cfg2, 1); err != nil {
		t.Fatalf("RECONCILE_AND_COMMIT: %v", err)
	}
	if n := len(h.mustRead(tableEntity(&p4v1.TableEntry{}))); n != 1 {
		t.Errorf("entries after reconcile: %d, want 1", n)
	}
	if c := h.getFPC(p4v1.GetForwardingPipelineConfigRequest_COOKIE_ONLY); c.GetCookie().GetCookie() != 2 {
		t.Errorf("cookie after reconcile %v, want 2", c.GetCookie())
	}
	// ...but not into a P4Info that cannot hold it (t_exact renumbered).
	renum := proto.Clone(cfg).(*p4v1.ForwardingPipelineConfig)
	renum.P4Info.Tables[0].Preamble.Id = 150
	renum.P4Info.DirectCounters[0].DirectTableId = 150
	renum.P4Info.DirectMeters[0].DirectTableId = 150
	if got := status.Code(h.setFPC(reconcile, renum, 1)); got != codes.InvalidArgument {
		t.Errorf("RECONCILE into renumbered P4Info: %v, want INVALID_ARGUMENT", got)
	}
	// VERIFY_AND_COMMIT clears the state.
	if err := h.setFPC(vcommit, renum, 1); err != nil {
		t.Fatalf("VERIFY_AND_COMMIT: %v", err)
	}
	if n := len(h.mustRead(tableEntity(&p4v1.TableEntry{}))); n != 0 {
		t.Errorf("entries after VERIFY_AND_COMMIT: %d, want 0", n)
	}
}

func TestCapabilities(t *testing.T) {
	h := newHarness(t, WithDeviceID(3))
	r, err := h.c.Capabilities(h.ctx, &p4v1.CapabilitiesRequest{})
	if err != nil || r.GetP4RuntimeApiVersion() != "1.5.0" {
		t.Errorf("Capabilities: %v %v, want 1.5.0", r, err)
	}
	if _, err := h.c.Capabilities(h.ctx, &p4v1.CapabilitiesRequest{DeviceId: 3}); err != nil {
		t.Errorf("Capabilities for own device: %v", err)
	}
	if _, err := h.c.Capabilities(h.ctx, &p4v1.CapabilitiesRequest{DeviceId: 4}); status.Code(err) != codes.NotFound {
		t.Errorf("Capabilities for another device: %v, want NOT_FOUND (§17)", err)
	}
}

func TestRestart(t *testing.T) {
	h := newHarness(t)
	a := h.primary(50)
	h.setPipeline(loadP4Info(t, "testdata/generic.p4info.txtpb"), 50)
	h.mustWrite(50, insert(exactEntry(1)))

	h.sw.Restart()
	if got := a.ended(); got != codes.Unavailable {
		t.Errorf("stream after restart ended with %v, want UNAVAILABLE", got)
	}
	if c := h.getFPC(p4v1.GetForwardingPipelineConfigRequest_ALL); c != nil {
		t.Errorf("pipeline survived restart: %v", c)
	}
	// §16.2: a full restart resets the election id, so a lower id wins now.
	b := h.primary(1)
	_ = b
	h.setPipeline(loadP4Info(t, "testdata/generic.p4info.txtpb"), 1)
	if n := len(h.mustRead(tableEntity(&p4v1.TableEntry{}))); n != 0 {
		t.Errorf("entries survived restart: %d", n)
	}
}
