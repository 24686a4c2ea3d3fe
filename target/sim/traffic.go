package sim

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/big"
	"net/netip"
	"time"

	p4configv1 "github.com/p4lang/p4runtime/go/p4/config/v1"
	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"

	"github.com/p4qos/p4qos/compiler/contract"
)

// Flow is a synthetic stream of identical packets offered to the switch.
type Flow struct {
	// Name labels the flow in FlowStats; it has no effect on forwarding.
	Name             string
	SrcIP, DstIP     netip.Addr // both IPv4 or both IPv6
	Proto            uint8
	SrcPort, DstPort uint16 // used only for TCP (6) and UDP (17)
	DSCP             uint8
	IngressPort      uint32
	// RateBps is the offered rate in bits per second.
	RateBps float64
	// PacketSize is the length in bytes that meters and counters see (the
	// whole frame, as BMv2 counts it). 0 means 1500.
	PacketSize int
	// Schedule changes RateBps over model time: at each step's At after
	// SetFlows the rate becomes the step's (steps in increasing At; a step
	// at 0 replaces RateBps from the start).
	Schedule []RateStep
}

// RateStep is a rate change of a flow's Schedule.
type RateStep struct {
	At      time.Duration
	RateBps float64
}

// ColorStats is what happened to a flow's packets of one meter color.
type ColorStats struct {
	Packets, Bytes uint64 // marked this color by class_meter (cumulative)
	// The decisions below are those of the latest Advance.
	DSCP    uint8 // DSCP the packets leave with, after color_action
	Queue   uint8 // queue chosen by phb
	Dropped bool  // color_action dropped them
}

// FlowStats is the per-flow outcome of the traffic model. Counts are
// cumulative since SetFlows; decision fields reflect the latest Advance.
type FlowStats struct {
	Flow       Flow
	Class      uint8
	Classified bool // a classifier entry matched (false: default action)
	// Reserved: a reservation entry matched; its direct meter colored
	// the packets, not class_meter.
	Reserved   bool
	Routed     bool // the route lookup gave a next hop
	EgressPort uint32
	// Colors is indexed by Color.
	Colors                           [3]ColorStats
	OfferedPackets, OfferedBytes     uint64
	DeliveredPackets, DeliveredBytes uint64
	// QueueDropped counts packets an egress queue had no room for: its
	// port or queue rate (SetPortRate, SetQueue) was used up and its depth
	// reached.
	QueueDroppedPackets, QueueDroppedBytes uint64
	// LinkDropped counts packets routed to a port whose link is down
	// (Link.SetUp): lost on the wire.
	LinkDroppedPackets, LinkDroppedBytes uint64
	// DeliveredBps is the delivered rate over the latest Advance.
	DeliveredBps float64
}

type trafficState struct {
	now      time.Duration
	flows    []*flowRun
	portRate map[uint32]float64 // bits/s per egress port; absent = unlimited
	queues   map[queueKey]*queueState
}

type flowRun struct {
	seq int // position in SetFlows
	f   Flow
	// origin is when SetFlows started the flow; start, base and interval
	// describe its current rate: packet base+k leaves at start+k·interval.
	origin   time.Duration
	start    time.Duration
	base     uint64
	interval float64 // ns between packets; +Inf when the rate is 0
	step     int     // next Schedule step to apply
	sent     uint64
	stats    FlowStats
	// carry holds the fractions of packets a rate-limited queue owes each
	// color, so that short Advance steps add up.
	carry [3]float64
}

// ErrInvalidFlow is wrapped by SetFlows errors.
var ErrInvalidFlow = errors.New("invalid flow")

