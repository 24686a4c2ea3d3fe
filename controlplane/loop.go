package controlplane

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"sort"
	"sync"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/protobuf/proto"

	"github.com/p4qos/p4qos/allocator"
	"github.com/p4qos/p4qos/tables"
)

// DemandSource is one counter cell that measures (part of) a flow group's
// traffic. A flow group's usage is the sum over its sources.
type DemandSource struct {
	FlowGroup string
	Switch    string
	// Counter is the counter's P4Info name (e.g. "class_counter").
	Counter string
	Index   int64
}

// Enforcement is what an allocation turns into.
type Enforcement struct {
	// Entities per switch: meter entries (MODIFY) and action profile groups
	// carrying WCMP weights. Only these are compared and written.
	Entities map[string][]*p4v1.Entity
	// Allocation per flow group in bits/s, for metrics and logs.
	Allocation map[string]float64
}

// Model is the policy-specific half of the closed loop.
type Model interface {
	// Sources lists the counter cells that measure each flow group.
	Sources() []DemandSource
	// Enforce allocates bandwidth for the demands (bits/s per flow group)
	// and returns the enforcement state.
	Enforce(ctx context.Context, demand map[string]float64) (Enforcement, error)
}

// Estimator turns counter readings into demand estimates.
// *allocator.DemandEstimator (BwE-style: window peak × headroom, with a
// floor) implements it and is the default.
type Estimator interface {
	// Observe records a reading of the flow group's byte counter (the sum
	// over its sources).
	Observe(flowGroup string, s allocator.Sample)
	// Demand is the flow group's demand estimate in bits/s at now; ok is
	// false until there are two readings.
	Demand(flowGroup string, now time.Time) (bps float64, ok bool)
}

// LoopIO is how the loop reaches the switches; the daemon implements it on
// top of its sessions and intents.
type LoopIO interface {
	// Schema is the switch's pipeline schema, or nil if the switch has no
	// intent (it is skipped).
	Schema(sw string) *tables.Schema
	// ReadCounter reads every cell of a counter.
	ReadCounter(ctx context.Context, sw, counter string) ([]*p4v1.CounterEntry, error)
	// Installed returns the entity with this key the switch is meant to
	// hold now (its current intent), or nil.
	Installed(sw, key string) *p4v1.Entity
	// Write writes the changed entities and makes them part of the intent.
	Write(ctx context.Context, sw string, changed []*p4v1.Entity) error
	// Primary reports whether this controller is the switch's primary: the
	// loop writes only to those (a backup measures and allocates, and
	// writes nothing).
	Primary(sw string) bool
}

// Loop is the closed loop: counters → usage → demand → allocation → meters
// and WCMP weights, written only where they moved more than the hysteresis.
type Loop struct {
	tickMu     sync.Mutex // one Tick at a time
	mu         sync.Mutex // guards model
	model      Model
	est        Estimator
	hysteresis float64
	log        *slog.Logger
	metrics    *Metrics

	prev map[sourceKey]sample
}

type sourceKey struct {
	sw, counter string
	index       int64
}

type sample struct {
	bytes uint64
	at    time.Time
}

// LoopOption configures a Loop.
type LoopOption func(*Loop)

// WithEstimator sets the demand estimator (default:
// allocator.NewDemandEstimator()).
func WithEstimator(e Estimator) LoopOption { return func(l *Loop) { l.est = e } }

// WithHysteresis sets the relative change (0.05 = 5%) below which a meter
// rate or WCMP weight vector is left alone. Default 0.05.
func WithHysteresis(h float64) LoopOption { return func(l *Loop) { l.hysteresis = h } }

// WithLoopLogger sets the logger.
func WithLoopLogger(lg *slog.Logger) LoopOption { return func(l *Loop) { l.log = lg } }

// WithLoopMetrics sets the metrics.
func WithLoopMetrics(m *Metrics) LoopOption { return func(l *Loop) { l.metrics = m } }

