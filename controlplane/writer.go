package controlplane

import (
	"context"
	"errors"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// errRPCTimeout is the cause a writer's watchdog cancels its context with.
var errRPCTimeout = errors.New("the switch did not answer within the session's RPC timeout")

// writer sends the Write RPCs of one Apply (or one Write) one after the
// other. Each RPC is bounded by the session's RPC timeout exactly as a
// context.WithTimeout per RPC would bound it, but through one cancellable
// context and one timer for the whole sequence, re-armed before each RPC
// and stopped after it. A deadline per RPC costs a context and a timer on
// the client for every RPC and, since gRPC sends it to the server as the
// grpc-timeout header, another context and timer on the server: at one
// update per RPC into the in-process sim that was the largest part of the
// session's gap to a raw Write loop (docs/performance.md). A context
// without a deadline sends no grpc-timeout; a cancelled RPC still reaches
// the switch, as an RST_STREAM.
//
// The WriteRequest and the batch's update slice are reused from one RPC
// to the next: gRPC has encoded the request when Write returns, and
// errors keep the *p4v1.Update pointers, not the slice.
type writer struct {
	s       *Session
	parent  context.Context
	timeout time.Duration
	ctx     context.Context
	cancel  context.CancelCauseFunc
	// timer cancels ctx when an RPC outlives the timeout; nil before the
	// first RPC and after it fired (ctx is then spent and replaced).
	timer *time.Timer
	req   *p4v1.WriteRequest
	buf   []*p4v1.Update
}

func (s *Session) newWriter(ctx context.Context) *writer {
	return &writer{s: s, parent: ctx, timeout: s.cfg.rpcTimeout, req: &p4v1.WriteRequest{
		DeviceId:  s.sw.DeviceID,
		Role:      s.cfg.role,
		Atomicity: p4v1.WriteRequest_CONTINUE_ON_ERROR,
	}}
}

// close releases the timer and the context.
func (w *writer) close() {
	if w.timer != nil {
		w.timer.Stop()
	}
	if w.cancel != nil {
		w.cancel(nil)
	}
}

// write sends updates as one WriteRequest with the session's current
// election id and role, and decodes a failure into a *WriteError. A
// session that is not primary sends nothing: the switch would refuse a
// backup's write, and a controller whose arbitration was refused (the same
// election id as a live primary) must not write with an id that the switch
// would take as the primary's credential.
func (w *writer) write(updates []*p4v1.Update) error {
	if !w.s.isPrimary() {
		return decodeWriteError(updates, ErrNotPrimary)
	}
	w.req.ElectionId = w.s.electionProto()
	w.req.Updates = updates
	_, err := w.s.client.Write(w.arm(), w.req)
	err = w.disarm(err)
	w.req.Updates = nil // the caller's entities are not ours to keep
	w.s.noteFenced(err)
	return decodeWriteError(updates, err)
}

// writeChanges writes the updates of batch (see write).
func (w *writer) writeChanges(batch []Change) error {
	w.buf = w.buf[:0]
	for _, c := range batch {
		w.buf = append(w.buf, c.Update)
	}
	return w.write(w.buf)
}

// arm starts the timeout for one RPC and returns the context to send it with.
func (w *writer) arm() context.Context {
	if w.timeout <= 0 {
		return w.parent
	}
	if w.timer == nil {
		ctx, cancel := context.WithCancelCause(w.parent)
		w.ctx, w.cancel = ctx, cancel
		w.timer = time.AfterFunc(w.timeout, func() { cancel(errRPCTimeout) })
		return ctx
	}
	w.timer.Reset(w.timeout)
	return w.ctx
}

// disarm stops the timeout after an RPC that returned err. If the timer
// fired, the context is spent (the next RPC gets a new one) and an RPC it
// cancelled fails with DEADLINE_EXCEEDED, as it did when the deadline was
// the context's: IsRetryable and the metrics see the same code.
func (w *writer) disarm(err error) error {
	if w.timer == nil || w.timer.Stop() {
		return err
	}
	// Stop returned false: the timer fired, so its cancel has run or is
	// running. An RPC that failed because of it saw ctx done, and cancel
	// sets the cause before it closes Done, so the cause is set by now.
	if err != nil && status.Code(err) == codes.Canceled && errors.Is(context.Cause(w.ctx), errRPCTimeout) {
		err = status.Errorf(codes.DeadlineExceeded, "write: no answer from the switch within %v (the session's RPC timeout)", w.timeout)
	}
	w.cancel(nil)
	w.timer, w.ctx, w.cancel = nil, nil, nil
	return err
}
