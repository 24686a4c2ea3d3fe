package controlplane

import (
	"context"
	"io"
	"net"
	"sort"
	"sync"
	"testing"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// fakeSwitch is a deliberately small P4Runtime server for testing the
// session, pipeline and write logic in isolation: arbitration for the
// default role, a pipeline cookie, table and meter entries keyed by their
// identity, and a hook that rejects chosen updates. The conformance of the
// controller against a full target is tested with the sim.
type fakeSwitch struct {
	p4v1.UnimplementedP4RuntimeServer

	mu       sync.Mutex
	streams  map[*fakeStream]struct{}
	cookie   *p4v1.ForwardingPipelineConfig_Cookie
	pushes   int
	writes   int
	entities map[string]*p4v1.Entity
	// reject, if set, returns a non-OK code for an update to fail it.
	reject func(*p4v1.Update) codes.Code
	// bmv2Meters makes meters behave as BMv2 behind PI does: see Read and
	// bmv2Meter.
	bmv2Meters bool
	// garbage is appended to every read response.
	garbage []*p4v1.Entity
	// calls counts Write RPCs received, hung ones included.
	calls int
	// hang, if set and true for a Write's call number (from 1), makes
	// that Write never answer: it returns only when the client cancels.
	hang func(call int) bool
	// delay is waited before answering each Write (outside mu).
	delay time.Duration
}

// bmv2Meter is what BMv2 stores for a meter write: rates lose up to one
// unit in the round trip through units per microsecond, and a reset (no
// config) leaves PI's all-ones marker, read back with bursts of 2^32-1.
func bmv2Meter(e *p4v1.Entity) *p4v1.Entity {
	n := proto.Clone(e).(*p4v1.Entity)
	m := n.GetMeterEntry()
	if m.Config == nil {
		m.Config = &p4v1.MeterConfig{Cir: -1 << 63, Cburst: 1<<32 - 1, Pir: -1 << 63, Pburst: 1<<32 - 1}
		return n
	}
	m.Config.Cir--
	m.Config.Pir--
	return n
}

type fakeStream struct {
	id   [2]uint64
	send chan *p4v1.StreamMessageResponse
}

func startFake(t *testing.T) (*fakeSwitch, string) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeSwitch{streams: map[*fakeStream]struct{}{}, entities: map[string]*p4v1.Entity{}}
	srv := grpc.NewServer()
	p4v1.RegisterP4RuntimeServer(srv, f)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return f, lis.Addr().String()
}

func less(a, b [2]uint64) bool { return a[0] < b[0] || (a[0] == b[0] && a[1] < b[1]) }

// primaryLocked returns the stream with the highest election id.
func (f *fakeSwitch) primaryLocked() *fakeStream {
	var best *fakeStream
	for s := range f.streams {
		if best == nil || less(best.id, s.id) {
			best = s
		}
	}
	return best
}

func (f *fakeSwitch) notifyLocked() {
	p := f.primaryLocked()
	for s := range f.streams {
		code := codes.AlreadyExists
		if s == p {
			code = codes.OK
		}
		msg := &p4v1.StreamMessageResponse{Update: &p4v1.StreamMessageResponse_Arbitration{Arbitration: &p4v1.MasterArbitrationUpdate{
			DeviceId: 1, ElectionId: &p4v1.Uint128{High: p.id[0], Low: p.id[1]}, Status: &spb.Status{Code: int32(code)},
		}}}
		select {
		case s.send <- msg:
		default:
		}
	}
}

