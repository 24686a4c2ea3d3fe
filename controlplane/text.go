package controlplane

import (
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
)

// compactText renders a message on one line for logs.
func compactText(m proto.Message) string {
	b, err := prototext.MarshalOptions{}.Marshal(m)
	if err != nil {
		return "<unprintable>"
	}
	return string(b)
}
