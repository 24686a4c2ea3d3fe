package controlplane

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"

	p4configv1 "github.com/p4lang/p4runtime/go/p4/config/v1"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/protobuf/proto"
)

// Target is what a pipeline needs of a target driver (target.Driver
// implements it): the p4_device_config bytes of ForwardingPipelineConfig
// (spec §7), and the target's meter rounding, so that the reconciler does
// not take it for drift.
type Target interface {
	// Name is "bmv2", "tofino" or "sim".
	Name() string
	// DeviceConfig returns the p4_device_config bytes.
	DeviceConfig() ([]byte, error)
	// SameMeter reports whether a meter config read back is the written
	// one up to the target's rounding.
	SameMeter(read, written *p4v1.MeterConfig) bool
}

// Pipeline is a forwarding pipeline ready to push.
type Pipeline struct {
	P4Info       *p4configv1.P4Info
	DeviceConfig []byte
	// Cookie identifies this exact pipeline (P4Info + device config).
	Cookie uint64
	// Target is the driver the pipeline was packed for; the reconciler asks
	// it how the switch rounds what it reads back.
	Target Target
}

// NewPipeline packs p4info for target and computes the cookie.
func NewPipeline(p4info *p4configv1.P4Info, target Target) (*Pipeline, error) {
	if p4info == nil {
		return nil, errors.New("pipeline: nil P4Info")
	}
	if target == nil {
		return nil, errors.New("pipeline: nil target")
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
	return &Pipeline{P4Info: p4info, DeviceConfig: dc, Cookie: cookie, Target: target}, nil
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
	if !s.State().Primary {
		return ErrNotPrimary
	}
	ctx, cancel := s.callCtx(ctx, 10)
	defer cancel()
	_, err := s.client.SetForwardingPipelineConfig(ctx, &p4v1.SetForwardingPipelineConfigRequest{
		DeviceId:   s.sw.DeviceID,
		Role:       s.cfg.role,
		ElectionId: s.ElectionID().proto(),
		Action:     p4v1.SetForwardingPipelineConfigRequest_VERIFY_AND_COMMIT,
		Config: &p4v1.ForwardingPipelineConfig{
			P4Info:         p.P4Info,
			P4DeviceConfig: p.DeviceConfig,
			Cookie:         &p4v1.ForwardingPipelineConfig_Cookie{Cookie: p.Cookie},
		},
	})
	s.noteFenced(err)
	return wrapRPC("set forwarding pipeline config", err)
}
