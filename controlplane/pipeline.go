package controlplane

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	p4configv1 "github.com/p4lang/p4runtime/go/p4/config/v1"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/protobuf/proto"
)

// Target packs the target-specific half of a forwarding pipeline config
// (the p4_device_config bytes of ForwardingPipelineConfig, spec §7).
type Target interface {
	// Name is "bmv2", "tofino" or "sim".
	Name() string
	// DeviceConfig returns the p4_device_config bytes.
	DeviceConfig() ([]byte, error)
}

// BMv2Target is simple_switch_grpc: the device config is the BMv2 JSON that
// p4c-bm2-ss emits, byte for byte.
type BMv2Target struct{ JSON []byte }

func (BMv2Target) Name() string { return "bmv2" }

func (t BMv2Target) DeviceConfig() ([]byte, error) {
	if len(t.JSON) == 0 {
		return nil, errors.New("bmv2: empty BMv2 JSON")
	}
	return t.JSON, nil
}

// TofinoTarget packs tofino.bin and context.json the way the PI Tofino
// backend and Stratum's bf target (stratum_bf) read p4_device_config: three
// fields, each a 4-byte little-endian length followed by that many bytes —
// the program name, then tofino.bin, then context.json. Reference:
// p4lang/p4runtime-shell config_builders/tofino.py (struct.pack("<i", len)
// before each field, in that order), and stratum's
// hal/bin/barefoot/README.pipeline.md, which documents this "older binary
// packing used by PI". stratum_bfrt instead wants its BfPipelineConfig
// protobuf; that packing is not implemented here.
type TofinoTarget struct {
	ProgramName     string
	Binary, Context []byte
}

func (TofinoTarget) Name() string { return "tofino" }

func (t TofinoTarget) DeviceConfig() ([]byte, error) {
	if t.ProgramName == "" || len(t.Binary) == 0 || len(t.Context) == 0 {
		return nil, errors.New("tofino: program name, tofino.bin and context.json are all required")
	}
	return PackTofino(t.ProgramName, t.Binary, t.Context)
}

// PackTofino builds the PI/Stratum-bf Tofino device config.
func PackTofino(programName string, bin, context []byte) ([]byte, error) {
	fields := [][]byte{[]byte(programName), bin, context}
	n := 0
	for _, f := range fields {
		if len(f) > math.MaxInt32 {
			return nil, fmt.Errorf("tofino: field of %d bytes exceeds the 32-bit length prefix", len(f))
		}
		n += 4 + len(f)
	}
	out := make([]byte, 0, n)
	for _, f := range fields {
		out = binary.LittleEndian.AppendUint32(out, uint32(len(f)))
		out = append(out, f...)
	}
	return out, nil
}

// UnpackTofino is the inverse of PackTofino; it rejects truncated input and
// trailing bytes.
func UnpackTofino(b []byte) (programName string, bin, context []byte, err error) {
	var fields [3][]byte
	for i := range fields {
		if len(b) < 4 {
			return "", nil, nil, fmt.Errorf("tofino device config: truncated length of field %d", i)
		}
		n := binary.LittleEndian.Uint32(b)
		b = b[4:]
		if uint64(n) > uint64(len(b)) {
			return "", nil, nil, fmt.Errorf("tofino device config: field %d claims %d bytes, %d left", i, n, len(b))
		}
		fields[i], b = b[:n], b[n:]
	}
	if len(b) != 0 {
		return "", nil, nil, fmt.Errorf("tofino device config: %d trailing bytes", len(b))
	}
	return string(fields[0]), fields[1], fields[2], nil
}

// SimTarget is the embedded sim: it needs the P4Info only.
type SimTarget struct{}

func (SimTarget) Name() string                  { return "sim" }
func (SimTarget) DeviceConfig() ([]byte, error) { return nil, nil }

// Pipeline is a forwarding pipeline ready to push.
type Pipeline struct {
	P4Info       *p4configv1.P4Info
	DeviceConfig []byte
	// Cookie identifies this exact pipeline (P4Info + device config).
	Cookie uint64
}

