package sim

import (
	"context"
	"errors"
	"io"
	"os"
	"testing"
	"time"

	p4configv1 "github.com/p4lang/p4runtime/go/p4/config/v1"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/prototext"
)

const qosP4InfoPath = "../../p4src/build/qos.p4info.txtpb"

func loadP4Info(t testing.TB, path string) *p4configv1.P4Info {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read p4info: %v", err)
	}
	info := &p4configv1.P4Info{}
	if err := prototext.Unmarshal(b, info); err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	return info
}

// harness is a sim served on a loopback port plus a gRPC client to it.
type harness struct {
	t   testing.TB
	sw  *Switch
	c   p4v1.P4RuntimeClient
	ctx context.Context
}

func newHarness(t testing.TB, opts ...Option) *harness {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	sw, addr, err := Start(ctx, "127.0.0.1:0", opts...)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(sw.Close)
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	return &harness{t: t, sw: sw, c: p4v1.NewP4RuntimeClient(conn), ctx: ctx}
}

func eid(low uint64) *p4v1.Uint128 { return &p4v1.Uint128{Low: low} }

// client is one StreamChannel.
type client struct {
	t      testing.TB
	stream p4v1.P4Runtime_StreamChannelClient
	cancel context.CancelFunc
	msgs   chan *p4v1.StreamMessageResponse
	done   chan error // the stream's final status
}

// openStream opens a StreamChannel whose received messages are collected in
// the background.
func (h *harness) openStream() *client {
	h.t.Helper()
	ctx, cancel := context.WithCancel(h.ctx)
	s, err := h.c.StreamChannel(ctx)
	if err != nil {
		h.t.Fatalf("StreamChannel: %v", err)
	}
	cl := &client{t: h.t, stream: s, cancel: cancel, msgs: make(chan *p4v1.StreamMessageResponse, 64), done: make(chan error, 1)}
	go func() {
		for {
			m, err := s.Recv()
			if err != nil {
				cl.done <- err
				return
			}
			cl.msgs <- m
		}
	}()
	h.t.Cleanup(cancel)
	return cl
}

func (cl *client) sendArb(device uint64, role string, id *p4v1.Uint128) {
	cl.t.Helper()
	upd := &p4v1.MasterArbitrationUpdate{DeviceId: device, ElectionId: id}
	if role != "" {
		upd.Role = &p4v1.Role{Name: role}
	}
	if err := cl.stream.Send(&p4v1.StreamMessageRequest{Update: &p4v1.StreamMessageRequest_Arbitration{Arbitration: upd}}); err != nil {
		cl.t.Fatalf("send arbitration: %v", err)
	}
}

// next waits for the next stream message; the deadline only bounds a
// broken test, it asserts nothing about speed.
func (cl *client) next() *p4v1.StreamMessageResponse {
	cl.t.Helper()
	select {
	case m := <-cl.msgs:
		return m
	case err := <-cl.done:
		cl.t.Fatalf("stream ended while waiting for a message: %v", err)
	case <-time.After(10 * time.Second):
		cl.t.Fatalf("no stream message")
	}
	return nil
}

// arbStatus waits for the next arbitration message and returns its status
// code and election id.
func (cl *client) arbStatus() (codes.Code, *p4v1.Uint128) {
	cl.t.Helper()
	m := cl.next()
	a := m.GetArbitration()
	if a == nil {
		cl.t.Fatalf("expected an arbitration update, got %v", m)
	}
	return codes.Code(a.GetStatus().GetCode()), a.GetElectionId()
}

// ended waits for the stream to terminate and returns its status code.
func (cl *client) ended() codes.Code {
	cl.t.Helper()
	select {
	case err := <-cl.done:
		return status.Code(err)
	case m := <-cl.msgs:
		cl.t.Fatalf("expected the stream to end, got message %v", m)
	case <-time.After(10 * time.Second):
		cl.t.Fatalf("stream did not end")
	}
	return codes.OK
}

// noMessage checks that nothing is queued for the client after a round
// trip that is ordered after any notification (a Capabilities call cannot
// overtake messages the server already queued, since those are queued
// before the arbitration handler returns; we also let the stream goroutine
// deliver them by doing one more arbitration-free RPC).
func (cl *client) noMessage(h *harness) {
	cl.t.Helper()
	if _, err := h.c.Capabilities(h.ctx, &p4v1.CapabilitiesRequest{}); err != nil {
		cl.t.Fatalf("Capabilities: %v", err)
	}
	select {
	case m := <-cl.msgs:
		cl.t.Fatalf("unexpected stream message %v", m)
	case <-time.After(50 * time.Millisecond):
	}
}

