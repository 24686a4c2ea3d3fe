package p4wire

import (
	"fmt"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc/encoding"
	// The protobuf codec this one defers to registers itself on import.
	_ "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
)

// Codec returns a gRPC codec (for grpc.ForceCodecV2 on a Read call) that
// receives a message into a Raw undecoded (Raw.Decode then decodes it as
// UnmarshalReadResponse does), and everything else, and all marshalling,
// as gRPC's own protobuf codec does.
func Codec() encoding.CodecV2 { return codec{base: encoding.GetCodecV2("proto")} }

type codec struct{ base encoding.CodecV2 }

func (c codec) Marshal(v any) (mem.BufferSlice, error) { return c.base.Marshal(v) }

// Raw receives a ReadResponse undecoded (stream.RecvMsg(&raw) on a Read
// call with Codec): Bytes is the message, copied out of gRPC's buffers.
// Why: a reconcile of a converged switch reads back the same bytes every
// time, and comparing them costs far less than decoding and diffing them.
type Raw struct{ Bytes []byte }

// Decode decodes r into m as UnmarshalReadResponse would; m's bytes fields
// then point into r.Bytes (which r must not change afterwards).
func (r *Raw) Decode(m *p4v1.ReadResponse) error {
	if err := unmarshalOwned(r.Bytes, m); err != nil {
		return fmt.Errorf("p4wire: %w", err)
	}
	return nil
}

func (c codec) Unmarshal(data mem.BufferSlice, v any) error {
	r, ok := v.(*Raw)
	if !ok {
		return c.base.Unmarshal(data, v)
	}
	// gRPC frees data when this returns: Materialize copies it into a
	// buffer of our own, which the decoded entities then share.
	r.Bytes = data.Materialize()
	return nil
}

func (c codec) Name() string { return c.base.Name() }
