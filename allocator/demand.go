package allocator

import (
	"math"
	"sync"
	"time"
)

// Sample is one reading of a byte counter.
type Sample struct {
	Time  time.Time
	Bytes uint64
}

// DemandEstimator turns counter readings into BwE demands: the demand of a
// key (an FG, a class) is the largest rate seen over a sliding window,
// times a multiplier, but never below a floor. Taking the window's maximum
// makes the estimate rise at once when usage rises and fall only when the
// peak has left the window (BwE §5: react quickly to increases, slowly to
// decreases); the multiplier leaves room to grow, since a demand that
// exactly equals usage can never reveal that the user wanted more.
//
// It is safe for concurrent use.
type DemandEstimator struct {
	window     time.Duration
	multiplier float64
	floor      float64
	modulus    float64 // 2^width of the counter; 0 for 64-bit
	maxRate    float64 // rates above this are counter resets, not traffic

	mu   sync.Mutex
	keys map[string]*demandState
}

type demandState struct {
	last  Sample
	have  bool
	rates []timedRate // oldest first
}

type timedRate struct {
	t    time.Time
	rate float64 // bits/s
}

// DemandOption configures a DemandEstimator.
type DemandOption func(*DemandEstimator)

// WithWindow sets the sliding window (default 10 s).
func WithWindow(d time.Duration) DemandOption { return func(e *DemandEstimator) { e.window = d } }

// WithMultiplier sets the headroom factor applied to the window's peak
// (default 1.1).
func WithMultiplier(m float64) DemandOption {
	return func(e *DemandEstimator) { e.multiplier = m }
}

// WithFloor sets the smallest demand reported, in bits/s (default 1 Mbps),
// so that an idle FG can still start sending.
func WithFloor(bps float64) DemandOption { return func(e *DemandEstimator) { e.floor = bps } }

// WithCounterWidth says the byte counter wraps at 2^bits (default 64: a
// decrease is then always a reset). Tofino and some BMv2 builds keep
// narrower counters.
func WithCounterWidth(bits int) DemandOption {
	return func(e *DemandEstimator) {
		if bits > 0 && bits < 64 {
			e.modulus = math.Ldexp(1, bits)
		} else {
			e.modulus = 0
		}
	}
}

// WithMaxRate sets the fastest plausible rate in bits/s (e.g. the port
// speed). A wrapped difference implying more than this is taken to be a
// counter reset instead. Default: no limit.
func WithMaxRate(bps float64) DemandOption { return func(e *DemandEstimator) { e.maxRate = bps } }

// NewDemandEstimator returns an estimator with the given options.
func NewDemandEstimator(opts ...DemandOption) *DemandEstimator {
	e := &DemandEstimator{window: 10 * time.Second, multiplier: 1.1, floor: 1e6, keys: map[string]*demandState{}}
	for _, o := range opts {
		o(e)
	}
	return e
}

// Observe records a counter reading for key. Readings must come in time
// order per key; an older or same-time reading is ignored. A counter that
// went down has wrapped (when a width was set and the wrapped difference is
// plausible) or been reset (to zero, so the new value is the bytes since).
func (e *DemandEstimator) Observe(key string, s Sample) {
	e.mu.Lock()
	defer e.mu.Unlock()
	st := e.keys[key]
	if st == nil {
		st = &demandState{}
		e.keys[key] = st
	}
	if !st.have {
		st.last, st.have = s, true
		return
	}
	dt := s.Time.Sub(st.last.Time).Seconds()
	if dt <= 0 {
		return
	}
	var delta float64
	switch {
	case s.Bytes >= st.last.Bytes:
		delta = float64(s.Bytes - st.last.Bytes)
	case e.modulus > 0 && float64(st.last.Bytes) < e.modulus:
		delta = e.modulus - float64(st.last.Bytes) + float64(s.Bytes)
		if e.maxRate > 0 && delta*8/dt > e.maxRate {
			delta = float64(s.Bytes) // too fast to be a wrap: a reset
		}
	default:
		delta = float64(s.Bytes) // reset
	}
	st.last = s
	st.rates = append(st.rates, timedRate{t: s.Time, rate: delta * 8 / dt})
	e.expire(st, s.Time)
}

func (e *DemandEstimator) expire(st *demandState, now time.Time) {
	cut := 0
	for cut < len(st.rates) && now.Sub(st.rates[cut].t) > e.window {
		cut++
	}
	if cut > 0 {
		st.rates = append(st.rates[:0], st.rates[cut:]...)
	}
}

// Demand returns key's demand in bits/s at time now: max(rate over the
// window) × multiplier, at least the floor. With no rate in the window yet
// it returns the floor and false.
func (e *DemandEstimator) Demand(key string, now time.Time) (float64, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	st := e.keys[key]
	if st == nil {
		return e.floor, false
	}
	e.expire(st, now)
	if len(st.rates) == 0 {
		return e.floor, false
	}
	peak := 0.0
	for _, r := range st.rates {
		peak = math.Max(peak, r.rate)
	}
	return math.Max(peak*e.multiplier, e.floor), true
}

// Forget drops key's history (the FG went away).
func (e *DemandEstimator) Forget(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.keys, key)
}
