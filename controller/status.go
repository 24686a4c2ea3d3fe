package controller

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"

	"github.com/p4qos/p4qos/admission"
	"github.com/p4qos/p4qos/allocator"
	"github.com/p4qos/p4qos/compiler"
	"github.com/p4qos/p4qos/compiler/contract"
	"github.com/p4qos/p4qos/controller/statusapi"
	"github.com/p4qos/p4qos/controlplane"
	"github.com/p4qos/p4qos/internal/buildinfo"
)

// ClassCount is what a target reports of one class on one switch beyond
// P4Runtime counters (the qos pipeline counts no colours): cumulative
// packets per meter colour and dropped packets. The sim reports them.
type ClassCount struct {
	Switch, Class              string
	Green, Yellow, Red         uint64
	MeterDropped, QueueDropped uint64
}

// WithClassCounts makes f the source of per-colour and drop counts, read
// after every closed-loop round (metrics and the dashboard's colour shares).
func WithClassCounts(f func() []ClassCount) Option { return func(c *Controller) { c.classCounts = f } }

// WithServing calls f with the bound address once Run (or Serve) listens
// for metrics, the status API and the dashboard (tests pass ":0").
func WithServing(f func(addr string)) Option { return func(c *Controller) { c.serving = f } }

// status is what the controller knows for the status API beyond its
// intent: per-switch reconcile history and the closed loop's latest round.
type status struct {
	mu       sync.Mutex
	started  time.Time
	revision uint64
	switches map[string]*switchStatus
	rounds   int
	at       time.Time
	usage    map[string]float64
	demand   map[string]float64
	alloc    map[string]float64
	result   *allocator.Result
	history  []statusapi.Round
	linkLoad map[string]float64 // directed edge name → bits/s
	prev     map[cell]cellSample
	colors   map[string]*[3]uint64 // class → fabric-wide packets per colour
	prevCnt  map[string]ClassCount // switch/class → last target report
}

type switchStatus struct {
	last                        time.Time
	reconciles, drift, failures int
	converged, once             bool
	lastErr                     string
}

type cell struct {
	sw, counter string
	index       int64
}

type cellSample struct {
	bytes, packets uint64
	at             time.Time
}

func newStatus() *status {
	return &status{started: time.Now(), revision: 1, switches: map[string]*switchStatus{}, prev: map[cell]cellSample{},
		linkLoad: map[string]float64{}, colors: map[string]*[3]uint64{}, prevCnt: map[string]ClassCount{}}
}

func (s *status) sw(name string) *switchStatus {
	st := s.switches[name]
	if st == nil {
		st = &switchStatus{}
		s.switches[name] = st
	}
	return st
}

// observe records an event before it is published.
func (s *status) observe(e Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch e.Kind {
	case SwitchConverged:
		st := s.sw(e.Switch)
		st.last, st.converged, st.once, st.lastErr = e.Time, true, true, ""
		st.reconciles++
	case SwitchFailed:
		st := s.sw(e.Switch)
		st.last, st.converged, st.lastErr = e.Time, false, e.Err.Error()
		st.reconciles++
		st.failures++
	case DriftRepaired:
		s.sw(e.Switch).drift += e.Count
	case ReloadAccepted:
		s.revision++
	}
}

func (s *status) setResult(r *allocator.Result) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.result = r
}

func apiEvent(e Event) statusapi.Event {
	ev := statusapi.Event{Kind: string(e.Kind), Time: e.Time, Switch: e.Switch, What: e.What, Count: e.Count}
	if e.Err != nil {
		ev.Error = e.Err.Error()
	}
	return ev
}

