package controlplane

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"sync"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/p4qos/p4qos/controlplane/p4wire"
)

// Message-size limits, after the P4Runtime spec's appendix "Guidelines for
// Implementations". A failed Write returns one p4.Error per update in the
// RPC status, which travels as metadata; gRPC C++ limits metadata to 8 KB by
// default, and the spec suggests clients allow at least 8192 + 100 bytes per
// update of their largest batch. Pipeline configs (a Tofino binary is tens of
// MiB) and big read responses exceed gRPC's 4 MiB default message size. The
// limits are generous rather than tight: the switch is trusted this far.
const (
	MaxMessageSize  = 256 << 20
	MaxMetadataSize = 64 << 20
)

// ElectionID is the 128-bit P4Runtime election id (spec §5): the stream with
// the highest id for a role is the primary.
type ElectionID struct{ High, Low uint64 }

// Compare returns -1, 0 or +1.
func (e ElectionID) Compare(o ElectionID) int {
	switch {
	case e.High < o.High || (e.High == o.High && e.Low < o.Low):
		return -1
	case e == o:
		return 0
	}
	return 1
}

func (e ElectionID) String() string {
	if e.High == 0 {
		return fmt.Sprintf("%d", e.Low)
	}
	return fmt.Sprintf("%d:%d", e.High, e.Low)
}

func (e ElectionID) proto() *p4v1.Uint128 { return &p4v1.Uint128{High: e.High, Low: e.Low} }

func electionFromProto(u *p4v1.Uint128) ElectionID {
	return ElectionID{High: u.GetHigh(), Low: u.GetLow()}
}

// State is a session's observable state.
type State struct {
	// Connected is true while a StreamChannel is open and arbitrated.
	Connected bool
	// Primary is true when this session is the primary for its role.
	Primary bool
	// PrimaryElectionID is the highest election id the switch reported for
	// the role (the primary's), when known.
	PrimaryElectionID ElectionID
	// Stream counts arbitrated streams; a new value after a break means the
	// switch may have lost its state (a restart) and must be re-checked.
	Stream uint64
	// Err is the reason of the last stream failure, if any.
	Err error
	// Term counts the times this session became primary; a new value means
	// another controller may have written in between (cluster failover).
	Term uint64
	// Fenced counts writes the switch refused with PERMISSION_DENIED
	// while this session took itself for the primary: another controller
	// with a higher election id took over (cluster fencing).
	Fenced uint64
	// Fatal is set when the session gave up: the switch keeps refusing
	// its arbitration (another live controller holds the same election
	// id, spec §5.3). Retrying cannot help; the operator must act.
	Fatal error
}

// SwitchConfig names one switch.
type SwitchConfig struct {
	// Name is used in logs and metrics.
	Name string
	// Address is host:port of the P4Runtime server.
	Address string
	// DeviceID is the P4Runtime device id.
	DeviceID uint64
}

// Session is the controller's connection to one switch: a gRPC client plus
// an arbitrated StreamChannel kept open (and re-opened) in the background.
type Session struct {
	sw     SwitchConfig
	cfg    sessionConfig
	conn   *grpc.ClientConn
	client p4v1.P4RuntimeClient
	log    *slog.Logger

	mu      sync.Mutex
	state   State
	changed chan struct{} // closed and replaced on every state change
	// send writes to the current stream (nil without one); packet-outs
	// and arbitration share it, so it serialises Send.
	send   func(*p4v1.StreamMessageRequest) error
	bucket *tokenBucket // packet-out rate limit; nil: none

	cancel context.CancelFunc
	done   chan struct{}

	// arb guards the election id, standby and the live stream's sends.
	arb     sync.Mutex
	live    p4v1.P4Runtime_StreamChannelClient
	standby bool
	// electionPB is cfg.election as every WriteRequest carries it, built
	// once per change of id rather than once per RPC; read-only once
	// set, so concurrent writes may share it.
	electionPB *p4v1.Uint128
}

type sessionConfig struct {
	election   ElectionID
	role       string
	roleConfig *anypb.Any
	creds      credentials.TransportCredentials
	backoffMin time.Duration
	backoffMax time.Duration
	kaTime     time.Duration
	kaTimeout  time.Duration
	logger     *slog.Logger
	dialOpts   []grpc.DialOption
	onState    func(State)
	rpcTimeout time.Duration
	readOnly   bool
	// packet I/O (packetio.go)
	packetRate  float64
	packetBurst int
	onPacket    func(sw string, p *p4v1.PacketIn)
}

