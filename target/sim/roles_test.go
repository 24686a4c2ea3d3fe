package sim

import (
	"fmt"
	"strings"
	"testing"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/structpb"
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