// NewPipeline packs p4info for target and computes the cookie.
func NewPipeline(p4info *p4configv1.P4Info, target Target) (*Pipeline, error) {
	if p4info == nil {
		return nil, errors.New("pipeline: nil P4Info")
	}
	dc, err := target.DeviceConfig()
	if err != nil {
		return nil, fmt.Errorf("pipeline: %w", err)
	}
	info, err := proto.MarshalOptions{Deterministic: true}.Marshal(p4info)
	if err != nil {
		return nil, fmt.Errorf("pipeline: marshal P4Info: %w", err)
	}
	h := sha256.New()
	// Length-prefix the P4Info so that (info, config) pairs cannot collide
	// by moving bytes across the boundary.
	h.Write(binary.BigEndian.AppendUint64(nil, uint64(len(info))))
	h.Write(info)
	h.Write(dc)
	sum := h.Sum(nil)
	cookie := binary.BigEndian.Uint64(sum[:8])
	if cookie == 0 {
		cookie = 1 // 0 reads as "no cookie" on some targets
	}
	return &Pipeline{P4Info: p4info, DeviceConfig: dc, Cookie: cookie}, nil
}

// RunningCookie asks the switch for the cookie of its current pipeline
// (GetForwardingPipelineConfig COOKIE_ONLY, spec §15). ok is false when the
// switch has no pipeline.
func (s *Session) RunningCookie(ctx context.Context) (cookie uint64, ok bool, err error) {
	ctx, cancel := s.callCtx(ctx, 1)
	defer cancel()
	resp, err := s.client.GetForwardingPipelineConfig(ctx, &p4v1.GetForwardingPipelineConfigRequest{
		DeviceId:     s.sw.DeviceID,
		ResponseType: p4v1.GetForwardingPipelineConfigRequest_COOKIE_ONLY,
	})
	if err != nil {
		if isNoPipeline(err) {
			return 0, false, nil
		}
		return 0, false, wrapRPC("get pipeline cookie", err)
	}
	c := resp.GetConfig().GetCookie()
	if c == nil {
		return 0, false, nil
	}
	return c.GetCookie(), true, nil
}

// EnsurePipeline pushes p with VERIFY_AND_COMMIT unless the switch already
// runs it (same cookie). pushed says whether a push happened; after a push
// the switch's forwarding state is empty (spec §14: VERIFY_AND_COMMIT clears it).
func (s *Session) EnsurePipeline(ctx context.Context, p *Pipeline) (pushed bool, err error) {
	cookie, ok, err := s.RunningCookie(ctx)
	if err != nil {
		return false, err
	}
	if ok && cookie == p.Cookie {
		s.log.Debug("pipeline already running", "cookie", fmt.Sprintf("%#x", cookie))
		return false, nil
	}
	if err := s.PushPipeline(ctx, p); err != nil {
		return false, err
	}
	s.log.Info("pipeline pushed", "cookie", fmt.Sprintf("%#x", p.Cookie), "previous_cookie", fmt.Sprintf("%#x", cookie), "had_pipeline", ok)
	return true, nil
}

// PushPipeline sends SetForwardingPipelineConfig VERIFY_AND_COMMIT.
func (s *Session) PushPipeline(ctx context.Context, p *Pipeline) error {
	ctx, cancel := s.callCtx(ctx, 10)
	defer cancel()
	_, err := s.client.SetForwardingPipelineConfig(ctx, &p4v1.SetForwardingPipelineConfigRequest{
		DeviceId:   s.sw.DeviceID,
		Role:       s.cfg.role,
		ElectionId: s.cfg.election.proto(),
		Action:     p4v1.SetForwardingPipelineConfigRequest_VERIFY_AND_COMMIT,
		Config: &p4v1.ForwardingPipelineConfig{
			P4Info:         p.P4Info,
			P4DeviceConfig: p.DeviceConfig,
			Cookie:         &p4v1.ForwardingPipelineConfig_Cookie{Cookie: p.Cookie},
		},
	})
	return wrapRPC("set forwarding pipeline config", err)
}
