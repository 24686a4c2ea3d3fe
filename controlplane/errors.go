package controlplane

import (
	"context"
	"errors"
	"fmt"
	"strings"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/anypb"
)

// codeError is a sentinel that matches any error carrying the same canonical
// gRPC code, so callers can write errors.Is(err, ErrNotFound) whether the
// code came from a whole RPC or from one update of a batch.
type codeError struct {
	code codes.Code
	name string
}

func (e *codeError) Error() string { return e.name }

// Sentinels for the canonical codes a P4Runtime server uses per update
// (spec §12.3 and the per-entity error tables of §9).
var (
	ErrNotFound           error = &codeError{codes.NotFound, "not found"}
	ErrAlreadyExists      error = &codeError{codes.AlreadyExists, "already exists"}
	ErrResourceExhausted  error = &codeError{codes.ResourceExhausted, "resource exhausted"}
	ErrInvalidArgument    error = &codeError{codes.InvalidArgument, "invalid argument"}
	ErrFailedPrecondition error = &codeError{codes.FailedPrecondition, "failed precondition"}
	ErrOutOfRange         error = &codeError{codes.OutOfRange, "out of range"}
	ErrUnimplemented      error = &codeError{codes.Unimplemented, "unimplemented"}
	ErrUnavailable        error = &codeError{codes.Unavailable, "unavailable"}
	// ErrNotPrimary is PERMISSION_DENIED: the writer is not the primary
	// controller for its role (spec §5.3, §12).
	ErrNotPrimary error = &codeError{codes.PermissionDenied, "not the primary controller"}
)

// ErrNoSession is returned by calls made before a stream has been arbitrated.
var ErrNoSession = errors.New("no arbitrated stream to the switch")

// UpdateError is the failure of one update of a Write, decoded from the
// p4.Error the switch returned for it (spec §12.3).
type UpdateError struct {
	// Index of the update in the WriteRequest it was sent in.
	Index int
	// Update is the failed update.
	Update *p4v1.Update
	// Code is the canonical gRPC code.
	Code codes.Code
	// Message is the switch's own message.
	Message string
	// Space and SpaceCode are the target-specific error space and code, if any.
	Space     string
	SpaceCode int32
	// Details is the target's optional detail payload.
	Details *anypb.Any
}

func (e *UpdateError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %s", updateTypeName(e.Update), entityKind(e.Update.GetEntity()), e.Code)
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if e.Space != "" {
		fmt.Fprintf(&b, " (%s code %d)", e.Space, e.SpaceCode)
	}
	return b.String()
}

// Is reports whether target is the sentinel for e's code.
func (e *UpdateError) Is(target error) bool {
	var ce *codeError
	return errors.As(target, &ce) && ce.code == e.Code
}

// GRPCStatus lets status.Code(err) see the per-update code.
func (e *UpdateError) GRPCStatus() *status.Status { return status.New(e.Code, e.Message) }

// WriteError is a Write RPC that failed in whole or in part. It wraps one
// UpdateError per failed update (errors.Is / errors.As see all of them) and,
// for a whole-RPC failure without per-update details, the RPC error.
type WriteError struct {
	// Updates are the failed updates, in request order.
	Updates []*UpdateError
	// Applied are the indices (into the request) of updates the switch
	// reported as applied. With an RPC-level failure it is empty.
	Applied []int
	// RPC is the RPC's own error when the switch gave no per-update details.
	RPC error
}

