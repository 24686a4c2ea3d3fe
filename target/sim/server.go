package sim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/protoadapt"
)

// APIVersion is the P4Runtime version reported by Capabilities (§17).
const APIVersion = "1.5.0"

// errorSpace names this target in p4.Error.space (§10).
const errorSpace = "p4qos-sim"

// Switch is one simulated P4Runtime device. The zero value is not usable;
// call New.
type Switch struct {
	cfg config
	log *slog.Logger

	// writeMu serialises what changes forwarding state (Write, pipeline
	// config, Restart), so a Write can release mu between chunks without
	// another one interleaving (§12.1: Writes are strictly serializable).
	// Take it before mu.
	writeMu sync.Mutex
	mu      sync.RWMutex
	// fwd is the pipeline P4Runtime requests are validated against and
	// whose state they read and write. dp is the one the data plane (the
	// traffic model) runs; they differ only between VERIFY_AND_SAVE and
	// COMMIT (§14).
	fwd, dp  *pipeline
	roles    map[string]*roleState
	streams  map[*stream]struct{}
	streamID uint64
	servers  []*grpc.Server
	traffic  trafficState
	// cables are the links on the switch's ports (packetio.go).
	cables  map[uint32]*Link
	packets packetCounters
}

type pipeline struct {
	config *p4v1.ForwardingPipelineConfig
	schema *schema
	state  *state
	model  *qosModel // nil when the P4Info lacks the contract names
}

// New returns a switch with no pipeline, not yet serving.
func New(opts ...Option) *Switch {
	c := defaultConfig()
	for _, o := range opts {
		o(&c)
	}
	s := &Switch{
		cfg:     c,
		log:     c.logger.With("device_id", c.deviceID),
		roles:   map[string]*roleState{},
		streams: map[*stream]struct{}{},
	}
	for port, bps := range c.portRate {
		s.SetPortRate(port, bps)
	}
	return s
}

// DeviceID returns the P4Runtime device ID of the switch.
func (s *Switch) DeviceID() uint64 { return s.cfg.deviceID }

// Serve answers P4Runtime on lis until ctx is done or Close is called, then
// closes lis. It returns nil after a normal stop.
func (s *Switch) Serve(ctx context.Context, lis net.Listener) error {
	gs, err := s.newServer()
	if err != nil {
		lis.Close()
		return err
	}
	return s.serve(ctx, lis, gs)
}

// newServer creates and registers a gRPC server, so that Close stops it
// even if it has not started serving yet.
func (s *Switch) newServer() (*grpc.Server, error) {
	tlsCfg, err := s.cfg.serverTLS()
	if err != nil {
		return nil, err
	}
	opts := []grpc.ServerOption{grpc.MaxRecvMsgSize(256 << 20),
		// Controllers ping idle streams (keepalive) to notice a vanished
		// switch; grpc-go's default policy would answer pings more frequent
		// than every 5 minutes with GOAWAY. Switches allow 10s.
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true})}
	if tlsCfg != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(tlsCfg)))
	}
	gs := grpc.NewServer(append(opts, s.cfg.serverOpts...)...)
	p4v1.RegisterP4RuntimeServer(gs, &service{s: s})
	s.mu.Lock()
	s.servers = append(s.servers, gs)
	s.mu.Unlock()
	return gs, nil
}

func (s *Switch) serve(ctx context.Context, lis net.Listener, gs *grpc.Server) error {
	stop := context.AfterFunc(ctx, gs.Stop)
	defer stop()
	s.log.Info("P4Runtime sim serving", "addr", lis.Addr().String())
	err := gs.Serve(lis)
	if err == nil || errors.Is(err, grpc.ErrServerStopped) || ctx.Err() != nil {
		return nil
	}
	return fmt.Errorf("sim: serve %s: %w", lis.Addr(), err)
}

// Start listens on addr (e.g. "127.0.0.1:0") and serves in the background
// until ctx is done or Close is called. It returns the bound address.
func Start(ctx context.Context, addr string, opts ...Option) (*Switch, string, error) {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", fmt.Errorf("sim: listen on %s: %w", addr, err)
	}
	s := New(opts...)
	gs, err := s.newServer()
	if err != nil {
		lis.Close()
		return nil, "", err
	}
	go func() {
		if err := s.serve(ctx, lis, gs); err != nil {
			s.log.Error("sim stopped", "err", err)
		}
	}()
	return s, lis.Addr().String(), nil
}