// SessionOption configures a Session.
type SessionOption func(*sessionConfig)

// WithElectionID sets the election id (default 1). Two controllers for the
// same role must use different ids (spec §5.3).
func WithElectionID(id ElectionID) SessionOption { return func(c *sessionConfig) { c.election = id } }

// WithRole arbitrates for a named role with an optional role config (spec
// §5.2). The empty name is the default role with full pipeline access.
func WithRole(name string, config *anypb.Any) SessionOption {
	return func(c *sessionConfig) { c.role, c.roleConfig = name, config }
}

// WithTransportCredentials sets TLS (or other) credentials; the default is
// plaintext, as BMv2 and the sim serve.
func WithTransportCredentials(tc credentials.TransportCredentials) SessionOption {
	return func(c *sessionConfig) { c.creds = tc }
}

// WithBackoff sets the reconnect backoff bounds (default 100ms..30s).
func WithBackoff(min, max time.Duration) SessionOption {
	return func(c *sessionConfig) { c.backoffMin, c.backoffMax = min, max }
}

// WithKeepalive sets the gRPC keepalive ping interval and timeout (default
// 30s/10s). Servers built on grpc-go must permit this rate in their
// keepalive enforcement policy.
func WithKeepalive(interval, timeout time.Duration) SessionOption {
	return func(c *sessionConfig) { c.kaTime, c.kaTimeout = interval, timeout }
}

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) SessionOption { return func(c *sessionConfig) { c.logger = l } }

// WithDialOptions appends raw gRPC dial options (tests use a bufconn dialer).
func WithDialOptions(o ...grpc.DialOption) SessionOption {
	return func(c *sessionConfig) { c.dialOpts = append(c.dialOpts, o...) }
}

// WithReadOnly makes a session that opens no StreamChannel: it can read
// (counters, entries) beside a running controller without taking part in
// arbitration, and refuses every write.
func WithReadOnly() SessionOption { return func(c *sessionConfig) { c.readOnly = true } }

// WithStateCallback calls f (from the session's goroutine) on every state change.
func WithStateCallback(f func(State)) SessionOption { return func(c *sessionConfig) { c.onState = f } }

// WithRPCTimeout bounds each unary RPC (default 30s; pipeline pushes get
// 10x, reads 4x): a Write the switch has not answered within d is
// cancelled and fails with DEADLINE_EXCEEDED, however many RPCs the Apply
// that sent it makes (writer.go).
func WithRPCTimeout(d time.Duration) SessionOption {
	return func(c *sessionConfig) { c.rpcTimeout = d }
}

// TLSFiles builds client TLS credentials from PEM files: a CA bundle to
// verify the switch, and optionally a client certificate and key for mTLS.
// Unreadable or malformed files are reported with their path.
func TLSFiles(caFile, certFile, keyFile string) (credentials.TransportCredentials, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("read TLS CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("TLS CA %s: no PEM certificate found", caFile)
		}
		cfg.RootCAs = pool
	}
	if (certFile == "") != (keyFile == "") {
		return nil, errors.New("TLS client certificate and key must be given together")
	}
	if certFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("load TLS client certificate %s / key %s: %w", certFile, keyFile, err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return credentials.NewTLS(cfg), nil
}