// afterRound records a closed-loop round at now: it reads the switches'
// class and queue counters into the metrics and link loads, then records
// the round in one step (a snapshot that shows the round shows all of it),
// and tells the event streams.
func (c *Controller) afterRound(ctx context.Context, now time.Time, res controlplane.TickResult) {
	for fg, u := range res.Usage {
		c.metrics.Usage.WithLabelValues(fg).Set(u)
	}
	for fg, v := range c.enforced(c.Compiled()) {
		c.metrics.Enforced.WithLabelValues(fg).Set(v)
	}
	load := c.readCounters(ctx, now, res.Counters)
	var counts []ClassCount
	if c.classCounts != nil {
		counts = c.classCounts()
	}
	s := c.status
	s.mu.Lock()
	s.rounds++
	s.at, s.usage, s.demand, s.linkLoad = now, res.Usage, res.Demand, load
	if res.Allocation != nil {
		s.alloc = res.Allocation
		if len(s.history) == statusapi.MaxHistory {
			s.history = append(s.history[:0], s.history[1:]...)
		}
		s.history = append(s.history, statusapi.Round{Round: s.rounds, Time: now, Allocation: res.Allocation})
	}
	c.recordClassCountsLocked(counts)
	n := s.rounds
	s.mu.Unlock()
	c.api.Publish(statusapi.Event{Kind: "loop-round", Time: time.Now(), Count: n})
}

// readCounters reads class_counter and queue_counter on every primary or
// backup switch with an intent into the metrics, and returns the load of
// each directed link (bits/s). A class_counter the round's tick already
// read (read) is taken from there, not read again.
func (c *Controller) readCounters(ctx context.Context, now time.Time, read map[controlplane.CounterRead][]*p4v1.CounterEntry) map[string]float64 {
	f, comp := c.Fabric(), c.Compiled()
	className := map[int64]string{}
	var classCells []int64
	for _, cl := range comp.Classes {
		className[int64(cl.ID)] = cl.Name
		classCells = append(classCells, int64(cl.ID))
	}
	load := map[string]float64{}
	// The controlled-load queue: where the phb table sends AF41, the
	// codepoint admitted controlled-load flows are marked with.
	clQueue := int64(comp.Policy.Queue(compiler.DSCP(admission.ControlledLoad.DSCP())))
	for _, sw := range f.Switches() {
		if st, ok := c.daemon.SessionState(sw.Name); !ok || !st.Connected || c.daemon.Schema(sw.Name) == nil {
			continue
		}
		// Only the cells that can count anything: the compiled classes and
		// the 8 queues of each port the topology uses. Wildcard reads of
		// the 4,096-cell queue counter took half the daemon's CPU at 200
		// switches (docs/performance.md).
		edges := map[uint32]string{}
		var queueCells []int64
		for _, ed := range f.Topology().Edges(sw.Name) {
			if _, dup := edges[ed.FromPort]; !dup {
				for q := int64(0); q < 8; q++ {
					queueCells = append(queueCells, int64(ed.FromPort)<<3|q)
				}
			}
			edges[ed.FromPort] = ed.Name()
		}
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		classes, done := read[controlplane.CounterRead{Switch: sw.Name, Counter: contract.ClassCounter}]
		var cerr error
		if !done {
			classes, cerr = c.daemon.ReadCounterCells(rctx, sw.Name, contract.ClassCounter, classCells)
		}
		queues, qerr := c.daemon.ReadCounterCells(rctx, sw.Name, contract.QueueCounter, queueCells)
		cancel()
		if cerr == nil {
			for _, e := range classes {
				idx := e.GetIndex().GetIndex()
				name, ok := className[idx]
				if !ok {
					continue
				}
				db, dp, _ := c.status.delta(cell{sw.Name, contract.ClassCounter, idx}, e, now)
				c.metrics.ClassBytes.WithLabelValues(sw.Name, name).Add(float64(db))
				c.metrics.ClassPackets.WithLabelValues(sw.Name, name).Add(float64(dp))
			}
		}
		if qerr != nil {
			continue
		}
		for _, e := range queues {
			idx := e.GetIndex().GetIndex()
			port, queue := strconv.FormatInt(idx>>3, 10), strconv.FormatInt(idx&7, 10)
			db, dp, dt := c.status.delta(cell{sw.Name, contract.QueueCounter, idx}, e, now)
			if db > 0 || dp > 0 {
				c.metrics.QueueBytes.WithLabelValues(sw.Name, port, queue).Add(float64(db))
				c.metrics.QueuePackets.WithLabelValues(sw.Name, port, queue).Add(float64(dp))
			}
			if name, ok := edges[uint32(idx>>3)]; ok && dt > 0 {
				load[name] += float64(db) * 8 / dt.Seconds()
				c.metrics.LinkBytes.WithLabelValues(name).Add(float64(db))
				if idx&7 == clQueue && c.clLoad != nil {
					// One sampling period of the estimator (admission.WindowMax).
					c.clLoad.Observe(name, admission.ControlledLoad, now, float64(db)*8/dt.Seconds())
				}
			}
		}
	}
	for _, sw := range f.Switches() {
		for _, ed := range f.Topology().Edges(sw.Name) {
			c.metrics.LinkBytes.WithLabelValues(ed.Name()).Add(0)
			c.metrics.LinkCapacity.WithLabelValues(ed.Name()).Set(ed.Capacity / 8)
			if ed.Capacity > 0 {
				c.metrics.LinkUtil.WithLabelValues(ed.Name()).Set(load[ed.Name()] / ed.Capacity)
			}
		}
	}
	return load
}