// SetFlows replaces the offered traffic. Each flow starts emitting at the
// current model time; statistics start from zero.
func (s *Switch) SetFlows(flows []Flow) error {
	runs := make([]*flowRun, 0, len(flows))
	for i, f := range flows {
		if f.PacketSize == 0 {
			f.PacketSize = 1500
		}
		switch {
		case !f.SrcIP.IsValid() || !f.DstIP.IsValid():
			return fmt.Errorf("flow %d (%s): %w: source and destination addresses are required", i, f.Name, ErrInvalidFlow)
		case f.SrcIP.Unmap().Is4() != f.DstIP.Unmap().Is4():
			return fmt.Errorf("flow %d (%s): %w: mixed IPv4 and IPv6 addresses", i, f.Name, ErrInvalidFlow)
		case f.RateBps < 0 || math.IsNaN(f.RateBps) || math.IsInf(f.RateBps, 0):
			return fmt.Errorf("flow %d (%s): %w: rate %v", i, f.Name, ErrInvalidFlow, f.RateBps)
		case f.PacketSize < 0 || f.PacketSize > 1<<16:
			return fmt.Errorf("flow %d (%s): %w: packet size %d", i, f.Name, ErrInvalidFlow, f.PacketSize)
		case f.DSCP > 63:
			return fmt.Errorf("flow %d (%s): %w: DSCP %d > 63", i, f.Name, ErrInvalidFlow, f.DSCP)
		case f.IngressPort >= 1<<9:
			return fmt.Errorf("flow %d (%s): %w: ingress port %d does not fit in 9 bits", i, f.Name, ErrInvalidFlow, f.IngressPort)
		}
		for j, st := range f.Schedule {
			if st.At < 0 || j > 0 && st.At <= f.Schedule[j-1].At || st.RateBps < 0 || math.IsNaN(st.RateBps) || math.IsInf(st.RateBps, 0) {
				return fmt.Errorf("flow %d (%s): %w: schedule step %d (at %s, rate %v): want increasing times ≥ 0 and rates ≥ 0", i, f.Name, ErrInvalidFlow, j, st.At, st.RateBps)
			}
		}
		f.SrcIP, f.DstIP = f.SrcIP.Unmap(), f.DstIP.Unmap()
		f.Schedule = append([]RateStep(nil), f.Schedule...)
		runs = append(runs, &flowRun{seq: i, f: f, stats: FlowStats{Flow: f}})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range runs {
		r.origin = s.traffic.now
		r.setRate(s.traffic.now, r.f.RateBps)
		r.applySteps(s.traffic.now)
	}
	s.traffic.flows = runs
	s.traffic.resetQueues()
	return nil
}

// Now returns the model clock: the sum of all Advance durations.
func (s *Switch) Now() time.Duration {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.traffic.now
}

// FlowStats returns the outcome of every flow, in SetFlows order.
func (s *Switch) FlowStats() []FlowStats {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]FlowStats, len(s.traffic.flows))
	for i, r := range s.traffic.flows {
		out[i] = r.stats
	}
	return out
}

// Advance moves the model clock by dt and pushes every packet the flows emit
// in [now, now+dt) through the committed pipeline.
//
// Packets of a flow are evenly spaced: packet k leaves at start + k·size·8/rate.
// Per flow, the classifier, route and per-color color_action/phb decisions
// are taken once per Advance (the tables do not change during it); each packet
// then runs the trTCM of its class meter cell in time order, interleaved with
// the other flows of that cell. Counters are updated as the egress would.
// Without a committed qos pipeline packets are offered and dropped.
//
// A flow's Schedule splits the step at its rate changes: the model
// advances to each change, applies it, and goes on.
func (s *Switch) Advance(dt time.Duration) {
	if dt <= 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	end := s.traffic.now + dt
	for {
		next, ok := s.traffic.nextStep(end)
		if !ok {
			break
		}
		s.advanceTo(next)
		for _, r := range s.traffic.flows {
			r.applySteps(next)
		}
	}
	s.advanceTo(end)
}

// nextStep is the earliest schedule step in (now, end].
func (t *trafficState) nextStep(end time.Duration) (time.Duration, bool) {
	best, ok := end, false
	for _, r := range t.flows {
		if r.step < len(r.f.Schedule) {
			if at := r.origin + r.f.Schedule[r.step].At; at > t.now && at <= best {
				best, ok = at, true
			}
		}
	}
	return best, ok
}

// setRate makes the flow emit at bps from now on.
func (r *flowRun) setRate(now time.Duration, bps float64) {
	r.base, r.start = packetsBefore(r, now), now
	r.f.RateBps, r.stats.Flow.RateBps = bps, bps
	r.interval = math.Inf(1)
	if bps > 0 {
		r.interval = float64(r.f.PacketSize) * 8 * 1e9 / bps
	}
}

// applySteps applies the schedule steps due by now.
func (r *flowRun) applySteps(now time.Duration) {
	for r.step < len(r.f.Schedule) && r.origin+r.f.Schedule[r.step].At <= now {
		r.setRate(now, r.f.Schedule[r.step].RateBps)
		r.step++
	}
}