// Dial creates a session and starts its stream in the background. It does
// not wait for the switch: use WaitPrimary. Close releases it.
func Dial(sw SwitchConfig, opts ...SessionOption) (*Session, error) {
	cfg := sessionConfig{
		election:    ElectionID{Low: 1},
		backoffMin:  100 * time.Millisecond,
		backoffMax:  DefaultBackoffMax,
		kaTime:      30 * time.Second,
		kaTimeout:   10 * time.Second,
		rpcTimeout:  30 * time.Second,
		packetRate:  DefaultPacketOutRate,
		packetBurst: DefaultPacketOutRate,
	}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.logger == nil {
		cfg.logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.creds == nil {
		cfg.creds = insecure.NewCredentials()
	}
	if cfg.backoffMin <= 0 {
		cfg.backoffMin = 100 * time.Millisecond
	}
	if cfg.backoffMax < cfg.backoffMin {
		cfg.backoffMax = cfg.backoffMin
	}
	dopts := []grpc.DialOption{
		grpc.WithTransportCredentials(cfg.creds),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(MaxMessageSize), grpc.MaxCallSendMsgSize(MaxMessageSize)),
		grpc.WithMaxHeaderListSize(MaxMetadataSize),
		// gRPC's own reconnection backoff (up to 120 s by default) would
		// make a stream opened right after the switch returns fail fast;
		// keep it within the session's own bound.
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: backoff.Config{
			BaseDelay: cfg.backoffMin, Multiplier: 1.6, Jitter: 0.2, MaxDelay: cfg.backoffMax,
		}, MinConnectTimeout: 5 * time.Second}),
	}
	if cfg.kaTime > 0 {
		dopts = append(dopts, grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: cfg.kaTime, Timeout: cfg.kaTimeout}))
	}
	dopts = append(dopts, cfg.dialOpts...)
	conn, err := grpc.NewClient(sw.Address, dopts...)
	if err != nil {
		return nil, fmt.Errorf("switch %s (%s): %w", sw.Name, sw.Address, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Session{
		sw:         sw,
		cfg:        cfg,
		conn:       conn,
		client:     p4v1.NewP4RuntimeClient(conn),
		log:        cfg.logger.With("switch", sw.Name, "addr", sw.Address, "device_id", sw.DeviceID),
		changed:    make(chan struct{}),
		cancel:     cancel,
		done:       make(chan struct{}),
		electionPB: cfg.election.proto(),
	}
	if cfg.packetRate > 0 {
		s.bucket = &tokenBucket{rate: cfg.packetRate, burst: float64(max(cfg.packetBurst, 1))}
	}
	if cfg.readOnly {
		// No stream: never primary, so every write is refused (reads need
		// no arbitration, spec §11).
		close(s.done)
		return s, nil
	}
	go s.run(ctx)
	return s, nil
}

// Switch returns the switch this session talks to.
func (s *Session) Switch() SwitchConfig { return s.sw }

// ElectionID returns this session's election id.
func (s *Session) ElectionID() ElectionID {
	s.arb.Lock()
	defer s.arb.Unlock()
	return s.cfg.election
}

// SetElectionID changes the session's election id, on the live stream at
// once (spec §5.3: a client may send a new id on its stream) and for every
// later stream. A standby session never counts itself primary and writes
// nothing, even where the switch would take it as primary (a fresh switch
// makes the first client primary whatever its id): cluster mode arbitrates
// with a low id as a backup and a fencing id as the master (controller/cluster).
func (s *Session) SetElectionID(id ElectionID, standby bool) error {
	if standby {
		// Under the state lock (arb inside it, as the stream does), so no
		// answer the stream is applying can mark a standby primary.
		s.setState(func(st *State) {
			s.arb.Lock()
			s.standby = true
			s.arb.Unlock()
			st.Primary = false
		})
	}
	s.arb.Lock()
	s.cfg.election, s.standby, s.electionPB = id, standby, id.proto()
	live := s.live
	var err error
	if live != nil {
		err = live.Send(&p4v1.StreamMessageRequest{Update: &p4v1.StreamMessageRequest_Arbitration{Arbitration: s.arbitrationLocked()}})
	}
	s.arb.Unlock()
	if err != nil {
		return fmt.Errorf("switch %s: send arbitration: %w", s.sw.Name, err)
	}
	return nil
}

func (s *Session) arbitrationLocked() *p4v1.MasterArbitrationUpdate {
	arb := &p4v1.MasterArbitrationUpdate{DeviceId: s.sw.DeviceID, ElectionId: s.cfg.election.proto()}
	if s.cfg.role != "" {
		arb.Role = &p4v1.Role{Name: s.cfg.role, Config: s.cfg.roleConfig}
	}
	return arb
}

// sendArbitration sends the current arbitration on st.
func (s *Session) sendArbitration(st p4v1.P4Runtime_StreamChannelClient) error {
	s.arb.Lock()
	defer s.arb.Unlock()
	return st.Send(&p4v1.StreamMessageRequest{Update: &p4v1.StreamMessageRequest_Arbitration{Arbitration: s.arbitrationLocked()}})
}

// Client returns the raw P4Runtime client (for reads by tools and tests).
func (s *Session) Client() p4v1.P4RuntimeClient { return s.client }

// State returns the current state.
func (s *Session) State() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state
}