// Close stops every server started by Serve or Start, breaking all streams.
func (s *Switch) Close() {
	s.mu.Lock()
	servers := s.servers
	s.servers = nil
	s.mu.Unlock()
	for _, gs := range servers {
		gs.Stop()
	}
}

// Restart simulates a full restart of the device (§3.5, §16.2): the
// pipeline config, all forwarding state, counters and meters are gone, every
// stream is broken with UNAVAILABLE, and arbitration forgets the highest
// election IDs. Queue settings (SetQueue) go back to the default and queued
// packets are lost, as BMv2 forgets its thrift queue settings; port rates,
// which model links, stay. The gRPC listener stays up, as a restarted switch
// agent would come back on the same address. Flows set with SetFlows keep
// arriving.
func (s *Switch) Restart() {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fwd, s.dp = nil, nil
	for st := range s.streams {
		st.terminate(status.Error(codes.Unavailable, "switch restarted"))
	}
	s.streams = map[*stream]struct{}{}
	s.roles = map[string]*roleState{}
	s.traffic.restartQueues()
	s.log.Info("switch restarted")
}

// ---- gRPC service ----

type service struct {
	p4v1.UnimplementedP4RuntimeServer
	s *Switch
}

func statusf(c codes.Code, format string, args ...any) error {
	return status.Errorf(c, format, args...)
}

func (svc *service) Capabilities(_ context.Context, req *p4v1.CapabilitiesRequest) (*p4v1.CapabilitiesResponse, error) {
	if d := req.GetDeviceId(); d != 0 && d != svc.s.cfg.deviceID {
		return nil, statusf(codes.NotFound, "unknown device id %d", d)
	}
	return &p4v1.CapabilitiesResponse{P4RuntimeApiVersion: APIVersion}, nil
}

func (svc *service) SetForwardingPipelineConfig(_ context.Context, req *p4v1.SetForwardingPipelineConfigRequest) (*p4v1.SetForwardingPipelineConfigResponse, error) {
	s := svc.s
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.checkPrimary(req.GetDeviceId(), req.GetRole(), req.GetElectionId()); err != nil {
		return nil, err
	}
	if s.roles[req.GetRole()].scope != nil {
		// The pipeline belongs to every role: only full access may set it.
		return nil, statusf(codes.PermissionDenied, "role %q has a scoped role config: it may not set the pipeline", req.GetRole())
	}
	build := func() (*pipeline, error) {
		if req.GetConfig() == nil {
			return nil, statusf(codes.InvalidArgument, "config is required for %v", req.GetAction())
		}
		sc, err := newSchema(req.GetConfig().GetP4Info(), s.cfg.sizeOverride)
		if err != nil {
			return nil, err
		}
		return &pipeline{
			config: proto.Clone(req.GetConfig()).(*p4v1.ForwardingPipelineConfig),
			schema: sc,
			state:  newState(sc),
			model:  newQosModel(sc),
		}, nil
	}
	switch req.GetAction() {
	case p4v1.SetForwardingPipelineConfigRequest_VERIFY:
		_, err := build()
		return &p4v1.SetForwardingPipelineConfigResponse{}, err
	case p4v1.SetForwardingPipelineConfigRequest_VERIFY_AND_SAVE:
		p, err := build()
		if err != nil {
			return nil, err
		}
		// Later Reads and Writes refer to the new config; the data plane
		// keeps running the old one until COMMIT replays them.
		s.fwd = p
		s.log.Info("pipeline saved", "cookie", req.GetConfig().GetCookie().GetCookie(), "schema", p.schema.String())
	case p4v1.SetForwardingPipelineConfigRequest_VERIFY_AND_COMMIT:
		p, err := build()
		if err != nil {
			return nil, err
		}
		s.fwd, s.dp = p, p
		s.log.Info("pipeline committed", "cookie", req.GetConfig().GetCookie().GetCookie(), "schema", p.schema.String())
	case p4v1.SetForwardingPipelineConfigRequest_COMMIT:
		if req.GetConfig() != nil {
			return nil, statusf(codes.InvalidArgument, "COMMIT takes no config")
		}
		if s.fwd == nil || s.fwd == s.dp {
			return nil, statusf(codes.NotFound, "no saved config to commit")
		}
		s.dp = s.fwd
		s.log.Info("saved pipeline committed")
	case p4v1.SetForwardingPipelineConfigRequest_RECONCILE_AND_COMMIT:
		p, err := build()
		if err != nil {
			return nil, err
		}
		if s.fwd != nil {
			if err := reconcile(s.fwd.state, p.state); err != nil {
				return nil, statusf(codes.InvalidArgument, "forwarding state cannot be preserved: %v", status.Convert(err).Message())
			}
		}
		s.fwd, s.dp = p, p
		s.log.Info("pipeline reconciled and committed", "cookie", req.GetConfig().GetCookie().GetCookie())
	default:
		return nil, statusf(codes.InvalidArgument, "unsupported action %v", req.GetAction())
	}
	return &p4v1.SetForwardingPipelineConfigResponse{}, nil
}

