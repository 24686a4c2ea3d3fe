package bmv2env

import (
	"context"
	"fmt"
	"testing"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
)

// BecomePrimary opens the P4Runtime stream on conn and sends a
// MasterArbitrationUpdate with the election id (P4Runtime §5). It returns
// a client once the target answered that this stream is primary, and fails
// the test otherwise or after 60 s. The stream stays open, and drained,
// until the test ends: closing it would give up primacy.
func BecomePrimary(t testing.TB, conn grpc.ClientConnInterface, deviceID uint64, election *p4v1.Uint128) p4v1.P4RuntimeClient {
	t.Helper()
	client := p4v1.NewP4RuntimeClient(conn)
	streamCtx, cancelStream := context.WithCancel(context.Background())
	t.Cleanup(cancelStream)
	// The switch needs a moment to open its gRPC port; WaitForReady makes
	// the stream wait for it.
	stream, err := client.StreamChannel(streamCtx, grpc.WaitForReady(true))
	if err != nil {
		t.Fatalf("StreamChannel: %v", err)
	}
	if err := stream.Send(&p4v1.StreamMessageRequest{Update: &p4v1.StreamMessageRequest_Arbitration{
		Arbitration: &p4v1.MasterArbitrationUpdate{DeviceId: deviceID, ElectionId: election}}}); err != nil {
		t.Fatalf("send arbitration: %v", err)
	}
	got := make(chan error, 1)
	go func() {
		for {
			msg, err := stream.Recv()
			if err != nil {
				got <- err
				return
			}
			if a := msg.GetArbitration(); a != nil {
				if c := a.GetStatus().GetCode(); c != int32(codes.OK) {
					got <- fmt.Errorf("not primary: %v", a.GetStatus())
				} else {
					got <- nil
				}
				for { // keep the stream drained while the test runs
					if _, err := stream.Recv(); err != nil {
						return
					}
				}
			}
		}
	}()
	timer := time.NewTimer(60 * time.Second)
	defer timer.Stop()
	select {
	case err := <-got:
		if err != nil {
			t.Fatalf("arbitration: %v", err)
		}
	case <-timer.C:
		t.Fatalf("no arbitration answer within 60 s")
	}
	return client
}

// PushPipeline installs a program (P4Info and target config, for BMv2 its
// JSON) with VERIFY_AND_COMMIT, waiting at most 60 s.
func PushPipeline(ctx context.Context, client p4v1.P4RuntimeClient, deviceID uint64, election *p4v1.Uint128, cfg *p4v1.ForwardingPipelineConfig) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	_, err := client.SetForwardingPipelineConfig(ctx, &p4v1.SetForwardingPipelineConfigRequest{
		DeviceId:   deviceID,
		ElectionId: election,
		Action:     p4v1.SetForwardingPipelineConfigRequest_VERIFY_AND_COMMIT,
		Config:     cfg,
	})
	if err != nil {
		return fmt.Errorf("SetForwardingPipelineConfig: %w", err)
	}
	return nil
}
