package tofino

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// StratumConfig is stratum_bfrt's device config, the BfPipelineConfig
// message of stratum's hal/lib/barefoot/bf.proto:
//
//	message BfPipelineConfig {
//	  message Profile {
//	    string profile_name = 1;
//	    bytes context = 2;              // context.json
//	    bytes binary = 3;               // tofino.bin
//	    repeated uint32 pipe_scope = 4; // the pipes the profile runs on
//	  }
//	  string p4_name = 1;
//	  bytes bfruntime_info = 2;         // bf-rt.json
//	  repeated Profile profiles = 3;
//	}
//
// It is encoded here with protowire from those field numbers, so that p4qos
// needs no generated Stratum code.
type StratumConfig struct {
	P4Name        string
	BfRuntimeInfo []byte
	Profiles      []Profile
}

// Profile is one pipeline profile of a StratumConfig.
type Profile struct {
	Name            string
	Context, Binary []byte
	PipeScope       []uint32
}

// Field numbers of bf.proto.
const (
	fieldP4Name        = 1
	fieldBfRuntimeInfo = 2
	fieldProfiles      = 3
	fieldProfileName   = 1
	fieldContext       = 2
	fieldBinary        = 3
	fieldPipeScope     = 4
)

// Marshal encodes the config as proto3 does: fields in number order,
// empty scalars left out, pipe_scope packed.
func (c *StratumConfig) Marshal() []byte {
	var b []byte
	b = appendString(b, fieldP4Name, c.P4Name)
	b = appendBytes(b, fieldBfRuntimeInfo, c.BfRuntimeInfo)
	for _, p := range c.Profiles {
		var pb []byte
		pb = appendString(pb, fieldProfileName, p.Name)
		pb = appendBytes(pb, fieldContext, p.Context)
		pb = appendBytes(pb, fieldBinary, p.Binary)
		if len(p.PipeScope) > 0 {
			var packed []byte
			for _, s := range p.PipeScope {
				packed = protowire.AppendVarint(packed, uint64(s))
			}
			pb = protowire.AppendTag(pb, fieldPipeScope, protowire.BytesType)
			pb = protowire.AppendBytes(pb, packed)
		}
		b = protowire.AppendTag(b, fieldProfiles, protowire.BytesType)
		b = protowire.AppendBytes(b, pb)
	}
	return b
}

func appendString(b []byte, num protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	return protowire.AppendString(protowire.AppendTag(b, num, protowire.BytesType), s)
}

func appendBytes(b []byte, num protowire.Number, v []byte) []byte {
	if len(v) == 0 {
		return b
	}
	return protowire.AppendBytes(protowire.AppendTag(b, num, protowire.BytesType), v)
}

// UnmarshalStratumConfig decodes a BfPipelineConfig. Unknown fields are
// skipped (a newer Stratum may add some); a malformed message is an error.
func UnmarshalStratumConfig(b []byte) (*StratumConfig, error) {
	c := &StratumConfig{}
	err := walk(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		switch {
		case num == fieldP4Name && typ == protowire.BytesType:
			c.P4Name = string(v)
		case num == fieldBfRuntimeInfo && typ == protowire.BytesType:
			c.BfRuntimeInfo = v
		case num == fieldProfiles && typ == protowire.BytesType:
			p, err := unmarshalProfile(v)
			if err != nil {
				return fmt.Errorf("profile %d: %w", len(c.Profiles), err)
			}
			c.Profiles = append(c.Profiles, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("BfPipelineConfig: %w", err)
	}
	return c, nil
}

func unmarshalProfile(b []byte) (Profile, error) {
	var p Profile
	err := walk(b, func(num protowire.Number, typ protowire.Type, v []byte, n uint64) error {
		switch {
		case num == fieldProfileName && typ == protowire.BytesType:
			p.Name = string(v)
		case num == fieldContext && typ == protowire.BytesType:
			p.Context = v
		case num == fieldBinary && typ == protowire.BytesType:
			p.Binary = v
		case num == fieldPipeScope && typ == protowire.VarintType:
			p.PipeScope = append(p.PipeScope, uint32(n))
		case num == fieldPipeScope && typ == protowire.BytesType:
			for len(v) > 0 {
				x, l := protowire.ConsumeVarint(v)
				if l < 0 {
					return errors.New("pipe_scope: bad packed varint")
				}
				p.PipeScope, v = append(p.PipeScope, uint32(x)), v[l:]
			}
		}
		return nil
	})
	return p, err
}

// walk calls f for every field of a message: v for length-delimited
// fields, n for varints.
func walk(b []byte, f func(num protowire.Number, typ protowire.Type, v []byte, n uint64) error) error {
	for len(b) > 0 {
		num, typ, l := protowire.ConsumeTag(b)
		if l < 0 {
			return protowire.ParseError(l)
		}
		b = b[l:]
		var (
			v []byte
			n uint64
		)
		switch typ {
		case protowire.BytesType:
			v, l = protowire.ConsumeBytes(b)
		case protowire.VarintType:
			n, l = protowire.ConsumeVarint(b)
		default:
			l = protowire.ConsumeFieldValue(num, typ, b)
		}
		if l < 0 {
			return protowire.ParseError(l)
		}
		b = b[l:]
		if err := f(num, typ, v, n); err != nil {
			return err
		}
	}
	return nil
}