func (svc *service) GetForwardingPipelineConfig(_ context.Context, req *p4v1.GetForwardingPipelineConfigRequest) (*p4v1.GetForwardingPipelineConfigResponse, error) {
	s := svc.s
	s.mu.RLock()
	defer s.mu.RUnlock()
	if req.GetDeviceId() != s.cfg.deviceID {
		return nil, statusf(codes.NotFound, "unknown device id %d", req.GetDeviceId())
	}
	if s.fwd == nil {
		return &p4v1.GetForwardingPipelineConfigResponse{}, nil // §15: config unset
	}
	full := s.fwd.config
	out := &p4v1.ForwardingPipelineConfig{}
	if full.GetCookie() != nil {
		out.Cookie = &p4v1.ForwardingPipelineConfig_Cookie{Cookie: full.GetCookie().GetCookie()}
	}
	switch req.GetResponseType() {
	case p4v1.GetForwardingPipelineConfigRequest_ALL:
		out = proto.Clone(full).(*p4v1.ForwardingPipelineConfig)
	case p4v1.GetForwardingPipelineConfigRequest_COOKIE_ONLY:
	case p4v1.GetForwardingPipelineConfigRequest_P4INFO_AND_COOKIE:
		out.P4Info = full.GetP4Info()
	case p4v1.GetForwardingPipelineConfigRequest_DEVICE_CONFIG_AND_COOKIE:
		out.P4DeviceConfig = full.GetP4DeviceConfig()
	default:
		return nil, statusf(codes.InvalidArgument, "unknown response_type %v", req.GetResponseType())
	}
	return &p4v1.GetForwardingPipelineConfigResponse{Config: out}, nil
}

// writeChunk is how many updates a Write applies per hold of the lock:
// small enough that a Read, an arbitration or an Advance waits for
// milliseconds, not for the whole batch.
const writeChunk = 256

func (svc *service) Write(_ context.Context, req *p4v1.WriteRequest) (*p4v1.WriteResponse, error) {
	s := svc.s
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	st, scope, err := s.beginWrite(req)
	if err != nil {
		return nil, err
	}
	if req.GetAtomicity() != p4v1.WriteRequest_CONTINUE_ON_ERROR {
		return s.writeAllOrNone(st, scope, req)
	}
	updates := req.GetUpdates()
	errs := make([]*p4v1.Error, len(updates))
	failed := 0
	for lo := 0; lo < len(updates); lo += writeChunk {
		hi := min(lo+writeChunk, len(updates))
		s.mu.Lock()
		for i, u := range updates[lo:hi] {
			errs[lo+i] = &p4v1.Error{CanonicalCode: int32(codes.OK)}
			err := scope.check(st.schema, req.GetRole(), u)
			if err == nil {
				err = st.apply(u)
			}
			if err != nil {
				failed++
				errs[lo+i] = toP4Error(err)
				s.log.Debug("write update failed", "index", lo+i, "type", u.GetType(), "err", err)
			}
		}
		s.mu.Unlock()
	}
	s.mu.Lock()
	st.commit()
	s.mu.Unlock()
	if failed == 0 {
		return &p4v1.WriteResponse{}, nil
	}
	return nil, batchStatus(fmt.Sprintf("Write failure: %d of %d updates failed", failed, len(errs)), errs)
}

