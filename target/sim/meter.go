package sim

import (
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
)

// Color is a meter color, numbered as in docs/pipeline.md (meta.color).
type Color uint8

// Meter colors.
const (
	Green  Color = 0
	Yellow Color = 1
	Red    Color = 2
)

func (c Color) String() string {
	switch c {
	case Green:
		return "green"
	case Yellow:
		return "yellow"
	case Red:
		return "red"
	}
	return "color?"
}

// meterCell is one trTCM instance. Its buckets live in the units of the
// meter (bytes for BYTES meters, packets for PACKETS meters) and are
// refilled lazily from the model clock, never the wall clock.
type meterCell struct {
	cfg *p4v1.MeterConfig // nil: default config, every packet green
	// colors counts the packets marked per color (P4Runtime's
	// MeterCounterData), since the pipeline was set.
	colors [3]counterCell
	tc, tp float64
	last   time.Duration
	primed bool
}

// configure installs c (nil = default). RFC 2698 §3: "The token buckets C
// and P are initially (at time 0) full"; time 0 is the first packet after
// configuration.
func (m *meterCell) configure(c *p4v1.MeterConfig) {
	m.cfg = cloneMeterConfig(c)
	m.primed = false
}

// mark meters one packet of size units arriving at model time now, in
// color-blind mode (RFC 2698 §3.1):
//
//	if Tp(t)-B < 0: red
//	else if Tc(t)-B < 0: yellow, Tp -= B
//	else: green, Tp -= B, Tc -= B
//
// with Tc refilled at CIR up to CBS and Tp at PIR up to PBS.
func (m *meterCell) mark(now time.Duration, size float64) Color {
	c := m.cfg
	if c == nil {
		return Green
	}
	if !m.primed {
		m.tc, m.tp, m.last, m.primed = float64(c.GetCburst()), float64(c.GetPburst()), now, true
	}
	if d := now - m.last; d > 0 {
		// rate*ns is an exact integer below 2^53, so the refill is exact
		// whenever the true value is an integer number of units.
		m.tc = min(float64(c.GetCburst()), m.tc+float64(c.GetCir())*float64(d)/1e9)
		m.tp = min(float64(c.GetPburst()), m.tp+float64(c.GetPir())*float64(d)/1e9)
		m.last = now
	}
	switch {
	case m.tp < size:
		return Red
	case m.tc < size:
		m.tp -= size
		return Yellow
	default:
		m.tp -= size
		m.tc -= size
		return Green
	}
}