func (e *WriteError) Error() string {
	if len(e.Updates) == 0 {
		return fmt.Sprintf("write failed: %v", e.RPC)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d update(s) failed: %v", len(e.Updates), e.Updates[0])
	if len(e.Updates) > 1 {
		fmt.Fprintf(&b, " (and %d more)", len(e.Updates)-1)
	}
	return b.String()
}

// Unwrap exposes every per-update error (and the RPC error) to errors.Is/As.
func (e *WriteError) Unwrap() []error {
	errs := make([]error, 0, len(e.Updates)+1)
	for _, u := range e.Updates {
		errs = append(errs, u)
	}
	if e.RPC != nil {
		errs = append(errs, e.RPC)
	}
	return errs
}

// rpcError wraps a gRPC error so that errors.Is(err, ErrNotPrimary) and the
// other sentinels work on whole-RPC failures too.
type rpcError struct {
	op  string
	err error
}

func (e *rpcError) Error() string { return fmt.Sprintf("%s: %v", e.op, e.err) }
func (e *rpcError) Unwrap() error { return e.err }

// GRPCStatus exposes the RPC's status through the wrapper.
func (e *rpcError) GRPCStatus() *status.Status { return status.Convert(e.err) }
func (e *rpcError) Is(target error) bool {
	var ce *codeError
	return errors.As(target, &ce) && ce.code == status.Code(e.err)
}

func wrapRPC(op string, err error) error {
	if err == nil {
		return nil
	}
	return &rpcError{op: op, err: err}
}

// TerminalError marks an error that retrying cannot fix (bad intent, a
// pipeline the switch rejects, a missing table). The daemon reports it and
// waits for new input instead of retrying with backoff.
type TerminalError struct{ Err error }

func (e *TerminalError) Error() string { return e.Err.Error() }
func (e *TerminalError) Unwrap() error { return e.Err }

// Terminal wraps err as a TerminalError (nil stays nil).
func Terminal(err error) error {
	if err == nil {
		return nil
	}
	return &TerminalError{Err: err}
}

// IsRetryable reports whether an operation that failed with err may succeed
// later without a change of intent: transport failures, lost primacy, a
// switch without pipeline (it restarted), and timeouts. Terminal errors and
// context cancellation are not retryable.
func IsRetryable(err error) bool {
	if err == nil {
		return false
	}
	var te *TerminalError
	if errors.As(err, &te) || errors.Is(err, context.Canceled) {
		return false
	}
	if errors.Is(err, ErrNoSession) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ue *UpdateError
	if errors.As(err, &ue) {
		return retryableCode(ue.Code)
	}
	// status.FromError finds a GRPCStatus anywhere in the wrap chain.
	if s, ok := status.FromError(err); ok {
		return retryableCode(s.Code())
	}
	// Unknown errors (I/O, decoding) are retried: backoff bounds the cost.
	return true
}

func retryableCode(c codes.Code) bool {
	switch c {
	case codes.Unavailable, codes.DeadlineExceeded, codes.Aborted, codes.PermissionDenied,
		codes.FailedPrecondition, codes.Unknown, codes.Internal, codes.ResourceExhausted:
		return true
	}
	return false
}

func updateTypeName(u *p4v1.Update) string {
	if u == nil {
		return "UPDATE"
	}
	return u.GetType().String()
}

// entityKind names the entity briefly for logs: "table_entry 33554433".
func entityKind(e *p4v1.Entity) string {
	switch x := e.GetEntity().(type) {
	case *p4v1.Entity_TableEntry:
		return fmt.Sprintf("table_entry(table_id=%d)", x.TableEntry.GetTableId())
	case *p4v1.Entity_MeterEntry:
		return fmt.Sprintf("meter_entry(meter_id=%d,index=%d)", x.MeterEntry.GetMeterId(), x.MeterEntry.GetIndex().GetIndex())
	case *p4v1.Entity_CounterEntry:
		return fmt.Sprintf("counter_entry(counter_id=%d)", x.CounterEntry.GetCounterId())
	case *p4v1.Entity_ActionProfileMember:
		return fmt.Sprintf("action_profile_member(profile_id=%d,member_id=%d)", x.ActionProfileMember.GetActionProfileId(), x.ActionProfileMember.GetMemberId())
	case *p4v1.Entity_ActionProfileGroup:
		return fmt.Sprintf("action_profile_group(profile_id=%d,group_id=%d)", x.ActionProfileGroup.GetActionProfileId(), x.ActionProfileGroup.GetGroupId())
	case *p4v1.Entity_DirectMeterEntry:
		return "direct_meter_entry"
	case *p4v1.Entity_PacketReplicationEngineEntry:
		return "packet_replication_engine_entry"
	case nil:
		return "empty entity"
	default:
		return fmt.Sprintf("%T", x)
	}
}

// ElectionConflictError is a session's fatal error when the switch keeps
// refusing its arbitration because another live controller uses the same
// election id for the role (spec §5.3: the server answers INVALID_ARGUMENT).
// The election id is the controller's credential, so two controllers with
// one id would both be taken as primary: one of them must change its id.
type ElectionConflictError struct {
	Switch     string
	ElectionID ElectionID
	Role       string
	Reason     error
}

func (e *ElectionConflictError) Error() string {
	role := "the default role"
	if e.Role != "" {
		role = fmt.Sprintf("role %q", e.Role)
	}
	return fmt.Sprintf("switch %s: election id %s is already used by another live controller of %s (%v): give this controller another election id (--election-id), higher to take over as primary, lower to run as its backup",
		e.Switch, e.ElectionID, role, e.Reason)
}

func (e *ElectionConflictError) Unwrap() error { return e.Reason }