// NewLoop returns a loop for the model.
func NewLoop(model Model, opts ...LoopOption) *Loop {
	l := &Loop{model: model, est: allocator.NewDemandEstimator(), hysteresis: 0.05,
		log: slog.New(slog.NewTextHandler(io.Discard, nil)), prev: map[sourceKey]sample{}}
	for _, o := range opts {
		o(l)
	}
	return l
}

// SetModel replaces the model (after a policy reload). Demand history is
// kept for flow groups that keep their names.
func (l *Loop) SetModel(m Model) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.model = m
}

// TickResult reports one tick.
type TickResult struct {
	// Usage and Demand per flow group (bits/s); empty on the first tick,
	// which only takes the baseline sample.
	Usage, Demand map[string]float64
	// Written counts the entities written per switch.
	Written map[string]int
	// Allocation is the allocation enforced this tick, per flow group
	// (bits/s); nil when nothing was measured yet.
	Allocation map[string]float64
	// NotPrimary lists the switches that needed a write this controller
	// did not make because it is not their primary.
	NotPrimary []string
	// Counters are the counter cells this tick read, per switch and
	// counter (every cell: wildcard reads), so that whoever also wants
	// them this round (the daemon's metrics) need not read them again.
	Counters map[CounterRead][]*p4v1.CounterEntry
}

// CounterRead names one counter of one switch.
type CounterRead struct{ Switch, Counter string }

// Tick runs one iteration at time now. The caller drives the clock, so
// tests are deterministic: the usage of a source is the byte delta since
// the previous tick divided by now minus the previous tick's time.
func (l *Loop) Tick(ctx context.Context, now time.Time, lio LoopIO) (TickResult, error) {
	l.tickMu.Lock()
	defer l.tickMu.Unlock()
	start := time.Now()
	res := TickResult{Usage: map[string]float64{}, Demand: map[string]float64{}, Written: map[string]int{}, Counters: map[CounterRead][]*p4v1.CounterEntry{}}
	l.mu.Lock()
	model := l.model
	l.mu.Unlock()
	sources := model.Sources()
	// One wildcard read per (switch, counter).
	type rc struct{ sw, counter string }
	cells := map[rc]map[int64]uint64{}
	var errs []error
	for _, src := range sources {
		k := rc{src.Switch, src.Counter}
		if _, done := cells[k]; done || lio.Schema(src.Switch) == nil {
			continue
		}
		entries, err := lio.ReadCounter(ctx, src.Switch, src.Counter)
		if err != nil {
			errs = append(errs, fmt.Errorf("read %s on %s: %w", src.Counter, src.Switch, err))
			cells[k] = nil
			continue
		}
		res.Counters[CounterRead{src.Switch, src.Counter}] = entries
		m := make(map[int64]uint64, len(entries))
		for _, e := range entries {
			m[e.GetIndex().GetIndex()] = uint64(e.GetData().GetByteCount())
		}
		cells[k] = m
	}
	measured := map[string]bool{}
	total := map[string]uint64{}
	complete := map[string]bool{}
	for _, src := range sources {
		if _, ok := complete[src.FlowGroup]; !ok {
			complete[src.FlowGroup] = true
		}
		m := cells[rc{src.Switch, src.Counter}]
		if m == nil {
			complete[src.FlowGroup] = false
			continue
		}
		b, ok := m[src.Index]
		if !ok {
			complete[src.FlowGroup] = false
			continue
		}
		total[src.FlowGroup] += b
		sk := sourceKey{src.Switch, src.Counter, src.Index}
		prev, seen := l.prev[sk]
		l.prev[sk] = sample{bytes: b, at: now}
		if !seen || !now.After(prev.at) {
			continue
		}
		delta := b - prev.bytes
		if b < prev.bytes {
			delta = b // the counter restarted (switch restart): count from 0
		}
		res.Usage[src.FlowGroup] += float64(delta) * 8 / now.Sub(prev.at).Seconds()
		measured[src.FlowGroup] = true
	}
	// A flow group with an unreadable source is not observed this tick:
	// a partial sum would look like a counter reset to the estimator.
	for fg, ok := range complete {
		if ok {
			l.est.Observe(fg, allocator.Sample{Time: now, Bytes: total[fg]})
		}
	}
	if len(measured) == 0 {
		return res, errors.Join(errs...)
	}
	for fg := range complete {
		d, ok := l.est.Demand(fg, now)
		if !ok {
			continue
		}
		res.Demand[fg] = d
		if l.metrics != nil {
			l.metrics.Demand.WithLabelValues(fg).Set(d)
		}
	}
	enf, err := model.Enforce(ctx, res.Demand)
	if err != nil {
		return res, errors.Join(append(errs, fmt.Errorf("allocate: %w", err))...)
	}
	res.Allocation = enf.Allocation
	if l.metrics != nil {
		for fg, a := range enf.Allocation {
			l.metrics.Allocation.WithLabelValues(fg).Set(a)
		}
	}
	switches := make([]string, 0, len(enf.Entities))
	for sw := range enf.Entities {
		switches = append(switches, sw)
	}
	sort.Strings(switches)
	for _, sw := range switches {
		schema := lio.Schema(sw)
		if schema == nil {
			continue
		}
		var changed []*p4v1.Entity
		for _, e := range enf.Entities[sw] {
			k, err := schema.Key(e)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", sw, err))
				continue
			}
			if Significant(lio.Installed(sw, k), e, l.hysteresis) {
				changed = append(changed, e)
			}
		}
		if len(changed) == 0 {
			continue
		}
		if !lio.Primary(sw) {
			res.NotPrimary = append(res.NotPrimary, sw)
			continue
		}
		if err := lio.Write(ctx, sw, changed); err != nil {
			errs = append(errs, fmt.Errorf("write %s: %w", sw, err))
			continue
		}
		res.Written[sw] = len(changed)
		if l.metrics != nil {
			l.metrics.MeterWrites.WithLabelValues(sw).Add(float64(len(changed)))
		}
		for _, e := range changed {
			l.log.Info("closed loop update", "switch", sw, "entity", schema.Describe(e))
		}
	}
	if l.metrics != nil {
		l.metrics.LoopLatency.Observe(time.Since(start).Seconds())
	}
	return res, errors.Join(errs...)
}

