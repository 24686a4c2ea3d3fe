package sim

import (
	"sort"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// stream is one StreamChannel, i.e. one P4Runtime client (§5).
type stream struct {
	id  uint64
	out chan *p4v1.StreamMessageResponse
	// kill carries the status that terminates the stream; capacity 1.
	kill chan error

	// Guarded by Switch.mu.
	arbitrated bool
	role       string
	electionID *p4v1.Uint128 // nil: unset, never primary (§16.2.1)
}

// send queues msg for the client. A client that stops reading does not get
// to block the switch: its stream is terminated instead.
func (st *stream) send(msg *p4v1.StreamMessageResponse) {
	select {
	case st.out <- msg:
	default:
		st.terminate(statusf(codes.ResourceExhausted, "stream send queue full: client is not reading"))
	}
}

func (st *stream) terminate(err error) {
	select {
	case st.kill <- err:
	default:
	}
}

// roleState is the arbitration state of one (device, role) pair.
//
// Only highest outlives the role's streams: §5 makes the primary the client
// with the highest election ID ever received for the role, so forgetting it
// would let a lower ID take over once the primary is gone. The config and
// the member set are freed with the last stream (release): the config only
// scopes the primary's writes and is echoed to the role's clients, and a
// new primary brings its own (§5.3). A role that never had a primary is
// dropped altogether.
type roleState struct {
	// highest is election_id_past of §5.3: the highest election ID that
	// ever won primary for the role; only a full restart forgets it.
	highest *p4v1.Uint128
	primary *stream
	config  *anypb.Any
	scope   *roleScope       // what config lets the primary write; nil: everything
	members map[*stream]bool // nil while the role has no stream
}

func cmp128(a, b *p4v1.Uint128) int {
	switch {
	case a.GetHigh() != b.GetHigh():
		if a.GetHigh() < b.GetHigh() {
			return -1
		}
		return 1
	case a.GetLow() != b.GetLow():
		if a.GetLow() < b.GetLow() {
			return -1
		}
		return 1
	}
	return 0
}

func clone128(a *p4v1.Uint128) *p4v1.Uint128 {
	if a == nil {
		return nil
	}
	return &p4v1.Uint128{High: a.GetHigh(), Low: a.GetLow()}
}

// arbitrate applies a MasterArbitrationUpdate received on st (§5.3). A
// non-nil error terminates the stream with that status. Called with mu held.
func (s *Switch) arbitrate(st *stream, upd *p4v1.MasterArbitrationUpdate) error {
	role := upd.GetRole().GetName()
	eid := clone128(upd.GetElectionId())
	if !st.arbitrated {
		if upd.GetDeviceId() != s.cfg.deviceID {
			return statusf(codes.NotFound, "unknown device id %d (this is device %d)", upd.GetDeviceId(), s.cfg.deviceID)
		}
	} else {
		if upd.GetDeviceId() != s.cfg.deviceID {
			return statusf(codes.FailedPrecondition, "device id changed on a live stream")
		}
		if role != st.role {
			return statusf(codes.FailedPrecondition, "role changed on a live stream (%q -> %q): open a new stream", st.role, role)
		}
	}
	// §5.3 checks the election id before the config on a new stream and
	// after it on a live one; only the code matters, both are
	// INVALID_ARGUMENT.
	scope, err := parseRoleConfig(role, upd.GetRole().GetConfig())
	if err != nil {
		return err
	}
	rs := s.roles[role]
	if rs == nil {
		rs = &roleState{}
		s.roles[role] = rs
	}
	if rs.members == nil {
		rs.members = map[*stream]bool{}
	}
	if eid != nil {
		for other := range rs.members {
			if other != st && other.electionID != nil && cmp128(other.electionID, eid) == 0 {
				return statusf(codes.InvalidArgument, "election id {high:%d low:%d} is already used by another live client of role %q", eid.GetHigh(), eid.GetLow(), role)
			}
		}
	}
	st.arbitrated, st.role, st.electionID = true, role, eid
	rs.members[st] = true

	wasPrimary := rs.primary == st
	if eid != nil && (rs.highest == nil || cmp128(eid, rs.highest) >= 0) {
		rs.highest = eid
		rs.primary = st
		rs.config, rs.scope = upd.GetRole().GetConfig(), scope
		s.log.Info("arbitration: new primary", "role", role, "election_id_high", eid.GetHigh(), "election_id_low", eid.GetLow(), "stream", st.id)
		s.notifyRole(role, rs, nil)
		return nil
	}
	if wasPrimary {
		// The primary downgraded itself: everyone learns there is none.
		rs.primary = nil
		s.log.Info("arbitration: primary stepped down", "role", role, "stream", st.id)
		s.notifyRole(role, rs, nil)
		return nil
	}
	s.notifyRole(role, rs, st)
	return nil
}

// notifyRole sends the §5.4 advisory to every member of the role, or only
// to `only` when it is non-nil.
func (s *Switch) notifyRole(role string, rs *roleState, only *stream) {
	members := make([]*stream, 0, len(rs.members))
	for m := range rs.members {
		if only == nil || m == only {
			members = append(members, m)
		}
	}
	sort.Slice(members, func(i, j int) bool { return members[i].id < members[j].id })
	for _, m := range members {
		upd := &p4v1.MasterArbitrationUpdate{
			DeviceId:   s.cfg.deviceID,
			ElectionId: clone128(rs.highest),
		}
		if role != "" || rs.config != nil {
			upd.Role = &p4v1.Role{Name: role}
			if rs.config != nil {
				upd.Role.Config = proto.Clone(rs.config).(*anypb.Any)
			}
		}
		switch {
		case rs.primary == m:
			upd.Status = &status.Status{Code: int32(codes.OK)}
		case rs.primary != nil:
			upd.Status = &status.Status{Code: int32(codes.AlreadyExists), Message: "a primary client exists for this role"}
		default:
			upd.Status = &status.Status{Code: int32(codes.NotFound), Message: "no primary client for this role"}
		}
		m.send(&p4v1.StreamMessageResponse{Update: &p4v1.StreamMessageResponse_Arbitration{Arbitration: upd}})
	}
}

// dropStream forgets a broken stream. Called with mu held.
func (s *Switch) dropStream(st *stream) {
	delete(s.streams, st)
	if !st.arbitrated {
		return
	}
	rs := s.roles[st.role]
	if rs == nil {
		return
	}
	delete(rs.members, st)
	if len(rs.members) == 0 {
		s.release(st.role, rs)
		return
	}
	if rs.primary != st {
		return
	}
	rs.primary = nil
	s.log.Info("arbitration: primary disconnected", "role", st.role, "stream", st.id)
	if s.cfg.promoteNext {
		var best *stream
		for m := range rs.members {
			if m.electionID != nil && (best == nil || cmp128(m.electionID, best.electionID) > 0) {
				best = m
			}
		}
		if best != nil {
			rs.primary = best
			s.log.Info("arbitration: promoted next-highest backup", "role", st.role, "stream", best.id)
		}
	}
	s.notifyRole(st.role, rs, nil)
}

// release frees what a role holds for its clients once the last one is
// gone, keeping only the highest election ID (see roleState). Called with
// mu held.
func (s *Switch) release(role string, rs *roleState) {
	if rs.primary != nil {
		s.log.Info("arbitration: primary disconnected", "role", role, "stream", rs.primary.id)
	}
	rs.primary, rs.config, rs.scope, rs.members = nil, nil, nil, nil
	if rs.highest == nil {
		delete(s.roles, role)
	}
}

// checkPrimary applies the first two checks of §12 / §14 to a request that
// mutates state. Called with mu held.
func (s *Switch) checkPrimary(deviceID uint64, role string, eid *p4v1.Uint128) error {
	if deviceID != s.cfg.deviceID {
		return statusf(codes.NotFound, "unknown device id %d (this is device %d)", deviceID, s.cfg.deviceID)
	}
	rs := s.roles[role]
	if rs == nil && role != "" {
		return statusf(codes.NotFound, "unknown role %q", role)
	}
	if rs == nil || rs.primary == nil {
		return statusf(codes.PermissionDenied, "no primary client for role %q", role)
	}
	if eid == nil || cmp128(eid, rs.primary.electionID) != 0 {
		return statusf(codes.PermissionDenied, "election id {high:%d low:%d} is not the primary's for role %q", eid.GetHigh(), eid.GetLow(), role)
	}
	return nil
}

// RoleInfo is what the switch holds for one role (§5).
type RoleInfo struct {
	Name string
	// Streams counts the live clients arbitrated for the role.
	Streams int
	// Primary reports whether one of them is the primary.
	Primary bool
	// HighestElectionID is election_id_past of §5.3, the highest election
	// ID that won primary for the role; nil if none ever did.
	HighestElectionID *p4v1.Uint128
	// ConfigBytes is the size of the role config held for the role (0:
	// none).
	ConfigBytes int
}

// Roles reports the arbitration state held per role, by name.
func (s *Switch) Roles() []RoleInfo {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]RoleInfo, 0, len(s.roles))
	for name, rs := range s.roles {
		ri := RoleInfo{Name: name, Streams: len(rs.members), Primary: rs.primary != nil, HighestElectionID: clone128(rs.highest)}
		if rs.config != nil {
			ri.ConfigBytes = proto.Size(rs.config)
		}
		out = append(out, ri)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