// delta is a counter cell's growth since its previous reading (a smaller
// value is a restarted counter: counted from 0), and the time between.
func (s *status) delta(k cell, e *p4v1.CounterEntry, now time.Time) (bytes, packets uint64, dt time.Duration) {
	b, p := uint64(e.GetData().GetByteCount()), uint64(e.GetData().GetPacketCount())
	s.mu.Lock()
	defer s.mu.Unlock()
	prev, seen := s.prev[k]
	s.prev[k] = cellSample{bytes: b, packets: p, at: now}
	if !seen || !now.After(prev.at) {
		return 0, 0, 0
	}
	return grow(prev.bytes, b), grow(prev.packets, p), now.Sub(prev.at)
}

func grow(prev, cur uint64) uint64 {
	if cur < prev {
		return cur
	}
	return cur - prev
}

// recordClassCountsLocked adds a target's class counts to the metrics and
// the colour totals; c.status.mu is held.
func (c *Controller) recordClassCountsLocked(counts []ClassCount) {
	s := c.status
	for _, n := range counts {
		k := n.Switch + "/" + n.Class
		p := s.prevCnt[k]
		s.prevCnt[k] = n
		cols := s.colors[n.Class]
		if cols == nil {
			cols = &[3]uint64{}
			s.colors[n.Class] = cols
		}
		for i, v := range [3][2]uint64{{p.Green, n.Green}, {p.Yellow, n.Yellow}, {p.Red, n.Red}} {
			d := grow(v[0], v[1])
			cols[i] += d
			c.metrics.ColorPackets.WithLabelValues(n.Switch, n.Class, [3]string{"green", "yellow", "red"}[i]).Add(float64(d))
		}
		c.metrics.DroppedPackets.WithLabelValues(n.Switch, n.Class, "meter").Add(float64(grow(p.MeterDropped, n.MeterDropped)))
		c.metrics.DroppedPackets.WithLabelValues(n.Switch, n.Class, "queue").Add(float64(grow(p.QueueDropped, n.QueueDropped)))
	}
}

// statusSource is the controller as the status API's Source.
type statusSource struct{ c *Controller }