// beginWrite runs the RPC-wide checks of §12 and starts the Write's
// transaction on the state it applies to. Called with writeMu held, which
// keeps that state the current one until the Write ends. It also returns
// what the role may write, as configured when the Write began.
func (s *Switch) beginWrite(req *p4v1.WriteRequest) (*state, *roleScope, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	// §12: device, then primary, then pipeline, in this order.
	if err := s.checkPrimary(req.GetDeviceId(), req.GetRole(), req.GetElectionId()); err != nil {
		return nil, nil, err
	}
	if s.fwd == nil {
		return nil, nil, statusf(codes.FailedPrecondition, "no forwarding pipeline config set")
	}
	if _, ok := p4v1.WriteRequest_Atomicity_name[int32(req.GetAtomicity())]; !ok {
		return nil, nil, statusf(codes.InvalidArgument, "unknown atomicity %v", req.GetAtomicity())
	}
	st := s.fwd.state
	st.begin()
	return st, s.roles[req.GetRole()].scope, nil
}

// batchStatus builds the §12.3 status: UNKNOWN with one p4.Error per
// element of the batch, in order.
func batchStatus(msg string, errs []*p4v1.Error) error {
	st := status.New(codes.Unknown, msg)
	details := make([]protoadapt.MessageV1, len(errs))
	for i, e := range errs {
		details[i] = e
	}
	withDetails, err := st.WithDetails(details...)
	if err != nil {
		return statusf(codes.Internal, "building error details: %v", err)
	}
	return withDetails.Err()
}

func toP4Error(err error) *p4v1.Error {
	st := status.Convert(err)
	return &p4v1.Error{CanonicalCode: int32(st.Code()), Message: st.Message(), Space: errorSpace}
}

func (svc *service) Read(req *p4v1.ReadRequest, srv p4v1.P4Runtime_ReadServer) error {
	s := svc.s
	s.mu.RLock()
	if req.GetDeviceId() != s.cfg.deviceID {
		s.mu.RUnlock()
		return statusf(codes.NotFound, "unknown device id %d", req.GetDeviceId())
	}
	if s.fwd == nil {
		s.mu.RUnlock()
		return statusf(codes.FailedPrecondition, "no forwarding pipeline config set")
	}
	var out []*p4v1.Entity
	errs := make([]*p4v1.Error, len(req.GetEntities()))
	failed := 0
	for i, e := range req.GetEntities() {
		got, err := s.fwd.state.read(e)
		if err != nil {
			failed++
			errs[i] = toP4Error(err)
			continue
		}
		errs[i] = &p4v1.Error{CanonicalCode: int32(codes.OK)}
		out = append(out, got...)
	}
	s.mu.RUnlock()

	// §13.3: the server may split the result over several messages.
	const chunk = 500
	for len(out) > 0 {
		n := min(chunk, len(out))
		if err := srv.Send(&p4v1.ReadResponse{Entities: out[:n]}); err != nil {
			return err
		}
		out = out[n:]
	}
	if failed > 0 {
		return batchStatus(fmt.Sprintf("Read failure: %d of %d requests failed", failed, len(errs)), errs)
	}
	return nil
}

func (svc *service) StreamChannel(ss p4v1.P4Runtime_StreamChannelServer) error {
	s := svc.s
	s.mu.Lock()
	s.streamID++
	st := &stream{id: s.streamID, out: make(chan *p4v1.StreamMessageResponse, 256), kill: make(chan error, 1)}
	s.streams[st] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.dropStream(st)
		s.mu.Unlock()
	}()

	ctx := ss.Context()
	recv := make(chan *p4v1.StreamMessageRequest)
	recvErr := make(chan error, 1)
	go func() {
		for {
			m, err := ss.Recv()
			if err != nil {
				recvErr <- err
				return
			}
			select {
			case recv <- m:
			case <-ctx.Done():
				return
			}
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return status.FromContextError(ctx.Err()).Err()
		case err := <-st.kill:
			return err
		case err := <-recvErr:
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		case msg := <-st.out:
			if err := ss.Send(msg); err != nil {
				return err
			}
		case m := <-recv:
			if err := s.handleStreamMessage(st, m); err != nil {
				// Flush what was queued before, then end the stream.
				return err
			}
		}
	}
}

func (s *Switch) handleStreamMessage(st *stream, m *p4v1.StreamMessageRequest) error {
	if p, ok := m.GetUpdate().(*p4v1.StreamMessageRequest_Packet); ok {
		s.packetOut(st, p.Packet) // takes mu itself, then the peer's
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch v := m.GetUpdate().(type) {
	case *p4v1.StreamMessageRequest_Arbitration:
		return s.arbitrate(st, v.Arbitration)
	case *p4v1.StreamMessageRequest_DigestAck:
		s.digestAck(st, v.DigestAck)
	default:
		s.otherStreamMessage(st, m)
	}
	return nil
}