// advanceTo moves the model clock to to (s.mu held): every packet the
// flows emit in [now, to) goes through the committed pipeline.
func (s *Switch) advanceTo(to time.Duration) {
	dt := to - s.traffic.now
	if dt <= 0 {
		return
	}
	s.traffic.now = to

	var model *qosModel
	var st *state
	if s.dp != nil {
		model, st = s.dp.model, s.dp.state
	}
	type pending struct {
		run  *flowRun
		dec  decision
		n    [3]uint64 // packets per color in this Advance
		next uint64    // first packet index in the window
		end  uint64    // one past the last packet index in the window
	}
	work := make([]*pending, 0, len(s.traffic.flows))
	byMeter := map[*meterCell][]*pending{}
	var meterOrder []*meterCell
	for _, r := range s.traffic.flows {
		p := &pending{run: r, next: r.sent, end: packetsBefore(r, to)}
		r.sent = p.end
		count := p.end - p.next
		size := uint64(r.f.PacketSize)
		r.stats.OfferedPackets += count
		r.stats.OfferedBytes += count * size
		r.stats.DeliveredBps = 0
		work = append(work, p)
		if model == nil {
			continue
		}
		model.live = s.memberLive
		p.dec = model.decide(st, r.f)
		if p.dec.meter == nil || p.dec.meter.cfg == nil {
			p.n[Green] = count
			if p.dec.meter != nil { // an unconfigured meter marks green
				p.dec.meter.colors[Green].packets += int64(count)
				p.dec.meter.colors[Green].bytes += int64(count * size)
			}
			continue
		}
		if _, ok := byMeter[p.dec.meter]; !ok {
			meterOrder = append(meterOrder, p.dec.meter)
		}
		byMeter[p.dec.meter] = append(byMeter[p.dec.meter], p)
	}
	// Metered flows: replay packets in time order per meter cell, flows in
	// SetFlows order on ties.
	for _, cell := range meterOrder {
		group := byMeter[cell]
		for {
			var best *pending
			var bestT time.Duration
			for _, p := range group {
				if p.next >= p.end {
					continue
				}
				t := p.run.start + time.Duration(math.Round(float64(p.next-p.run.base)*p.run.interval))
				if best == nil || t < bestT {
					best, bestT = p, t
				}
			}
			if best == nil {
				break
			}
			c := cell.mark(bestT, meterUnits(best.dec, best.run.f))
			best.n[c]++
			cell.colors[c].packets++
			cell.colors[c].bytes += int64(best.run.f.PacketSize)
			best.next++
		}
	}
	// Egress: packets that survived color_action and have a route are
	// queued; ports serve their queues by strict priority.
	var eg []egressOut
	if model != nil {
		runs := make([]*flowRun, len(work))
		arrivals := make([][3]uint64, len(work))
		for i, p := range work {
			runs[i], arrivals[i] = p.run, p.n
		}
		queueOf := func(i int, c Color) (queueKey, bool) {
			d := work[i].dec
			return queueKey{d.port, d.colors[c].queue & 7}, d.routed && !d.colors[c].drop && s.portUpLocked(d.port)
		}
		count := func(i int, c Color, k queueKey, packets uint64) {
			model.countEgress(st, work[i].dec.colors[c].class, k.port, k.queue, packets, uint64(work[i].run.f.PacketSize))
		}
		eg = s.traffic.egress(runs, arrivals, queueOf, count, dt)
	}

	for i, p := range work {
		r := p.run
		size := uint64(r.f.PacketSize)
		if model == nil {
			r.stats.Routed, r.stats.Classified = false, false
			continue
		}
		d := p.dec
		r.stats.Class, r.stats.Classified, r.stats.Routed, r.stats.EgressPort = d.class, d.classEntry != nil, d.routed, d.port
		r.stats.Reserved = d.reservationEntry != nil
		var delivered uint64
		for c := Green; c <= Red; c++ {
			cs := &r.stats.Colors[c]
			cd := d.colors[c]
			cs.Packets += p.n[c]
			cs.Bytes += p.n[c] * size
			cs.DSCP, cs.Queue, cs.Dropped = cd.dscp, cd.queue, cd.drop
			if p.n[c] == 0 {
				continue
			}
			countHit(cd.colorEntry, p.n[c], size)
			countHit(cd.phbEntry, p.n[c], size)
			if d.routed && !cd.drop && !s.portUpLocked(d.port) {
				r.stats.LinkDroppedPackets += p.n[c]
				r.stats.LinkDroppedBytes += p.n[c] * size
			}
		}
		for c := Green; c <= Red; c++ {
			r.stats.QueueDroppedPackets += eg[i].dropped[c]
			r.stats.QueueDroppedBytes += eg[i].dropped[c] * size
			delivered += eg[i].delivered[c]
		}
		total := p.n[Green] + p.n[Yellow] + p.n[Red]
		countHit(d.classEntry, total, size)
		countHit(d.routeEntry, total, size)
		r.stats.DeliveredPackets += delivered
		r.stats.DeliveredBytes += delivered * size
		r.stats.DeliveredBps = float64(delivered*size*8) / dt.Seconds()
	}
}