func (src statusSource) Status() statusapi.Status {
	c := src.c
	f, comp := c.Fabric(), c.Compiled()
	bi := buildinfo.Read()
	out := statusapi.Status{Build: statusapi.Build{Version: bi.Version, Revision: bi.Revision, GoVersion: bi.GoVersion}, Ready: true}
	enforced := c.enforced(comp)
	s := c.status
	s.mu.Lock()
	defer s.mu.Unlock()
	out.IntentRevision, out.Started = s.revision, s.started
	for _, sw := range f.Switches() {
		out.Switches = append(out.Switches, c.switchStatus(sw, comp, s.switches[sw.Name]))
		out.Ready = out.Ready && out.Switches[len(out.Switches)-1].ConvergedOnce
	}
	a := &out.Allocation
	a.IntentRevision, a.Rounds = s.revision, s.rounds
	if s.rounds > 0 {
		at := s.at
		a.Time = &at
	}
	a.FlowGroups = flowGroups(comp.Policy, s, enforced)
	a.History = append([]statusapi.Round(nil), s.history...)
	for _, sw := range f.Switches() {
		for _, ed := range f.Topology().Edges(sw.Name) {
			a.Links = append(a.Links, statusapi.Link{Name: ed.Name(), A: ed.From, B: ed.To, Capacity: ed.Capacity, Load: s.linkLoad[ed.Name()]})
		}
	}
	for _, lk := range f.Topology().Links {
		if lk.Down {
			a.Links = append(a.Links, statusapi.Link{Name: lk.Name(), A: lk.A.Switch, B: lk.B.Switch, Capacity: float64(lk.Capacity), Down: true})
		}
	}
	for _, cl := range comp.Classes {
		if n := s.colors[cl.Name]; n != nil {
			out.Classes = append(out.Classes, statusapi.ClassShare{Class: cl.Name, Green: n[0], Yellow: n[1], Red: n[2]})
		}
	}
	return out
}

func (c *Controller) switchStatus(sw controlplane.SwitchConfig, comp *Compiled, h *switchStatus) statusapi.Switch {
	out := statusapi.Switch{Name: sw.Name, Address: sw.Address, DeviceID: sw.DeviceID, Stream: statusapi.StreamDown}
	if st, ok := c.daemon.SessionState(sw.Name); ok && st.Connected {
		out.Stream = statusapi.StreamBackup
		if st.Primary {
			out.Stream = statusapi.StreamPrimary
		}
	}
	if in := comp.Intents[sw.Name]; in != nil && in.Pipeline != nil {
		out.PipelineCookie = fmt.Sprintf("%#016x", in.Pipeline.Cookie)
	}
	if h != nil {
		out.Converged, out.ConvergedOnce, out.Reconciles = h.converged, h.once, h.reconciles
		out.DriftRepaired, out.ReconcileErrors, out.LastError = h.drift, h.failures, h.lastErr
		if !h.last.IsZero() {
			last := h.last
			out.LastReconcile = &last
		}
	}
	return out
}

// enforced is, per flow group, the CIR (bits/s) the switch where it is
// measured holds for its class: the installed value, the loop's latest.
func (c *Controller) enforced(comp *Compiled) map[string]float64 {
	out := map[string]float64{}
	for _, src := range comp.Sources {
		in := comp.Intents[src.Switch]
		if in == nil {
			continue
		}
		for _, e := range in.Entities {
			me := e.GetMeterEntry()
			if me == nil || me.GetIndex().GetIndex() != src.Index {
				continue
			}
			if k, err := in.Schema.Key(e); err == nil {
				if cur := c.daemon.Installed(src.Switch, k); cur != nil {
					me = cur.GetMeterEntry()
				}
			}
			out[src.FlowGroup] = float64(me.GetConfig().GetCir()) * 8
		}
	}
	return out
}

// flowGroups lists the policy's flow groups with the latest round's
// figures, by tenant then name.
func flowGroups(pol *compiler.Policy, s *status, enforced map[string]float64) []statusapi.FlowGroup {
	bottleneck := map[string]string{}
	if s.result != nil {
		for _, fg := range s.result.FlowGroups {
			if fg.Satisfied {
				bottleneck[fg.Name] = "demand"
			} else {
				bottleneck[fg.Name] = fg.Bottleneck
			}
		}
	}
	var out []statusapi.FlowGroup
	var walk func(ts []*compiler.Tenant)
	walk = func(ts []*compiler.Tenant) {
		for _, t := range ts {
			for _, fg := range t.FlowGroups {
				out = append(out, statusapi.FlowGroup{Name: fg.Name, Tenant: t.Name, Usage: s.usage[fg.Name], Demand: s.demand[fg.Name],
					Allocation: s.alloc[fg.Name], Enforced: enforced[fg.Name], Bottleneck: bottleneck[fg.Name]})
			}
			walk(t.Children)
		}
	}
	if pol != nil {
		walk(pol.Tenants)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