// Changed returns a channel that is closed at the next state change.
// Callers that act on the state must use Watch instead: a change between
// State and Changed would be missed.
func (s *Session) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

// Watch returns the state together with the channel closed at its next
// change, taken atomically, so that no change goes unnoticed.
func (s *Session) Watch() (State, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state, s.changed
}

// WaitPrimary blocks until the session is primary or ctx ends.
func (s *Session) WaitPrimary(ctx context.Context) error {
	return s.WaitFor(ctx, func(st State) bool { return st.Primary })
}

// WaitFor blocks until cond holds for the state or ctx ends.
func (s *Session) WaitFor(ctx context.Context, cond func(State) bool) error {
	for {
		st, ch := s.Watch()
		if cond(st) {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			switch {
			case st.Connected && !st.Primary:
				return fmt.Errorf("switch %s (%s): %w while backup: the primary has election id %s, ours is %s",
					s.sw.Name, s.sw.Address, ctx.Err(), st.PrimaryElectionID, s.ElectionID())
			case !st.Connected && st.Err != nil:
				return fmt.Errorf("switch %s (%s): not reachable: %v: %w", s.sw.Name, s.sw.Address, st.Err, ctx.Err())
			case !st.Connected:
				return fmt.Errorf("switch %s (%s): not connected: %w", s.sw.Name, s.sw.Address, ctx.Err())
			}
			return fmt.Errorf("switch %s: %w", s.sw.Name, ctx.Err())
		}
	}
}

// Close stops the stream and closes the connection.
func (s *Session) Close() error {
	s.cancel()
	<-s.done
	return s.conn.Close()
}

func (s *Session) setState(f func(*State)) {
	s.mu.Lock()
	old := s.state
	f(&s.state)
	if s.state.Primary && !old.Primary {
		s.state.Term++
	}
	st := s.state
	if old.Connected == st.Connected && old.Primary == st.Primary &&
		old.PrimaryElectionID == st.PrimaryElectionID && old.Stream == st.Stream && old.Term == st.Term && old.Fenced == st.Fenced &&
		errText(old.Err) == errText(st.Err) && errText(old.Fatal) == errText(st.Fatal) {
		s.mu.Unlock()
		return
	}
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
	if s.cfg.onState != nil {
		s.cfg.onState(st)
	}
}

// DefaultBackoffMax caps the wait between reconnection attempts. A switch
// that comes back is usually noticed sooner, by the port probe below; the cap
// bounds the cases the probe cannot see (a port that answers while the
// P4Runtime server is still starting): 5 s keeps a restarted switch's
// re-programming within a few seconds of its return, while a switch that
// stays down costs one failed dial per 5 s.
const DefaultBackoffMax = 5 * time.Second

// portProbeInterval is how often, while waiting to reconnect to a switch
// that was unreachable, its TCP port is tried; the stream is retried as
// soon as the port answers, whatever the backoff says.
const portProbeInterval = 200 * time.Millisecond

// conflictLimit is how many times in a row the switch may refuse this
// session's election id before the session gives up. More than one,
// because a controller restarted at once can find its previous stream not
// yet closed on the switch.
const conflictLimit = 3

// run keeps a StreamChannel open, re-opening it with capped exponential
// backoff and full jitter after every failure.
func (s *Session) run(ctx context.Context) {
	defer close(s.done)
	delay := s.cfg.backoffMin
	var (
		lastMsg   string
		lastWarn  time.Time
		conflicts int
	)
	for ctx.Err() == nil {
		arbitrated, err := s.stream(ctx)
		if ctx.Err() != nil {
			break
		}
		s.setState(func(st *State) { st.Connected, st.Primary, st.Err = false, false, err })
		if !arbitrated && status.Code(err) == codes.InvalidArgument {
			if conflicts++; conflicts >= conflictLimit {
				fatal := &ElectionConflictError{Switch: s.sw.Name, ElectionID: s.ElectionID(), Role: s.cfg.role, Reason: err}
				s.log.Error("giving up on the switch", "err", fatal)
				s.setState(func(st *State) { st.Fatal = fatal })
				return
			}
		} else {
			conflicts = 0
		}
		if arbitrated {
			delay = s.cfg.backoffMin // the switch was up: retry promptly
			lastMsg = ""
		}
		wait := time.Duration(rand.Int64N(int64(delay))) + delay/2
		// An unreachable switch is reported at once, then every 30s (and
		// whenever the reason changes), not on every retry.
		if msg := fmt.Sprint(err); msg != lastMsg || time.Since(lastWarn) >= 30*time.Second {
			s.log.Warn("p4runtime stream down, retrying", "err", err, "retry_in", wait.Round(time.Millisecond))
			lastMsg, lastWarn = msg, time.Now()
		} else {
			s.log.Debug("p4runtime stream down, retrying", "err", err, "retry_in", wait.Round(time.Millisecond))
		}
		s.waitRetry(ctx, wait, status.Code(err) == codes.Unavailable)
		delay = min(delay*2, s.cfg.backoffMax)
	}
	s.setState(func(st *State) { st.Connected, st.Primary = false, false })
}

