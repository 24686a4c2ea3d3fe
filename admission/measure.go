package admission

import (
	"sync"
	"time"
)

// Measurements gives the measured load of a service's queue on a hop
// (directed link name, "leaf1:3->spine1:1"), in bits/s. ok is false when
// the hop has no measurement; controlled-load admission then uses the sum
// of the controlled-load rates reserved through the hop. The controller
// feeds it from the queue counters it already reads.
type Measurements interface {
	QueueLoad(hop string, svc Service) (bps float64, ok bool)
}

// WindowMax is the time-window measurement estimator of Jamin, Danzig,
// Shenker and Zhang, "A Measurement-Based Admission Control Algorithm for
// Integrated Service Packet Networks", IEEE/ACM Transactions on
// Networking 5(1), 1997, the measurement process of their algorithm:
//
//   - each sample is the average rate over one sampling period S (here one
//     counter read of the daemon's closed loop: bytes between two reads ×
//     8 / the time between them);
//   - the load estimate is the largest sample of the last window T (here
//     Window, T ≥ S): a flow that falls silent for a moment does not free
//     its share at once, and a sample above the estimate raises it at once;
//   - when a flow is admitted its requested rate is added to the estimate,
//     because it is not in the samples yet; Jamin et al. then restart the
//     window. Here the rate stays added until samples have covered a whole
//     window after the admission (the samples of that window all include
//     the flow if it sends), which is never less conservative.
//
// Times come from the samples (the caller's clock), never from the wall
// clock, so the estimator is deterministic. It is safe for concurrent use:
// the daemon's loop observes while the API admits.
type WindowMax struct {
	// Window is T; samples older than Window before a hop's latest sample
	// are forgotten. Set it before use, or with SetWindow.
	Window time.Duration

	mu      sync.Mutex
	samples map[wkey][]sample
	boosts  map[wkey][]boost
}

type wkey struct {
	hop string
	svc Service
}

type sample struct {
	at  time.Time
	bps float64
}

// boost is an admitted flow's rate, added to the estimate from the sample
// at since (zero: the next sample) until a sample Window after it.
type boost struct {
	bps   float64
	since time.Time
}

// SetWindow changes the window (a reloaded policy's cl_window).
func (w *WindowMax) SetWindow(d time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.Window = d
}

// Observe records the rate measured over the sampling period that ended at
// time at.
func (w *WindowMax) Observe(hop string, svc Service, at time.Time, bps float64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.samples == nil {
		w.samples = map[wkey][]sample{}
	}
	k := wkey{hop, svc}
	s := append(w.samples[k], sample{at, bps})
	latest := at
	for _, x := range s {
		if x.at.After(latest) {
			latest = x.at
		}
	}
	kept := s[:0]
	for _, x := range s {
		if latest.Sub(x.at) < w.Window {
			kept = append(kept, x)
		}
	}
	w.samples[k] = kept
	// An admitted flow's rate stays in the estimate until the samples
	// after its admission span a whole window.
	bs := w.boosts[k][:0]
	for _, b := range w.boosts[k] {
		switch {
		case b.since.IsZero():
			b.since = at
		case latest.Sub(b.since) >= w.Window:
			continue
		}
		bs = append(bs, b)
	}
	if len(bs) > 0 || w.boosts[k] != nil {
		w.boosts[k] = bs
	}
}

// Admitted adds a newly admitted flow's rate to the estimate of every hop
// it crosses: it is not in the samples yet.
func (w *WindowMax) Admitted(hops []string, svc Service, bps float64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.boosts == nil {
		w.boosts = map[wkey][]boost{}
	}
	for _, h := range hops {
		k := wkey{h, svc}
		var since time.Time // no sample yet: the window starts at the first
		if s := w.samples[k]; len(s) > 0 {
			since = s[len(s)-1].at
			for _, x := range s {
				if x.at.After(since) {
					since = x.at
				}
			}
		}
		w.boosts[k] = append(w.boosts[k], boost{bps: bps, since: since})
	}
}

// QueueLoad implements Measurements: the window maximum plus the rates
// admitted too recently to be measured. ok is false for a hop never
// sampled: the ledger then counts the reserved rates, which include every
// admitted flow.
func (w *WindowMax) QueueLoad(hop string, svc Service) (float64, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	k := wkey{hop, svc}
	s, bs := w.samples[k], w.boosts[k]
	if len(s) == 0 {
		return 0, false
	}
	m := 0.0
	for _, x := range s {
		m = max(m, x.bps)
	}
	for _, b := range bs {
		m += b.bps
	}
	return m, true
}