// SetPortRate limits egress port to bps bits per second, served by strict
// priority over its 8 queues (7 first) with no buffer: what does not fit in
// an Advance is dropped. bps <= 0 removes the limit. Unlimited ports (the
// default) deliver everything.
func (s *Switch) SetPortRate(port uint32, bps float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if bps <= 0 || math.IsNaN(bps) || math.IsInf(bps, 0) {
		delete(s.traffic.portRate, port)
		return
	}
	if s.traffic.portRate == nil {
		s.traffic.portRate = map[uint32]float64{}
	}
	s.traffic.portRate[port] = bps
}

// packetsBefore is how many packets the flow has emitted strictly before t:
// base plus the k ≥ 0 with start + k·interval < t, i.e.
// base + ceil((t-start)/interval).
func packetsBefore(r *flowRun, t time.Duration) uint64 {
	if r.interval == 0 || math.IsInf(r.interval, 1) || t <= r.start {
		return r.base
	}
	return r.base + uint64(math.Ceil(float64(t-r.start)/r.interval))
}

func meterUnits(d decision, f Flow) float64 {
	if d.meterUnit == p4configv1.MeterSpec_PACKETS {
		return 1
	}
	return float64(f.PacketSize)
}

func countHit(e *tableEntry, packets, size uint64) {
	if e == nil {
		return
	}
	e.counter.packets += int64(packets)
	e.counter.bytes += int64(packets * size)
}

// ---- the qos pipeline ----

// qosModel binds the contract names of docs/pipeline.md to a schema.
type qosModel struct {
	classifier, colorAction, phb, lpm4, lpm6 *tableInfo
	// reservation is nil in a pipeline without it (before admission
	// control): packets then all take class_meter.
	reservation                *tableInfo
	classMeter                 *meterInfo
	classCounter, queueCounter *counterInfo
	schema                     *schema
	// live says whether a group member's watch port is up; set by Advance
	// (under the switch's lock) before decide.
	live func(*p4v1.ActionProfileGroup_Member) bool
}

// newQosModel returns nil unless the schema has the contract's classifier,
// class_meter, color_action, phb and at least one of ipv4_lpm / ipv6_lpm.
func newQosModel(s *schema) *qosModel {
	m := &qosModel{
		classifier:   s.tableNamed(contract.Classifier),
		reservation:  s.tableNamed(contract.Reservation),
		colorAction:  s.tableNamed(contract.ColorAction),
		phb:          s.tableNamed(contract.PHB),
		lpm4:         s.tableNamed(contract.IPv4LPM),
		lpm6:         s.tableNamed(contract.IPv6LPM),
		classMeter:   s.meterNamed(contract.ClassMeter),
		classCounter: s.counterNamed(contract.ClassCounter),
		queueCounter: s.counterNamed(contract.QueueCounter),
		schema:       s,
	}
	if m.classifier == nil || m.colorAction == nil || m.phb == nil || m.classMeter == nil || (m.lpm4 == nil && m.lpm6 == nil) {
		return nil
	}
	return m
}

type colorDecision struct {
	colorEntry, phbEntry *tableEntry
	// class is what egress counts the packets under: a reservation's
	// out-of-profile packets remarked to best effort count as class 0.
	class       uint8
	dscp, queue uint8
	drop        bool
}