// waitRetry waits d, or less when probe is set and the switch's TCP port
// answers: then gRPC's own connection backoff is reset too, so the next
// stream does not fail fast on a channel still in TRANSIENT_FAILURE.
func (s *Session) waitRetry(ctx context.Context, d time.Duration, probe bool) {
	t := time.NewTimer(d)
	defer t.Stop()
	var tick <-chan time.Time
	if _, _, err := net.SplitHostPort(s.sw.Address); probe && err == nil {
		pt := time.NewTicker(portProbeInterval)
		defer pt.Stop()
		tick = pt.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			return
		case <-tick:
			conn, err := (&net.Dialer{Timeout: portProbeInterval}).DialContext(ctx, "tcp", s.sw.Address)
			if err != nil {
				continue
			}
			_ = conn.Close()
			s.log.Debug("switch port answers again; reconnecting now")
			s.conn.ResetConnectBackoff()
			return
		}
	}
}

// stream runs one StreamChannel until it breaks; arbitrated says whether the
// switch answered the arbitration.
func (s *Session) stream(ctx context.Context) (arbitrated bool, err error) {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// No WaitForReady: while the switch is down the call fails at once, so
	// the failure is logged and retried with our backoff, not hidden.
	st, err := s.client.StreamChannel(sctx)
	if err != nil {
		return false, fmt.Errorf("open stream: %w", err)
	}
	s.arb.Lock()
	err = st.Send(&p4v1.StreamMessageRequest{Update: &p4v1.StreamMessageRequest_Arbitration{Arbitration: s.arbitrationLocked()}})
	s.live = st
	s.arb.Unlock()
	// Packet-outs share the stream: every Send holds s.arb (gRPC allows one
	// Send at a time on a stream), as the arbitration sends do.
	send := func(m *p4v1.StreamMessageRequest) error {
		s.arb.Lock()
		defer s.arb.Unlock()
		return st.Send(m)
	}
	s.mu.Lock()
	s.send = send
	s.mu.Unlock()
	defer func() {
		s.arb.Lock()
		s.live = nil
		s.arb.Unlock()
		s.mu.Lock()
		s.send = nil
		s.mu.Unlock()
	}()
	if err != nil {
		return false, fmt.Errorf("send arbitration: %w", err)
	}
	first := true
	for {
		msg, err := st.Recv()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = errors.New("stream closed by the switch")
			}
			return arbitrated, err
		}
		switch m := msg.GetUpdate().(type) {
		case *p4v1.StreamMessageResponse_Arbitration:
			a := m.Arbitration
			if a.GetDeviceId() != s.sw.DeviceID {
				s.log.Warn("arbitration update for another device ignored", "got_device_id", a.GetDeviceId())
				continue
			}
			// Spec §5.4: status OK for the primary; ALREADY_EXISTS (or
			// another non-OK code) for a backup.
			code := codes.Code(a.GetStatus().GetCode())
			ours := s.ElectionID()
			eid := electionFromProto(a.GetElectionId())
			arbitrated = true
			newStream := first
			first = false
			var primary bool
			s.setState(func(st *State) {
				// Read standby with the state held, so that a concurrent
				// SetElectionID(standby) is never overwritten by an
				// answer it raced with.
				s.arb.Lock()
				primary = code == codes.OK && !s.standby
				s.arb.Unlock()
				st.Connected, st.Primary, st.PrimaryElectionID, st.Err = true, primary, eid, nil
				if newStream {
					st.Stream++
				}
			})
			s.log.Info("arbitration", "primary", primary, "election_id", ours.String(),
				"primary_election_id", eid.String(), "status", code.String())
			// Spec §5.3: an update whose id is at least the highest ever
			// seen for the role makes its sender primary. A switch that
			// reports no primary (NOT_FOUND, e.g. the primary left) with a
			// highest id not above ours is therefore told again.
			if code == codes.NotFound && ours.Compare(eid) >= 0 {
				if err := s.sendArbitration(st); err != nil {
					return arbitrated, fmt.Errorf("re-send arbitration: %w", err)
				}
			}
		case *p4v1.StreamMessageResponse_Packet:
			if s.cfg.onPacket != nil {
				s.cfg.onPacket(s.sw.Name, m.Packet)
			}
		case *p4v1.StreamMessageResponse_Error:
			se := m.Error
			s.log.Warn("stream error from switch", "code", codes.Code(se.GetCanonicalCode()).String(), "message", se.GetMessage(),
				"packet_out", se.GetPacketOut() != nil)
		case nil:
			s.log.Debug("empty stream message ignored")
		default:
			s.log.Debug("stream message ignored", "type", fmt.Sprintf("%T", m))
		}
	}
}

