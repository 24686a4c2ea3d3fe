package sim

import (
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc/codes"
)

// Stream error reporting (§16.6) for the stream messages other than
// arbitration (which terminates the stream instead) and packet I/O.

// streamError queues a StreamError for st. details must be set so that the
// client can tell which kind of message caused it (§16.6: "The server is
// required to set the appropriate field in the oneof").
func streamError(st *stream, code codes.Code, msg string, e *p4v1.StreamError) {
	e.CanonicalCode, e.Message, e.Space = int32(code), msg, errorSpace
	st.send(&p4v1.StreamMessageResponse{Update: &p4v1.StreamMessageResponse_Error{Error: e}})
}

// digestAck handles a DigestListAck. The sim generates no digest lists
// (DigestEntry is UNIMPLEMENTED), so a valid ack has nothing to release; an
// ack for a digest_id the P4Info lacks is INVALID_ARGUMENT (§16.6). Called
// with mu held.
func (s *Switch) digestAck(st *stream, ack *p4v1.DigestListAck) {
	if s.fwd != nil {
		for _, d := range s.fwd.schema.p4info.GetDigests() {
			if d.GetPreamble().GetId() == ack.GetDigestId() {
				return
			}
		}
	}
	streamError(st, codes.InvalidArgument, "DigestListAck: digest_id does not match any Digest in the P4Info",
		&p4v1.StreamError{Details: &p4v1.StreamError_DigestListAck{DigestListAck: &p4v1.DigestListAckError{DigestListAck: ack}}})
}

// otherStreamMessage answers a stream message the sim does not handle: an
// architecture-specific `other` (UNIMPLEMENTED, with details.other set) or
// a message with no update at all (INVALID_ARGUMENT; no details field
// applies). Called with mu held.
func (s *Switch) otherStreamMessage(st *stream, m *p4v1.StreamMessageRequest) {
	if o := m.GetOther(); o != nil {
		streamError(st, codes.Unimplemented, "architecture-specific stream messages are not supported by the sim target",
			&p4v1.StreamError{Details: &p4v1.StreamError_Other{Other: &p4v1.StreamOtherError{Other: o}}})
		return
	}
	streamError(st, codes.InvalidArgument, "stream message has no update set", &p4v1.StreamError{})
}
