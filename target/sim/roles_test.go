package sim

import (
	"fmt"
	"strings"
	"testing"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// scopeConfig is a role config in the sim's scheme (docs/sim.md): the
// P4Info objects (names or IDs) the role may write.
func scopeConfig(tb testing.TB, writable ...any) *anypb.Any {
	tb.Helper()
	list, err := structpb.NewList(writable)
	if err != nil {
		tb.Fatalf("role config list: %v", err)
	}
	cfg, err := anypb.New(&structpb.Struct{Fields: map[string]*structpb.Value{"writable": structpb.NewListValue(list)}})
	if err != nil {
		tb.Fatalf("role config: %v", err)
	}
	return cfg
}

// sendRoleArb arbitrates for role with a role config.
func (cl *client) sendRoleArb(device uint64, role string, id *p4v1.Uint128, cfg *anypb.Any) {
	cl.t.Helper()
	upd := &p4v1.MasterArbitrationUpdate{DeviceId: device, ElectionId: id, Role: &p4v1.Role{Name: role, Config: cfg}}
	if err := cl.stream.Send(&p4v1.StreamMessageRequest{Update: &p4v1.StreamMessageRequest_Arbitration{Arbitration: upd}}); err != nil {
		cl.t.Fatalf("send arbitration: %v", err)
	}
}

// waitRoles polls Roles until cond holds; the deadline only bounds a broken
// test (stream ends reach the switch asynchronously).
func waitRoles(t *testing.T, sw *Switch, cond func([]RoleInfo) bool) []RoleInfo {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		rs := sw.Roles()
		if cond(rs) || time.Now().After(deadline) {
			return rs
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestSim_RoleStateFreedAfterStreamsClose: roles kept their configs (and
// member sets) forever after their streams closed, so 400 roles with 256 KiB
// configs held 255 MB. A role without streams must keep only its highest
// election ID, which §5 needs so that a lower ID cannot become primary
// after the primary disconnects.
func TestSim_RoleStateFreedAfterStreamsClose(t *testing.T) {
	const roles, configBytes = 100, 64 << 10
	h := newHarness(t)
	name := strings.Repeat("x", 1000)
	var writable []any
	for i := 0; i*len(name) < configBytes; i++ {
		writable = append(writable, name)
	}
	cfg := scopeConfig(t, writable...)
	var clients []*client
	for i := range roles {
		cl := h.openStream()
		cl.sendRoleArb(1, fmt.Sprintf("role-%03d", i), eid(uint64(10+i)), cfg)
		if c, _ := cl.arbStatus(); c != codes.OK {
			t.Fatalf("role %d: arbitration %v, want OK", i, c)
		}
		clients = append(clients, cl)
	}
	held := 0
	for _, ri := range h.sw.Roles() {
		held += ri.ConfigBytes
	}
	if held < roles*configBytes {
		t.Fatalf("with streams open the switch holds %d config bytes, want ≥ %d", held, roles*configBytes)
	}

	for _, cl := range clients {
		cl.cancel()
	}
	got := waitRoles(t, h.sw, func(rs []RoleInfo) bool {
		for _, ri := range rs {
			if ri.Streams > 0 {
				return false
			}
		}
		return true
	})
	if len(got) != roles {
		t.Fatalf("Roles() lists %d roles after the streams closed, want %d (their election ids)", len(got), roles)
	}
	held = 0
	for i, ri := range got {
		held += ri.ConfigBytes
		if ri.Streams != 0 || ri.Primary {
			t.Errorf("%s: %d streams, primary %v after all closed", ri.Name, ri.Streams, ri.Primary)
		}
		if ri.HighestElectionID.GetLow() != uint64(10+i) {
			t.Errorf("%s: highest election id %v, want %d kept", ri.Name, ri.HighestElectionID, 10+i)
		}
	}
	if held != 0 {
		t.Errorf("after every stream closed the switch still holds %d bytes of role configs, want 0", held)
	}

	// What is kept is what §5 needs: below the highest id nobody becomes
	// primary; at it, a returning controller does.
	late := h.openStream()
	late.sendRoleArb(1, "role-000", eid(9), nil)
	if c, id := late.arbStatus(); c != codes.NotFound || id.GetLow() != 10 {
		t.Errorf("lower id after the role emptied: %v (election id %v), want NOT_FOUND with 10", c, id)
	}
	back := h.openStream()
	back.sendRoleArb(1, "role-000", eid(10), nil)
	if c, _ := back.arbStatus(); c != codes.OK {
		t.Errorf("the highest id returning: %v, want OK", c)
	}
}

// roleWrite writes updates as the primary (election id 1) of role.
func (h *harness) roleWrite(role string, updates ...*p4v1.Update) error {
	_, err := h.c.Write(h.ctx, &p4v1.WriteRequest{DeviceId: h.sw.DeviceID(), Role: role, ElectionId: eid(1), Updates: updates})
	return err
}

// TestSim_RoleConfigScopesWrites: every role had full write access. A role
// config in the sim's scheme (docs/sim.md) now limits what the role's
// primary may write, per update (§12.3: PERMISSION_DENIED); reads of
// anything stay allowed, and the default role and roles without a config
// keep full access.
func TestSim_RoleConfigScopesWrites(t *testing.T) {
	h := newHarness(t)
	h.primary(1)
	h.setPipeline(loadP4Info(t, "testdata/generic.p4info.txtpb"), 1)
	h.mustWrite(1, insert(ternEntry(1, []byte{1}, []byte{0xff})))

	// "acl" may write t_exact (by alias; its direct counter and meter go
	// with it), the selector (by full name) and counter c (by ID).
	cfg, err := NewRoleConfig([]string{"t_exact", "Ing.sel"}, []uint32{cnt})
	if err != nil {
		t.Fatal(err)
	}
	acl := h.openStream()
	acl.sendRoleArb(1, "acl", eid(1), cfg)
	if c, _ := acl.arbStatus(); c != codes.OK {
		t.Fatalf("acl arbitration: %v", c)
	}
	free := h.openStream()
	free.sendRoleArb(1, "free", eid(1), nil)
	if c, _ := free.arbStatus(); c != codes.OK {
		t.Fatalf("free arbitration: %v", c)
	}

	directCounter := &p4v1.Entity{Entity: &p4v1.Entity_DirectCounterEntry{DirectCounterEntry: &p4v1.DirectCounterEntry{
		TableEntry: exactEntry(1).GetTableEntry(), Data: &p4v1.CounterData{PacketCount: 5}}}}
	for _, tc := range []struct {
		name string
		role string
		u    *p4v1.Update
		want codes.Code
	}{
		{"listed table by alias", "acl", insert(exactEntry(1)), codes.OK},
		{"direct counter of a listed table", "acl", modify(directCounter), codes.OK},
		{"listed profile by name", "acl", insert(member(apSel, 1, aFwd, param(1, 1))), codes.OK},
		{"listed counter by id", "acl", modify(counterEntity(cnt, idx(0), &p4v1.CounterData{PacketCount: 1})), codes.OK},
		{"unlisted table", "acl", insert(ternEntry(2, []byte{2}, []byte{0xff})), codes.PermissionDenied},
		{"unlisted table, delete of another role's entry", "acl", del(ternEntry(1, []byte{1}, []byte{0xff})), codes.PermissionDenied},
		{"unlisted profile", "acl", insert(member(apProf, 1, aSet, param(1, 1))), codes.PermissionDenied},
		{"unlisted meter", "acl", modify(meterEntity(mtr, idx(0), &p4v1.MeterConfig{Cir: 1, Pir: 1})), codes.PermissionDenied},
		{"unknown table is still invalid", "acl", insert(tableEntity(&p4v1.TableEntry{TableId: 999})), codes.InvalidArgument},
		{"role without config", "free", insert(ternEntry(3, []byte{3}, []byte{0xff})), codes.OK},
		{"default role", "", insert(ternEntry(4, []byte{4}, []byte{0xff})), codes.OK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := writeCode(h.roleWrite(tc.role, tc.u)); got != tc.want {
				t.Errorf("role %q: %v, want %v", tc.role, got, tc.want)
			}
		})
	}

	// Per update in a batch: the allowed one is applied.
	err = h.roleWrite("acl", insert(exactEntry(2)), insert(ternEntry(5, []byte{5}, []byte{0xff})))
	if got := updateCodes(err); len(got) != 2 || got[0] != codes.OK || got[1] != codes.PermissionDenied {
		t.Errorf("mixed batch: %v, want [OK PERMISSION_DENIED]", got)
	}
	// Reads are not scoped: acl's client sees the default role's entries.
	if got := h.mustRead(tableEntity(&p4v1.TableEntry{TableId: tTern})); len(got) != 3 {
		t.Errorf("t_tern read: %d entries, want 3", len(got))
	}
	// The pipeline belongs to every role: a scoped role may not set it.
	_, err = h.c.SetForwardingPipelineConfig(h.ctx, &p4v1.SetForwardingPipelineConfigRequest{
		DeviceId: 1, Role: "acl", ElectionId: eid(1), Action: p4v1.SetForwardingPipelineConfigRequest_VERIFY_AND_COMMIT,
		Config: &p4v1.ForwardingPipelineConfig{P4Info: loadP4Info(t, "testdata/generic.p4info.txtpb")},
	})
	if got := status.Code(err); got != codes.PermissionDenied {
		t.Errorf("SetForwardingPipelineConfig from a scoped role: %v, want PERMISSION_DENIED", got)
	}
}

// TestSim_RoleConfigMustMatchScheme: §5.3 terminates a stream whose role
// config does not follow the target's scheme with INVALID_ARGUMENT.
func TestSim_RoleConfigMustMatchScheme(t *testing.T) {
	other, err := anypb.New(wrapperspb.String("ipv4_lpm"))
	if err != nil {
		t.Fatal(err)
	}
	fields := func(f map[string]*structpb.Value) *anypb.Any {
		a, err := anypb.New(&structpb.Struct{Fields: f})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	for _, tc := range []struct {
		name string
		role string
		cfg  *anypb.Any
	}{
		{"not a Struct", "r", other},
		{"unknown field", "r", fields(map[string]*structpb.Value{"writable": structpb.NewListValue(&structpb.ListValue{}), "readable": structpb.NewBoolValue(true)})},
		{"writable missing", "r", fields(nil)},
		{"writable not a list", "r", fields(map[string]*structpb.Value{"writable": structpb.NewStringValue("t_exact")})},
		{"element neither name nor id", "r", scopeConfig(t, true)},
		{"fractional id", "r", scopeConfig(t, 1.5)},
		{"id out of range", "r", scopeConfig(t, float64(1<<33))},
		{"empty name", "r", scopeConfig(t, "")},
		{"config on the default role", "", scopeConfig(t, "t_exact")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			cl := h.openStream()
			cl.sendRoleArb(1, tc.role, eid(1), tc.cfg)
			if got := cl.ended(); got != codes.InvalidArgument {
				t.Errorf("stream ended with %v, want INVALID_ARGUMENT", got)
			}
		})
	}
	// An empty list is valid: a read-only role.
	h := newHarness(t)
	h.primary(1)
	h.setPipeline(loadP4Info(t, "testdata/generic.p4info.txtpb"), 1)
	ro := h.openStream()
	ro.sendRoleArb(1, "ro", eid(1), scopeConfig(t))
	if c, _ := ro.arbStatus(); c != codes.OK {
		t.Fatalf("read-only role: %v, want OK", c)
	}
	if got := writeCode(h.roleWrite("ro", insert(exactEntry(1)))); got != codes.PermissionDenied {
		t.Errorf("write from a read-only role: %v, want PERMISSION_DENIED", got)
	}
}