// primary opens a stream, becomes primary with election id low and
// returns it.
func (h *harness) primary(low uint64) *client {
	h.t.Helper()
	cl := h.openStream()
	cl.sendArb(h.sw.DeviceID(), "", eid(low))
	if c, _ := cl.arbStatus(); c != codes.OK {
		h.t.Fatalf("arbitration with election id %d: status %v, want OK", low, c)
	}
	return cl
}

func (h *harness) setPipeline(info *p4configv1.P4Info, low uint64) {
	h.t.Helper()
	_, err := h.c.SetForwardingPipelineConfig(h.ctx, &p4v1.SetForwardingPipelineConfigRequest{
		DeviceId: h.sw.DeviceID(), ElectionId: eid(low),
		Action: p4v1.SetForwardingPipelineConfigRequest_VERIFY_AND_COMMIT,
		Config: &p4v1.ForwardingPipelineConfig{P4Info: info, Cookie: &p4v1.ForwardingPipelineConfig_Cookie{Cookie: 7}},
	})
	if err != nil {
		h.t.Fatalf("SetForwardingPipelineConfig: %v", err)
	}
}

func (h *harness) write(low uint64, updates ...*p4v1.Update) error {
	_, err := h.c.Write(h.ctx, &p4v1.WriteRequest{DeviceId: h.sw.DeviceID(), ElectionId: eid(low), Updates: updates})
	return err
}

// mustWrite fails the test unless the batch succeeds.
func (h *harness) mustWrite(low uint64, updates ...*p4v1.Update) {
	h.t.Helper()
	if err := h.write(low, updates...); err != nil {
		h.t.Fatalf("Write: %v (per-update: %v)", err, updateCodes(err))
	}
}

// updateCodes decodes the §12.3 per-update errors of a failed Write.
func updateCodes(err error) []codes.Code {
	st, ok := status.FromError(err)
	if !ok || st.Code() != codes.Unknown {
		return nil
	}
	var out []codes.Code
	for _, d := range st.Details() {
		if e, ok := d.(*p4v1.Error); ok {
			out = append(out, codes.Code(e.GetCanonicalCode()))
		}
	}
	return out
}

// writeCode is the code of a single-update batch: OK, the RPC-wide code,
// or the update's own code.
func writeCode(err error) codes.Code {
	if err == nil {
		return codes.OK
	}
	if cs := updateCodes(err); len(cs) == 1 {
		return cs[0]
	}
	return status.Code(err)
}

func (h *harness) read(entities ...*p4v1.Entity) ([]*p4v1.Entity, error) {
	rs, err := h.c.Read(h.ctx, &p4v1.ReadRequest{DeviceId: h.sw.DeviceID(), Entities: entities})
	if err != nil {
		return nil, err
	}
	var out []*p4v1.Entity
	for {
		r, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, r.GetEntities()...)
	}
}

func (h *harness) mustRead(entities ...*p4v1.Entity) []*p4v1.Entity {
	h.t.Helper()
	out, err := h.read(entities...)
	if err != nil {
		h.t.Fatalf("Read: %v", err)
	}
	return out
}

func insert(e *p4v1.Entity) *p4v1.Update { return &p4v1.Update{Type: p4v1.Update_INSERT, Entity: e} }
func modify(e *p4v1.Entity) *p4v1.Update { return &p4v1.Update{Type: p4v1.Update_MODIFY, Entity: e} }
func del(e *p4v1.Entity) *p4v1.Update    { return &p4v1.Update{Type: p4v1.Update_DELETE, Entity: e} }

func tableEntity(te *p4v1.TableEntry) *p4v1.Entity {
	return &p4v1.Entity{Entity: &p4v1.Entity_TableEntry{TableEntry: te}}
}

func directAction(id uint32, params ...*p4v1.Action_Param) *p4v1.TableAction {
	return &p4v1.TableAction{Type: &p4v1.TableAction_Action{Action: &p4v1.Action{ActionId: id, Params: params}}}
}

func param(id uint32, v ...byte) *p4v1.Action_Param { return &p4v1.Action_Param{ParamId: id, Value: v} }

func exact(id uint32, v ...byte) *p4v1.FieldMatch {
	return &p4v1.FieldMatch{FieldId: id, FieldMatchType: &p4v1.FieldMatch_Exact_{Exact: &p4v1.FieldMatch_Exact{Value: v}}}
}
