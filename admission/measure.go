package admission

import "time"

// Measurements gives the measured load of a service's queue on a hop
// (directed link name, "leaf1:3->spine1:1"), in bits/s. ok is false when
// the hop has no measurement; controlled-load admission then uses the sum
// of the controlled-load rates reserved through the hop. The controller
// feeds it from the queue counters it already reads.
type Measurements interface {
	QueueLoad(hop string, svc Service) (bps float64, ok bool)
}

// WindowMax is the time-window maximum estimator: the load of a queue is
// the largest rate observed in the last Window before its latest sample.
// Taking the maximum rather than the mean is conservative: a flow that
// falls silent for a moment does not free its share at once (the same
// estimator as the allocator's BwE demand, docs/allocator.md). Times are
// given by the caller, so it is deterministic.
type WindowMax struct {
	Window  time.Duration
	samples map[wkey][]sample
}

type wkey struct {
	hop string
	svc Service
}

type sample struct {
	at  time.Time
	bps float64
}

// Observe records a rate measured at time at.
func (w *WindowMax) Observe(hop string, svc Service, at time.Time, bps float64) {
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
}

// QueueLoad implements Measurements.
func (w *WindowMax) QueueLoad(hop string, svc Service) (float64, bool) {
	s := w.samples[wkey{hop, svc}]
	if len(s) == 0 {
		return 0, false
	}
	m := 0.0
	for _, x := range s {
		m = max(m, x.bps)
	}
	return m, true
}