func (s *Session) callCtx(ctx context.Context, scale int) (context.Context, context.CancelFunc) {
	if s.cfg.rpcTimeout <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, s.cfg.rpcTimeout*time.Duration(scale))
}

// electionProto returns the election id that writes carry now.
func (s *Session) electionProto() *p4v1.Uint128 {
	s.arb.Lock()
	defer s.arb.Unlock()
	return s.electionPB
}

// isPrimary is State().Primary without copying the whole state: it is
// asked before every Write RPC.
func (s *Session) isPrimary() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state.Primary
}

// noteFenced records a write the switch refused because another client is
// primary: the session stops counting itself primary until the switch says
// otherwise.
func (s *Session) noteFenced(err error) {
	if status.Code(err) != codes.PermissionDenied {
		return
	}
	s.log.Warn("write refused by the switch: another controller is primary", "election_id", s.ElectionID().String(), "err", err)
	s.setState(func(st *State) { st.Primary = false; st.Fenced++ })
}

// Read sends one ReadRequest (wildcards allowed, spec §13.2) and collects the
// whole response stream.
func (s *Session) Read(ctx context.Context, entities ...*p4v1.Entity) ([]*p4v1.Entity, error) {
	raw, err := s.readRaw(ctx, entities...)
	if err != nil {
		return nil, err
	}
	return decodeRead(raw)
}

// isNoPipeline reports whether err says the switch has no pipeline yet
// (PI/BMv2 answer FAILED_PRECONDITION; others NOT_FOUND).
func isNoPipeline(err error) bool {
	c := status.Code(err)
	return c == codes.FailedPrecondition || c == codes.NotFound
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// readRaw is Read with the responses left undecoded (p4wire.Raw), in
// order. p4wire decodes them without protobuf reflection (the largest
// cost of reading a large fabric), falling back to proto.Unmarshal for
// anything it does not know.
func (s *Session) readRaw(ctx context.Context, entities ...*p4v1.Entity) ([]p4wire.Raw, error) {
	ctx, cancel := s.callCtx(ctx, 4)
	defer cancel()
	stream, err := s.client.Read(ctx, &p4v1.ReadRequest{DeviceId: s.sw.DeviceID, Role: s.cfg.role, Entities: entities}, grpc.ForceCodecV2(p4wire.Codec()))
	if err != nil {
		return nil, wrapRPC("read", err)
	}
	var out []p4wire.Raw
	for {
		var r p4wire.Raw
		err := stream.RecvMsg(&r)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, wrapRPC("read", err)
		}
		out = append(out, r)
	}
}

// decodeRead decodes readRaw's responses into their entities, in order.
func decodeRead(raw []p4wire.Raw) ([]*p4v1.Entity, error) {
	var out []*p4v1.Entity
	for i := range raw {
		var resp p4v1.ReadResponse
		if err := raw[i].Decode(&resp); err != nil {
			return nil, wrapRPC("read", err)
		}
		for _, e := range resp.GetEntities() {
			if e != nil {
				out = append(out, e)
			}
		}
	}
	return out, nil
}