func (f *fakeSwitch) StreamChannel(st p4v1.P4Runtime_StreamChannelServer) error {
	req, err := st.Recv()
	if err != nil {
		return err
	}
	arb := req.GetArbitration()
	if arb == nil {
		return status.Error(codes.InvalidArgument, "first message must be arbitration")
	}
	s := &fakeStream{id: [2]uint64{arb.GetElectionId().GetHigh(), arb.GetElectionId().GetLow()}, send: make(chan *p4v1.StreamMessageResponse, 16)}
	f.mu.Lock()
	for o := range f.streams {
		if o.id == s.id {
			f.mu.Unlock()
			return status.Error(codes.InvalidArgument, "election id in use")
		}
	}
	f.streams[s] = struct{}{}
	f.notifyLocked()
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		delete(f.streams, s)
		if len(f.streams) > 0 {
			f.notifyLocked()
		}
		f.mu.Unlock()
	}()
	errc := make(chan error, 1)
	go func() {
		for {
			if _, err := st.Recv(); err != nil {
				errc <- err
				return
			}
		}
	}()
	for {
		select {
		case m := <-s.send:
			if err := st.Send(m); err != nil {
				return err
			}
		case err := <-errc:
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
}

// isPrimary reports whether id is the primary's election id. Called with mu held.
func (f *fakeSwitch) isPrimary(id *p4v1.Uint128) bool {
	p := f.primaryLocked()
	return p != nil && p.id == [2]uint64{id.GetHigh(), id.GetLow()}
}

func (f *fakeSwitch) GetForwardingPipelineConfig(context.Context, *p4v1.GetForwardingPipelineConfigRequest) (*p4v1.GetForwardingPipelineConfigResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cookie == nil {
		return nil, status.Error(codes.FailedPrecondition, "no pipeline")
	}
	return &p4v1.GetForwardingPipelineConfigResponse{Config: &p4v1.ForwardingPipelineConfig{Cookie: f.cookie}}, nil
}

func (f *fakeSwitch) SetForwardingPipelineConfig(_ context.Context, r *p4v1.SetForwardingPipelineConfigRequest) (*p4v1.SetForwardingPipelineConfigResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.isPrimary(r.GetElectionId()) {
		return nil, status.Error(codes.PermissionDenied, "not primary")
	}
	f.cookie = r.GetConfig().GetCookie()
	f.entities = map[string]*p4v1.Entity{}
	f.pushes++
	return &p4v1.SetForwardingPipelineConfigResponse{}, nil
}

// identity is the fake's entity key: the entity without its action/config.
func identity(e *p4v1.Entity) string {
	c := proto.Clone(e).(*p4v1.Entity)
	switch x := c.GetEntity().(type) {
	case *p4v1.Entity_TableEntry:
		x.TableEntry.Action = nil
	case *p4v1.Entity_MeterEntry:
		x.MeterEntry.Config = nil
	}
	b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(c)
	return string(b)
}

func (f *fakeSwitch) Write(ctx context.Context, r *p4v1.WriteRequest) (*p4v1.WriteResponse, error) {
	f.mu.Lock()
	f.calls++
	hang, delay := f.hang != nil && f.hang(f.calls), f.delay
	f.mu.Unlock()
	if hang {
		<-ctx.Done()
		return nil, status.FromContextError(ctx.Err()).Err()
	}
	time.Sleep(delay)
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.isPrimary(r.GetElectionId()) {
		return nil, status.Error(codes.PermissionDenied, "not primary")
	}
	f.writes++
	failed := false
	details := make([]*anypb.Any, len(r.GetUpdates()))
	for i, u := range r.GetUpdates() {
		code, msg := f.apply(u)
		if code != codes.OK {
			failed = true
		}
		details[i], _ = anypb.New(&p4v1.Error{CanonicalCode: int32(code), Message: msg, Space: "fake", Code: int32(code) + 100})
	}
	if !failed {
		return &p4v1.WriteResponse{}, nil
	}
	st, _ := status.New(codes.Unknown, "write failed").WithDetails()
	p := st.Proto()
	p.Details = details
	return nil, status.ErrorProto(p)
}

func (f *fakeSwitch) apply(u *p4v1.Update) (codes.Code, string) {
	if f.reject != nil {
		if c := f.reject(u); c != codes.OK {
			return c, "rejected by test"
		}
	}
	k := identity(u.GetEntity())
	_, exists := f.entities[k]
	_, isMeter := u.GetEntity().GetEntity().(*p4v1.Entity_MeterEntry)
	switch u.GetType() {
	case p4v1.Update_INSERT:
		if exists {
			return codes.AlreadyExists, "exists"
		}
		f.entities[k] = u.GetEntity()
	case p4v1.Update_MODIFY:
		if !exists && !isMeter {
			return codes.NotFound, "missing"
		}
		f.entities[k] = u.GetEntity()
		if isMeter && f.bmv2Meters {
			f.entities[k] = bmv2Meter(u.GetEntity())
		}
	case p4v1.Update_DELETE:
		if !exists {
			return codes.NotFound, "missing"
		}
		delete(f.entities, k)
	default:
		return codes.InvalidArgument, "bad type"
	}
	return codes.OK, ""
}

func (f *fakeSwitch) Read(r *p4v1.ReadRequest, st p4v1.P4Runtime_ReadServer) error {
	f.mu.Lock()
	keys := make([]string, 0, len(f.entities))
	for k := range f.entities {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []*p4v1.Entity
	for _, req := range r.GetEntities() {
		if m := req.GetMeterEntry(); m != nil && f.bmv2Meters {
			// BMv2 through PI: a wildcard meter read fails as soon as one
			// cell was never configured; so does reading such a cell.
			if m.GetIndex() == nil {
				f.mu.Unlock()
				return status.Error(codes.Unknown, "Error when reading meter spec from target")
			}
			e, ok := f.entities[identity(req)]
			if !ok {
				f.mu.Unlock()
				return status.Error(codes.Unknown, "Error when reading meter spec from target")
			}
			out = append(out, e)
			continue
		}
		for _, k := range keys {
			if e := f.entities[k]; matches(req, e) {
				out = append(out, e)
			}
		}
	}
	out = append(out, f.garbage...)
	f.mu.Unlock()
	return st.Send(&p4v1.ReadResponse{Entities: out})
}

// matches is a small wildcard matcher: same kind, and same table (with the
// same default flag), profile or meter id when the request sets one.
func matches(req, e *p4v1.Entity) bool {
	switch r := req.GetEntity().(type) {
	case *p4v1.Entity_TableEntry:
		te := e.GetTableEntry()
		return te != nil && (r.TableEntry.GetTableId() == 0 || r.TableEntry.GetTableId() == te.GetTableId()) &&
			r.TableEntry.GetIsDefaultAction() == te.GetIsDefaultAction()
	case *p4v1.Entity_ActionProfileMember:
		m := e.GetActionProfileMember()
		return m != nil && (r.ActionProfileMember.GetActionProfileId() == 0 || r.ActionProfileMember.GetActionProfileId() == m.GetActionProfileId())
	case *p4v1.Entity_ActionProfileGroup:
		g := e.GetActionProfileGroup()
		return g != nil && (r.ActionProfileGroup.GetActionProfileId() == 0 || r.ActionProfileGroup.GetActionProfileId() == g.GetActionProfileId())
	case *p4v1.Entity_MeterEntry:
		m := e.GetMeterEntry()
		return m != nil && (r.MeterEntry.GetMeterId() == 0 || r.MeterEntry.GetMeterId() == m.GetMeterId()) &&
			(r.MeterEntry.GetIndex() == nil || r.MeterEntry.GetIndex().GetIndex() == m.GetIndex().GetIndex())
	}
	return false
}

func (f *fakeSwitch) snapshot() (entities map[string]*p4v1.Entity, writes, pushes int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := make(map[string]*p4v1.Entity, len(f.entities))
	for k, v := range f.entities {
		m[k] = v
	}
	return m, f.writes, f.pushes
}

// tableEntry builds a simple exact-match entry for the fake.
func tableEntry(table uint32, key byte, param byte) *p4v1.Entity {
	return &p4v1.Entity{Entity: &p4v1.Entity_TableEntry{TableEntry: &p4v1.TableEntry{
		TableId: table,
		Match:   []*p4v1.FieldMatch{{FieldId: 1, FieldMatchType: &p4v1.FieldMatch_Exact_{Exact: &p4v1.FieldMatch_Exact{Value: []byte{key}}}}},
		Action:  &p4v1.TableAction{Type: &p4v1.TableAction_Action{Action: &p4v1.Action{ActionId: 7, Params: []*p4v1.Action_Param{{ParamId: 1, Value: []byte{param}}}}}},
	}}}
}

func insert(e *p4v1.Entity) Change {
	return Change{Update: &p4v1.Update{Type: p4v1.Update_INSERT, Entity: e}}
}

func key(e *p4v1.Entity) byte {
	return e.GetTableEntry().GetMatch()[0].GetExact().GetValue()[0]
}