type decision struct {
	classEntry, routeEntry *tableEntry
	// reservationEntry is the reservation entry the flow hit (nil: none);
	// then meter is its direct meter and class_meter is not run.
	reservationEntry *tableEntry
	class            uint8
	meter            *meterCell
	meterUnit        p4configv1.MeterSpec_Unit
	routed           bool
	port             uint32
	colors           [3]colorDecision
}

// decide runs the match-action tables for one flow.
func (m *qosModel) decide(st *state, f Flow) decision {
	var d decision
	v4 := f.SrcIP.Is4()
	sport, dport := f.SrcPort, f.DstPort
	if f.Proto != 6 && f.Proto != 17 {
		sport, dport = 0, 0
	}
	ver := uint64(6)
	if v4 {
		ver = 4
	}
	keys := map[string]*big.Int{
		contract.KeyIngressPort: big.NewInt(int64(f.IngressPort)),
		contract.KeyIPVersion:   new(big.Int).SetUint64(ver),
		contract.KeyIPProto:     big.NewInt(int64(f.Proto)),
		contract.KeyL4SrcPort:   big.NewInt(int64(sport)),
		contract.KeyL4DstPort:   big.NewInt(int64(dport)),
		contract.KeyDSCP:        big.NewInt(int64(f.DSCP)),
	}
	zero := new(big.Int)
	src, dst := new(big.Int).SetBytes(f.SrcIP.AsSlice()), new(big.Int).SetBytes(f.DstIP.AsSlice())
	if v4 {
		keys[contract.KeyIPv4Src], keys[contract.KeyIPv4Dst], keys[contract.KeyIPv6Src], keys[contract.KeyIPv6Dst] = src, dst, zero, zero
	} else {
		keys[contract.KeyIPv4Src], keys[contract.KeyIPv4Dst], keys[contract.KeyIPv6Src], keys[contract.KeyIPv6Dst] = zero, zero, src, dst
	}

	// classifier
	dscp := f.DSCP
	ts := st.tables[m.classifier.id]
	d.classEntry = lookup(ts, keys)
	if a, name := m.actionOf(st, ts, d.classEntry, 0); a != nil {
		switch name {
		case contract.SetClass:
			d.class = uint8(m.param(a, contract.ParamClassID))
			dscp = uint8(m.param(a, contract.ParamDSCP) & 63)
		case contract.TrustDSCP:
			d.class = uint8(m.param(a, contract.ParamClassID))
		}
	}
	// reservation: a hit replaces class and DSCP, and its direct meter
	// replaces class_meter and color_action (docs/pipeline.md)
	var reserved, excessDrop bool
	if m.reservation != nil {
		rts := st.tables[m.reservation.id]
		rkeys := map[string]*big.Int{
			contract.KeyIPVersion: keys[contract.KeyIPVersion], contract.KeySrc: src, contract.KeyDst: dst,
			contract.KeyIPProto: keys[contract.KeyIPProto], contract.KeyL4SrcPort: keys[contract.KeyL4SrcPort], contract.KeyL4DstPort: keys[contract.KeyL4DstPort],
		}
		if e := lookup(rts, rkeys); e != nil {
			if a, name := m.actionOf(st, rts, e, 0); a != nil && name == contract.Reserve {
				reserved, d.reservationEntry = true, e
				d.class = uint8(m.param(a, contract.ParamClassID))
				dscp = uint8(m.param(a, contract.ParamDSCP) & 63)
				excessDrop = m.param(a, contract.ParamExcessDrop)&1 == 1
				d.meter, d.meterUnit = &e.meter, m.reservation.directMeterUnit
			}
		}
	}
	// class_meter, indexed by class_id
	if cells := st.meters[m.classMeter.id]; !reserved && int(d.class) < len(cells) {
		d.meter, d.meterUnit = &cells[d.class], m.classMeter.unit
	}
	// route: its outcome does not depend on the color
	lpm := m.lpm4
	if !v4 {
		lpm = m.lpm6
	}
	if lpm != nil {
		rts := st.tables[lpm.id]
		d.routeEntry = lookup(rts, keys)
		if d.routeEntry != nil {
			a, name := m.actionOf(st, rts, d.routeEntry, flowHash(f, sport, dport))
			if a != nil && name == contract.SetNextHop {
				d.routed, d.port = true, uint32(m.param(a, contract.ParamPort))
			}
		}
		// A miss or drop leaves the packet unrouted (contract: miss drops).
	}
	// color_action and phb, per color
	for c := Green; c <= Red; c++ {
		cd := &d.colors[c]
		cd.dscp, cd.class = dscp, d.class
		switch {
		case reserved && c != Green && excessDrop:
			cd.drop = true
			continue
		case reserved && c != Green:
			cd.dscp, cd.class = 0, 0 // remarked to best effort
		}
		if reserved {
			m.applyPHB(st, cd)
			continue
		}
		cts := st.tables[m.colorAction.id]
		ck := map[string]*big.Int{contract.KeyClassID: big.NewInt(int64(d.class)), contract.KeyColor: big.NewInt(int64(c))}
		cd.colorEntry = lookup(cts, ck)
		if a, name := m.actionOf(st, cts, cd.colorEntry, 0); a != nil {
			switch name {
			case contract.RemarkDSCP:
				cd.dscp = uint8(m.param(a, contract.ParamDSCP) & 63)
			case contract.Drop:
				cd.drop = true
			}
		}
		m.applyPHB(st, cd)
	}
	return d
}

