package sim

import (
	"fmt"
	"math"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/structpb"
)

// P4Runtime leaves the role config scheme to the target (§5.2, "Role
// Config"). The sim's scheme, documented in docs/sim.md: the config is an
// Any holding a google.protobuf.Struct with one field, "writable", a list
// of the P4Info objects the role's primary may write, each a name (full
// name or alias) or a numeric P4Info ID:
//
//	{"writable": ["ipv4_lpm", "QosIngress.ecmp_selector", 33554433]}
//
// Tables (with their direct counters and meters), action profiles,
// counters and meters can be listed. Names are resolved against the pipeline
// at each Write, so a config outlives pipeline changes. An unset config is
// full pipeline access, as is the default role, which takes no config.

// roleConfigField is the Struct field of a role config listing what the
// role may write.
const roleConfigField = "writable"

// roleScope is what a role config lets the role's primary write; nil means
// full pipeline access.
type roleScope struct {
	ids   map[uint32]bool
	names map[string]bool
}

// NewRoleConfig builds a role config in the sim's scheme: the role may write
// the P4Info objects named (full name or alias) and those with the given
// IDs, and nothing else.
func NewRoleConfig(names []string, ids []uint32) (*anypb.Any, error) {
	vals := make([]*structpb.Value, 0, len(names)+len(ids))
	for _, n := range names {
		vals = append(vals, structpb.NewStringValue(n))
	}
	for _, id := range ids {
		vals = append(vals, structpb.NewNumberValue(float64(id)))
	}
	cfg, err := anypb.New(&structpb.Struct{Fields: map[string]*structpb.Value{
		roleConfigField: structpb.NewListValue(&structpb.ListValue{Values: vals}),
	}})
	if err != nil {
		return nil, fmt.Errorf("sim: role config: %w", err)
	}
	return cfg, nil
}

// parseRoleConfig checks a role config against the scheme; a mismatch is
// INVALID_ARGUMENT (§5.3).
func parseRoleConfig(role string, cfg *anypb.Any) (*roleScope, error) {
	if cfg == nil {
		return nil, nil
	}
	if role == "" {
		return nil, statusf(codes.InvalidArgument, "the default role has full pipeline access and takes no role config: name the role")
	}
	var st structpb.Struct
	if !cfg.MessageIs(&st) {
		return nil, statusf(codes.InvalidArgument, "role %q: role config must be a google.protobuf.Struct, got %s (see docs/sim.md)", role, cfg.GetTypeUrl())
	}
	if err := cfg.UnmarshalTo(&st); err != nil {
		return nil, statusf(codes.InvalidArgument, "role %q: role config: %v", role, err)
	}
	for k := range st.GetFields() {
		if k != roleConfigField {
			return nil, statusf(codes.InvalidArgument, "role %q: role config has unknown field %q (only %q)", role, k, roleConfigField)
		}
	}
	list := st.GetFields()[roleConfigField].GetListValue()
	if list == nil {
		return nil, statusf(codes.InvalidArgument, "role %q: role config needs %q, a list of P4Info names or IDs", role, roleConfigField)
	}
	sc := &roleScope{ids: map[uint32]bool{}, names: map[string]bool{}}
	for i, v := range list.GetValues() {
		switch k := v.GetKind().(type) {
		case *structpb.Value_StringValue:
			if k.StringValue == "" {
				return nil, statusf(codes.InvalidArgument, "role %q: %s[%d] is an empty name", role, roleConfigField, i)
			}
			sc.names[k.StringValue] = true
		case *structpb.Value_NumberValue:
			n := k.NumberValue
			if n != math.Trunc(n) || n < 1 || n > math.MaxUint32 {
				return nil, statusf(codes.InvalidArgument, "role %q: %s[%d] = %v is not a P4Info ID", role, roleConfigField, i, n)
			}
			sc.ids[uint32(n)] = true
		default:
			return nil, statusf(codes.InvalidArgument, "role %q: %s[%d] must be a name or an ID", role, roleConfigField, i)
		}
	}
	return sc, nil
}

func (sc *roleScope) has(id uint32, name, alias string) bool {
	return sc.ids[id] || sc.names[name] || (alias != "" && sc.names[alias])
}

// check answers PERMISSION_DENIED (§12.3) when u writes a P4Info object
// outside the scope. Objects the pipeline does not know are left to apply,
// which reports them as invalid.
func (sc *roleScope) check(s *schema, role string, u *p4v1.Update) error {
	if sc == nil {
		return nil
	}
	var id uint32
	var name, alias string
	switch e := u.GetEntity().GetEntity().(type) {
	case *p4v1.Entity_TableEntry:
		id = e.TableEntry.GetTableId()
	case *p4v1.Entity_DirectCounterEntry:
		id = e.DirectCounterEntry.GetTableEntry().GetTableId()
	case *p4v1.Entity_DirectMeterEntry:
		id = e.DirectMeterEntry.GetTableEntry().GetTableId()
	case *p4v1.Entity_ActionProfileMember:
		id = e.ActionProfileMember.GetActionProfileId()
	case *p4v1.Entity_ActionProfileGroup:
		id = e.ActionProfileGroup.GetActionProfileId()
	case *p4v1.Entity_CounterEntry:
		id = e.CounterEntry.GetCounterId()
	case *p4v1.Entity_MeterEntry:
		id = e.MeterEntry.GetMeterId()
	default:
		return nil
	}
	switch {
	case s.tables[id] != nil:
		name, alias = s.tables[id].name, s.tables[id].alias
	case s.profiles[id] != nil:
		name, alias = s.profiles[id].name, s.profiles[id].alias
	case s.counters[id] != nil:
		name, alias = s.counters[id].name, s.counters[id].alias
	case s.meters[id] != nil:
		name, alias = s.meters[id].name, s.meters[id].alias
	default:
		return nil
	}
	if sc.has(id, name, alias) {
		return nil
	}
	return statusf(codes.PermissionDenied, "role %q may not write %q (its role config lists what it may write)", role, name)
}
