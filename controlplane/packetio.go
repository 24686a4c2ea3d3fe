package controlplane

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"time"

	p4configv1 "github.com/p4lang/p4runtime/go/p4/config/v1"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
)

// Packet I/O on the StreamChannel (P4Runtime spec §16.1): PacketOut from the
// controller, PacketIn from the switch. Metadata is addressed by name, from
// the P4Info's controller_packet_metadata (@controller_header "packet_out"
// and "packet_in"); PacketCodec turns names into ids and back.

// Packet I/O errors.
var (
	// ErrPacketRate: the session's packet-out rate limit refused the packet
	// (WithPacketOutRate); nothing was sent.
	ErrPacketRate = errors.New("packet-out rate limit reached")
	// ErrNoPacketIO: the P4Info has no controller_packet_metadata of the
	// needed kind (the pipeline has no CPU port).
	ErrNoPacketIO = errors.New("the pipeline has no packet I/O (no controller_packet_metadata)")
)

// PacketMetadataError is a metadata field a packet could not carry or be
// decoded with: unknown name, or a value wider than its bitwidth.
type PacketMetadataError struct {
	Header string // "packet_out" or "packet_in"
	Field  string
	Reason string
}

func (e *PacketMetadataError) Error() string {
	return fmt.Sprintf("%s metadata %s: %s", e.Header, e.Field, e.Reason)
}

// Packet is a packet with its metadata by name.
type Packet struct {
	Payload  []byte
	Metadata map[string]uint64
}

type metaField struct {
	id    uint32
	name  string
	width int32
}

// PacketCodec encodes PacketOut and decodes PacketIn messages by metadata
// name for one P4Info.
type PacketCodec struct {
	out, in []metaField
}

// NewPacketCodec reads the controller_packet_metadata of info. It fails with
// ErrNoPacketIO when neither packet_out nor packet_in is declared.
func NewPacketCodec(info *p4configv1.P4Info) (*PacketCodec, error) {
	c := &PacketCodec{}
	for _, cpm := range info.GetControllerPacketMetadata() {
		var fs []metaField
		for _, m := range cpm.GetMetadata() {
			fs = append(fs, metaField{id: m.GetId(), name: m.GetName(), width: m.GetBitwidth()})
		}
		switch cpm.GetPreamble().GetName() {
		case "packet_out":
			c.out = fs
		case "packet_in":
			c.in = fs
		}
	}
	if c.out == nil && c.in == nil {
		return nil, ErrNoPacketIO
	}
	return c, nil
}

// EncodeOut builds a PacketOut. Every metadata field of packet_out is sent
// (padding included, as some servers require): the named ones with their
// value, the others 0. A name the header lacks, or a value too wide for its
// field, is a *PacketMetadataError.
func (c *PacketCodec) EncodeOut(p Packet) (*p4v1.PacketOut, error) {
	if c.out == nil {
		return nil, fmt.Errorf("packet_out: %w", ErrNoPacketIO)
	}
	known := map[string]bool{}
	po := &p4v1.PacketOut{Payload: p.Payload}
	for _, f := range c.out {
		known[f.name] = true
		v := p.Metadata[f.name]
		if f.width < 64 && v>>uint(f.width) != 0 {
			return nil, &PacketMetadataError{Header: "packet_out", Field: f.name, Reason: fmt.Sprintf("value %d does not fit in %d bits", v, f.width)}
		}
		po.Metadata = append(po.Metadata, &p4v1.PacketMetadata{MetadataId: f.id, Value: canonical(v)})
	}
	for name := range p.Metadata {
		if !known[name] {
			return nil, &PacketMetadataError{Header: "packet_out", Field: name, Reason: "not a field of packet_out"}
		}
	}
	return po, nil
}

// DecodeIn names the metadata of a PacketIn. An id the P4Info does not
// declare, or a value wider than 64 bits, is a *PacketMetadataError.
func (c *PacketCodec) DecodeIn(pi *p4v1.PacketIn) (Packet, error) {
	if c.in == nil {
		return Packet{}, fmt.Errorf("packet_in: %w", ErrNoPacketIO)
	}
	p := Packet{Payload: pi.GetPayload(), Metadata: map[string]uint64{}}
	for _, m := range pi.GetMetadata() {
		var f *metaField
		for i := range c.in {
			if c.in[i].id == m.GetMetadataId() {
				f = &c.in[i]
			}
		}
		if f == nil {
			return Packet{}, &PacketMetadataError{Header: "packet_in", Field: fmt.Sprint(m.GetMetadataId()), Reason: "id not in the P4Info"}
		}
		v := new(big.Int).SetBytes(m.GetValue())
		if !v.IsUint64() {
			return Packet{}, &PacketMetadataError{Header: "packet_in", Field: f.name, Reason: "value wider than 64 bits"}
		}
		p.Metadata[f.name] = v.Uint64()
	}
	return p, nil
}

// canonical is v as a P4Runtime byte string: big-endian, no leading zero
// bytes, one zero byte for 0 (spec §8.3).
func canonical(v uint64) []byte {
	b := new(big.Int).SetUint64(v).Bytes()
	if len(b) == 0 {
		return []byte{0}
	}
	return b
}

// tokenBucket limits packet-outs to rate per second with bursts of burst.
type tokenBucket struct {
	mu     sync.Mutex
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
}

func (b *tokenBucket) take(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.last.IsZero() {
		b.tokens = b.burst
	} else {
		b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// DefaultPacketOutRate bounds packet-outs per session (per second, with a
// burst of as many): link probes of a 64-port switch at 100 ms need 640/s.
const DefaultPacketOutRate = 2000

// WithPacketOutRate limits the session's packet-outs to perSecond with
// bursts of burst; 0 or less means no limit. Default DefaultPacketOutRate.
func WithPacketOutRate(perSecond float64, burst int) SessionOption {
	return func(c *sessionConfig) { c.packetRate, c.packetBurst = perSecond, burst }
}

// WithPacketIn calls f (from the session's stream goroutine; it must not
// block) for every PacketIn the switch sends on the session's stream. sw
// is the switch's name.
func WithPacketIn(f func(sw string, p *p4v1.PacketIn)) SessionOption {
	return func(c *sessionConfig) { c.onPacket = f }
}

// SendPacketOut sends a PacketOut on the session's StreamChannel. Only the
// primary sends (the switch would refuse a backup's, spec §16.1):
// ErrNotPrimary otherwise, ErrNoSession without an arbitrated stream, and
// ErrPacketRate when the rate limit refuses it.
func (s *Session) SendPacketOut(ctx context.Context, po *p4v1.PacketOut) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	st, send := s.state, s.send
	s.mu.Unlock()
	switch {
	case send == nil || !st.Connected:
		return ErrNoSession
	case !st.Primary:
		return ErrNotPrimary
	case s.bucket != nil && !s.bucket.take(time.Now()):
		return ErrPacketRate
	}
	return send(&p4v1.StreamMessageRequest{Update: &p4v1.StreamMessageRequest_Packet{Packet: po}})
}

// SendPacketOut sends a PacketOut on the session of switch sw (see
// Session.SendPacketOut); ErrNoSession when sw is not managed or the daemon
// is not running.
func (d *Daemon) SendPacketOut(ctx context.Context, sw string, po *p4v1.PacketOut) error {
	w := d.worker(sw)
	if w == nil {
		return ErrNoSession
	}
	return w.sess.SendPacketOut(ctx, po)
}