// applyPHB looks the packet's DSCP up in phb for its queue.
func (m *qosModel) applyPHB(st *state, cd *colorDecision) {
	pts := st.tables[m.phb.id]
	cd.phbEntry = lookup(pts, map[string]*big.Int{contract.KeyDSCP: big.NewInt(int64(cd.dscp))})
	if a, name := m.actionOf(st, pts, cd.phbEntry, 0); a != nil && name == contract.SetQueue {
		cd.queue = uint8(m.param(a, contract.ParamQueue) & 7)
	}
}

// countEgress updates class_counter and queue_counter for delivered packets.
func (m *qosModel) countEgress(st *state, class uint8, port uint32, queue uint8, packets, size uint64) {
	add := func(ci *counterInfo, idx uint64) {
		if ci == nil {
			return
		}
		cells := st.counters[ci.id]
		if idx >= uint64(len(cells)) {
			return
		}
		cells[idx].packets += int64(packets)
		cells[idx].bytes += int64(packets * size)
	}
	add(m.classCounter, uint64(class))
	add(m.queueCounter, uint64(port)*8+uint64(queue))
}

// actionOf resolves the action a lookup result executes: the entry's (via
// its member, or a member of its group picked by hash), or on a miss the
// table's default. It returns the action and its short name.
func (m *qosModel) actionOf(st *state, ts *tableState, e *tableEntry, hash uint64) (*p4v1.Action, string) {
	var ta *p4v1.TableAction
	if e != nil {
		ta = e.te.GetAction()
	} else {
		ta = ts.defaultEntry(m.schema).GetAction()
	}
	var a *p4v1.Action
	switch v := ta.GetType().(type) {
	case *p4v1.TableAction_Action:
		a = v.Action
	case *p4v1.TableAction_ActionProfileMemberId:
		if ts.info.profile != nil {
			if mem := st.profiles[ts.info.profile.id].members[v.ActionProfileMemberId]; mem != nil {
				a = mem.m.GetAction()
			}
		}
	case *p4v1.TableAction_ActionProfileGroupId:
		if ts.info.profile != nil {
			ps := st.profiles[ts.info.profile.id]
			if g := ps.groups[v.ActionProfileGroupId]; g != nil {
				if mid, ok := pickMember(g.g, hash, m.live); ok {
					if mem := ps.members[mid]; mem != nil {
						a = mem.m.GetAction()
					}
				}
			}
		}
	}
	if a == nil {
		return nil, ""
	}
	ai := m.schema.actions[a.GetActionId()]
	if ai == nil {
		return nil, ""
	}
	return a, lastComponent(ai.name)
}

func (m *qosModel) param(a *p4v1.Action, name string) uint64 {
	ai := m.schema.actions[a.GetActionId()]
	if ai == nil {
		return 0
	}
	p := ai.paramNamed(name)
	if p == nil {
		return 0
	}
	for _, v := range a.GetParams() {
		if v.GetParamId() == p.GetId() {
			return bytesToUint64(v.GetValue())
		}
	}
	return 0
}

