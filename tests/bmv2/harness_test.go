package bmv2

import (
	"context"
	"testing"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// The namespace, veth and AF_PACKET machinery itself is tested in
// tests/internal/bmv2env (TestHarness).

// TestSwitchSession starts simple_switch_grpc in a namespace and becomes its
// primary controller over the in-namespace gRPC connection: the part of every
// packet test that needs BMv2 but not the compiled program.
func TestSwitchSession(t *testing.T) {
	b := startBed(t, 2)
	if !b.sw.Alive() {
		t.Fatalf("switch exited:\n%s", b.sw.Log())
	}
	// Without a program a P4Runtime server must refuse reads with
	// FAILED_PRECONDITION (P4Runtime §10); that a reply comes back at all
	// shows that unary RPCs reach the switch too.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rc, err := b.client.Read(ctx, &p4v1.ReadRequest{DeviceId: deviceID, Entities: []*p4v1.Entity{{
		Entity: &p4v1.Entity_TableEntry{TableEntry: &p4v1.TableEntry{}}}}})
	if err == nil {
		_, err = rc.Recv()
	}
	if code := status.Code(err); code != codes.FailedPrecondition {
		t.Errorf("Read before a pipeline is loaded: %v (code %v), want FAILED_PRECONDITION", err, code)
	}

	t.Run("thrift inside the namespace", func(t *testing.T) {
		b.sw.SetQueueRate(t, 2, 100)
	})
}