// Significant reports whether writing next over installed is worth it:
// meters whose CIR or PIR moved by more than the relative threshold h (or
// whose bursts changed that much), action profile groups whose WCMP weight
// vector moved by more than h (sum of |Δw| over the old total), and any
// other entity that differs at all. A nil installed is always significant.
func Significant(installed, next *p4v1.Entity, h float64) bool {
	if installed == nil {
		return true
	}
	switch n := next.GetEntity().(type) {
	case *p4v1.Entity_MeterEntry:
		a, b := installed.GetMeterEntry().GetConfig(), n.MeterEntry.GetConfig()
		if a == nil || b == nil {
			return (a == nil) != (b == nil)
		}
		return relChange(a.GetCir(), b.GetCir()) > h || relChange(a.GetPir(), b.GetPir()) > h ||
			relChange(a.GetCburst(), b.GetCburst()) > h || relChange(a.GetPburst(), b.GetPburst()) > h
	case *p4v1.Entity_ActionProfileGroup:
		a, b := installed.GetActionProfileGroup(), n.ActionProfileGroup
		if a == nil || a.GetMaxSize() != b.GetMaxSize() || len(a.GetMembers()) != len(b.GetMembers()) {
			return true
		}
		old := map[uint32]int32{}
		var total float64
		for _, m := range a.GetMembers() {
			old[m.GetMemberId()] = m.GetWeight()
			total += float64(m.GetWeight())
		}
		var moved float64
		for _, m := range b.GetMembers() {
			w, ok := old[m.GetMemberId()]
			if !ok {
				return true
			}
			moved += math.Abs(float64(m.GetWeight() - w))
		}
		return total == 0 && moved > 0 || total > 0 && moved/total > h
	}
	return !proto.Equal(installed, next)
}

func relChange(a, b int64) float64 {
	if a == b {
		return 0
	}
	d := math.Abs(float64(b - a))
	base := math.Abs(float64(a))
	if base == 0 {
		return math.Inf(1)
	}
	return d / base
}