// flowHash is the sim's selector hash over the 5-tuple (FNV-1a 64). It is
// deterministic but not BMv2's: tests must not expect the same member choice
// as BMv2 for groups.
func flowHash(f Flow, sport, dport uint16) uint64 {
	h := fnv.New64a()
	h.Write(f.SrcIP.AsSlice())
	h.Write(f.DstIP.AsSlice())
	h.Write([]byte{f.Proto, byte(sport >> 8), byte(sport), byte(dport >> 8), byte(dport)})
	return h.Sum64()
}

// pickMember chooses a group member: hash modulo the sum of weights, walking
// the members in group order, so a member of weight w gets w shares (WCMP,
// §9.2.2). A member whose watch port is down (live says so) is skipped, as
// the data plane's fast failover does (§9.2.3): its shares go to the rest.
func pickMember(g *p4v1.ActionProfileGroup, hash uint64, live func(*p4v1.ActionProfileGroup_Member) bool) (uint32, bool) {
	var total uint64
	weight := func(gm *p4v1.ActionProfileGroup_Member) uint64 {
		if live != nil && !live(gm) {
			return 0
		}
		return uint64(max(gm.GetWeight(), 1))
	}
	for _, gm := range g.GetMembers() {
		total += weight(gm)
	}
	if total == 0 {
		return 0, false // empty group: §9.2.4 leaves it unpredictable; we drop
	}
	x := hash % total
	for _, gm := range g.GetMembers() {
		w := weight(gm)
		if x < w {
			return gm.GetMemberId(), true
		}
		x -= w
	}
	return 0, false
}

// lookup finds the entry of ts that a packet with the given key values (by
// match field short name; absent names read as 0) hits, or nil on a miss.
// LPM tables prefer the longest prefix; others the highest priority; ties go
// to the earliest inserted entry.
func lookup(ts *tableState, keys map[string]*big.Int) *tableEntry {
	ti := ts.info
	vals := make(map[uint32]*big.Int, len(ti.fieldOrder))
	for _, f := range ti.fieldOrder {
		v := keys[lastComponent(f.GetName())]
		if v == nil {
			v = new(big.Int)
		}
		vals[f.GetId()] = v
	}
	var best *tableEntry
	var bestPrefix int32
	for _, e := range ts.entries {
		prefix, ok := entryMatches(ti, e.te, vals)
		if !ok {
			continue
		}
		if best == nil || better(e, prefix, best, bestPrefix) {
			best, bestPrefix = e, prefix
		}
	}
	return best
}

func better(e *tableEntry, prefix int32, cur *tableEntry, curPrefix int32) bool {
	if prefix != curPrefix {
		return prefix > curPrefix
	}
	if e.te.GetPriority() != cur.te.GetPriority() {
		return e.te.GetPriority() > cur.te.GetPriority()
	}
	return e.seq < cur.seq
}

// entryMatches reports whether the entry matches and the total LPM prefix
// length it matched with.
func entryMatches(ti *tableInfo, te *p4v1.TableEntry, vals map[uint32]*big.Int) (int32, bool) {
	var prefix int32
	for _, fm := range te.GetMatch() {
		v := vals[fm.GetFieldId()]
		f := ti.fields[fm.GetFieldId()]
		switch mt := fm.GetFieldMatchType().(type) {
		case *p4v1.FieldMatch_Exact_:
			if v.Cmp(toBig(mt.Exact.GetValue())) != 0 {
				return 0, false
			}
		case *p4v1.FieldMatch_Optional_:
			if v.Cmp(toBig(mt.Optional.GetValue())) != 0 {
				return 0, false
			}
		case *p4v1.FieldMatch_Ternary_:
			mask := toBig(mt.Ternary.GetMask())
			if new(big.Int).And(v, mask).Cmp(toBig(mt.Ternary.GetValue())) != 0 {
				return 0, false
			}
		case *p4v1.FieldMatch_Range_:
			if v.Cmp(toBig(mt.Range.GetLow())) < 0 || v.Cmp(toBig(mt.Range.GetHigh())) > 0 {
				return 0, false
			}
		case *p4v1.FieldMatch_Lpm:
			shift := uint(f.GetBitwidth() - mt.Lpm.GetPrefixLen())
			if new(big.Int).Rsh(v, shift).Cmp(new(big.Int).Rsh(toBig(mt.Lpm.GetValue()), shift)) != 0 {
				return 0, false
			}
			prefix += mt.Lpm.GetPrefixLen()
		}
	}
	return prefix, true
}
