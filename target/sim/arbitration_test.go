package sim

import (
	"testing"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc/codes"
)

func TestArbitrationPrimaryAndBackups(t *testing.T) {
	h := newHarness(t)
	info := loadP4Info(t, "testdata/generic.p4info.txtpb")

	a := h.primary(10) // §5.3: first client with an election id becomes primary

	b := h.openStream()
	b.sendArb(1, "", eid(5))
	if c, id := b.arbStatus(); c != codes.AlreadyExists || id.GetLow() != 10 {
		t.Fatalf("lower backup: got %v election %v, want ALREADY_EXISTS with the primary's id 10", c, id)
	}
	// §5.3 rule 3: a new backup is told alone; the primary hears nothing.
	a.noMessage(h)

	h.setPipeline(info, 10)
	if got := writeCode(h.write(5, insert(tableEntity(&p4v1.TableEntry{TableId: 100, Match: []*p4v1.FieldMatch{exact(1, 1)}, Action: directAction(1)})))); got != codes.PermissionDenied {
		t.Errorf("write from backup: %v, want PERMISSION_DENIED", got)
	}
	if got := writeCode(h.write(0)); got != codes.PermissionDenied {
		t.Errorf("write with election id 0: %v, want PERMISSION_DENIED", got)
	}
	_, err := h.c.Write(h.ctx, &p4v1.WriteRequest{DeviceId: 1})
	if got := writeCode(err); got != codes.PermissionDenied {
		t.Errorf("write without election id: %v, want PERMISSION_DENIED", got)
	}
	if got := writeCode(h.write(10)); got != codes.OK {
		t.Errorf("empty write from primary: %v, want OK", got)
	}

	// A higher id takes over; everyone is told (§5.4).
	c := h.openStream()
	c.sendArb(1, "", eid(20))
	if code, id := c.arbStatus(); code != codes.OK || id.GetLow() != 20 {
		t.Fatalf("new primary: %v %v", code, id)
	}
	for name, cl := range map[string]*client{"old primary": a, "backup": b} {
		if code, id := cl.arbStatus(); code != codes.AlreadyExists || id.GetLow() != 20 {
			t.Errorf("%s notified with %v %v, want ALREADY_EXISTS 20", name, code, id)
		}
	}
	if got := writeCode(h.write(10)); got != codes.PermissionDenied {
		t.Errorf("write from deposed primary: %v, want PERMISSION_DENIED", got)
	}

	// Primary disconnects: §5 says the role stays without a primary and
	// the backups are told NOT_FOUND.
	c.cancel()
	for name, cl := range map[string]*client{"a": a, "b": b} {
		if code, id := cl.arbStatus(); code != codes.NotFound || id.GetLow() != 20 {
			t.Errorf("%s after primary left: %v %v, want NOT_FOUND 20", name, code, id)
		}
	}
	if got := writeCode(h.write(10)); got != codes.PermissionDenied {
		t.Errorf("write with no primary: %v, want PERMISSION_DENIED", got)
	}
	// Re-sending a lower id than the highest seen does not help...
	a.sendArb(1, "", eid(11))
	if code, _ := a.arbStatus(); code != codes.NotFound {
		t.Errorf("re-arbitration below the highest id: %v, want NOT_FOUND", code)
	}
	// ...an id at least as high as the highest ever seen does.
	a.sendArb(1, "", eid(20))
	for name, cl := range map[string]*client{"a": a, "b": b} {
		want := codes.AlreadyExists
		if cl == a {
			want = codes.OK
		}
		if code, _ := cl.arbStatus(); code != want {
			t.Errorf("%s after a re-took primary: %v, want %v", name, code, want)
		}
	}
	if got := writeCode(h.write(20)); got != codes.OK {
		t.Errorf("write from re-elected primary: %v", got)
	}
}

func TestArbitrationStreamErrors(t *testing.T) {
	tests := []struct {
		name  string
		setup func(h *harness) *client // returns the stream expected to end
		want  codes.Code
	}{
		{"unknown device", func(h *harness) *client {
			cl := h.openStream()
			cl.sendArb(99, "", eid(1))
			return cl
		}, codes.NotFound},
		{"duplicate election id", func(h *harness) *client {
			h.primary(7)
			cl := h.openStream()
			cl.sendArb(1, "", eid(7))
			return cl
		}, codes.InvalidArgument},
		{"role change on a live stream", func(h *harness) *client {
			cl := h.primary(7)
			cl.sendArb(1, "other", eid(7))
			return cl
		}, codes.FailedPrecondition},
		{"device change on a live stream", func(h *harness) *client {
			cl := h.primary(7)
			cl.sendArb(2, "", eid(7))
			return cl
		}, codes.FailedPrecondition},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			cl := tc.setup(h)
			if got := cl.ended(); got != tc.want {
				t.Errorf("stream ended with %v, want %v", got, tc.want)
			}
		})
	}
}

func TestArbitrationUnsetElectionIDNeverPrimary(t *testing.T) {
	h := newHarness(t)
	cl := h.openStream()
	cl.sendArb(1, "", nil)
	// §16.2.1: lower than any id, so no primary yet → NOT_FOUND.
	if code, id := cl.arbStatus(); code != codes.NotFound || id != nil {
		t.Errorf("unset election id: %v %v, want NOT_FOUND and no election id (there never was a primary)", code, id)
	}
	// §16.2.1 also distinguishes {0,0} from unset: {0,0} can be primary.
	z := h.openStream()
	z.sendArb(1, "", &p4v1.Uint128{})
	if code, _ := z.arbStatus(); code != codes.OK {
		t.Errorf("election id 0: %v, want OK", code)
	}
}

func TestArbitrationRolesAreIndependent(t *testing.T) {
	h := newHarness(t)
	info := loadP4Info(t, "testdata/generic.p4info.txtpb")
	a := h.openStream()
	a.sendArb(1, "", eid(3))
	if c, _ := a.arbStatus(); c != codes.OK {
		t.Fatalf("default role: %v", c)
	}
	b := h.openStream()
	b.sendArb(1, "telemetry", eid(3)) // same id, other role: allowed (§5)
	if c, _ := b.arbStatus(); c != codes.OK {
		t.Fatalf("role telemetry: %v", c)
	}
	h.setPipeline(info, 3)
	_, err := h.c.Write(h.ctx, &p4v1.WriteRequest{DeviceId: 1, Role: "telemetry", ElectionId: eid(3)})
	if got := writeCode(err); got != codes.OK {
		t.Errorf("write as telemetry primary: %v", got)
	}
	_, err = h.c.Write(h.ctx, &p4v1.WriteRequest{DeviceId: 1, Role: "nobody", ElectionId: eid(3)})
	if got := writeCode(err); got != codes.NotFound {
		t.Errorf("write with unknown role: %v, want NOT_FOUND (§12)", got)
	}
	_, err = h.c.Write(h.ctx, &p4v1.WriteRequest{DeviceId: 9, ElectionId: eid(3)})
	if got := writeCode(err); got != codes.NotFound {
		t.Errorf("write to unknown device: %v, want NOT_FOUND (§12)", got)
	}
}

func TestArbitrationPrimaryStepsDown(t *testing.T) {
	h := newHarness(t)
	a := h.primary(10)
	b := h.openStream()
	b.sendArb(1, "", eid(4))
	b.arbStatus()
	a.sendArb(1, "", eid(2)) // downgrade below the highest seen (10)
	for name, cl := range map[string]*client{"a": a, "b": b} {
		if code, id := cl.arbStatus(); code != codes.NotFound || id.GetLow() != 10 {
			t.Errorf("%s after step-down: %v %v, want NOT_FOUND 10", name, code, id)
		}
	}
}

func TestArbitrationPromoteOnDisconnectOption(t *testing.T) {
	h := newHarness(t, WithPromoteOnDisconnect())
	a := h.primary(10)
	b := h.openStream()
	b.sendArb(1, "", eid(5))
	b.arbStatus()
	c := h.openStream()
	c.sendArb(1, "", eid(7))
	c.arbStatus()
	a.cancel()
	// PI/BMv2 behaviour: the highest live backup (7) becomes primary.
	if code, _ := c.arbStatus(); code != codes.OK {
		t.Errorf("next-highest after disconnect: %v, want OK", code)
	}
	if code, _ := b.arbStatus(); code != codes.AlreadyExists {
		t.Errorf("other backup after disconnect: %v, want ALREADY_EXISTS", code)
	}
	h.setPipeline(loadP4Info(t, "testdata/generic.p4info.txtpb"), 7)
	if got := writeCode(h.write(7)); got != codes.OK {
		t.Errorf("write from promoted primary: %v", got)
	}
}

func TestPacketOutIsRefused(t *testing.T) {
	h := newHarness(t)
	a := h.primary(1)
	if err := a.stream.Send(&p4v1.StreamMessageRequest{Update: &p4v1.StreamMessageRequest_Packet{Packet: &p4v1.PacketOut{Payload: []byte{1}}}}); err != nil {
		t.Fatal(err)
	}
	m := a.next()
	if m.GetError() == nil || codes.Code(m.GetError().GetCanonicalCode()) != codes.FailedPrecondition || m.GetError().GetPacketOut() == nil {
		t.Errorf("packet-out without a pipeline: got %v, want a StreamError FAILED_PRECONDITION carrying the packet (§16.6)", m)
	}
	// A pipeline without a packet_out controller header has no packet I/O.
	h.setPipeline(loadP4Info(t, "testdata/generic.p4info.txtpb"), 1)
	if err := a.stream.Send(&p4v1.StreamMessageRequest{Update: &p4v1.StreamMessageRequest_Packet{Packet: &p4v1.PacketOut{Payload: []byte{1}}}}); err != nil {
		t.Fatal(err)
	}
	m = a.next()
	if m.GetError() == nil || codes.Code(m.GetError().GetCanonicalCode()) != codes.Unimplemented || m.GetError().GetPacketOut() == nil {
		t.Errorf("packet-out without packet_out header: got %v, want a StreamError UNIMPLEMENTED carrying the packet (§16.6)", m)
	}
}
