package sim

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"time"
)

// The egress queues mirror BMv2 simple_switch run with --priority-queues 8
// (bm::QueueingLogicPriRL): per port, queues 0..7 served by strict priority,
// 7 first; each queue has a depth in packets and an optional rate in
// packets per second (set_egress_priority_queue_depth / _rate; rate 0 means
// no limit). A rate-limited queue that has used its rate lets lower queues
// be served. On top, a port may have a line rate in bits/s (SetPortRate),
// which BMv2 leaves to the link.
//
// The model is fluid per Advance: in a step of dt a queue may send at most
// rate·dt packets and the port rate·dt bytes; the flows of a queue share
// what it sends in proportion to what each has waiting; what cannot leave
// stays queued up to the depth and the rest is tail-dropped (same fraction
// for each flow). Fractions of packets carry over, so short steps add up.

// MaxQueues is the number of egress queues per port (BMv2 --priority-queues 8).
const MaxQueues = 8

// ErrInvalidQueue is wrapped by SetQueue errors.
var ErrInvalidQueue = errors.New("invalid queue setting")

// QueueConfig is the setting of one egress queue.
type QueueConfig struct {
	Port  uint32
	Queue uint8 // 0..7; 7 is served first
	// RatePPS limits departures to this many packets per second (of
	// whatever size); 0 means no limit, as in BMv2.
	RatePPS int64
	// DepthPkts is how many packets may wait in the queue; 0 is the sim's
	// default, no buffer: what cannot leave in the Advance it arrives in is
	// dropped. (BMv2's default is 64, and its depth 0 drops everything.)
	DepthPkts int
}

// QueueStats is what one egress queue did, cumulative since SetFlows.
type QueueStats struct {
	Port                             uint32
	Queue                            uint8
	DeliveredPackets, DeliveredBytes uint64
	// Dropped counts tail drops: packets the queue had no room for.
	DroppedPackets, DroppedBytes uint64
	// BacklogPackets are waiting at the end of the latest Advance.
	BacklogPackets uint64
}

type queueKey struct {
	port  uint32
	queue uint8
}

// queueState is one egress queue: its setting, what waits in it and what
// it did.
type queueState struct {
	ratePPS int64
	depth   int
	backlog map[legKey]uint64 // packets waiting, per flow and color
	stats   QueueStats
}

// legKey is the traffic of one flow and color.
type legKey struct {
	run   *flowRun
	color Color
}

// SetQueue sets the rate (packets/s, 0 = unlimited) and depth (packets, 0 =
// no buffer) of an egress queue in the traffic model, like BMv2's
// set_egress_priority_queue_rate and set_egress_priority_queue_depth. Rate 0
// and depth 0 is the default setting. Packets already waiting beyond a new,
// smaller depth are dropped at the next Advance.
func (s *Switch) SetQueue(port uint32, queue uint8, ratePPS int64, depthPkts int) error {
	switch {
	case queue >= MaxQueues:
		return fmt.Errorf("sim: port %d queue %d: %w: queues are 0..%d", port, queue, ErrInvalidQueue, MaxQueues-1)
	case ratePPS < 0:
		return fmt.Errorf("sim: port %d queue %d: %w: negative rate %d pps", port, queue, ErrInvalidQueue, ratePPS)
	case depthPkts < 0:
		return fmt.Errorf("sim: port %d queue %d: %w: negative depth %d", port, queue, ErrInvalidQueue, depthPkts)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.traffic.queue(queueKey{port, queue})
	q.ratePPS, q.depth = ratePPS, depthPkts
	return nil
}

// Queues returns the queues whose setting is not the default, by port and
// queue.
func (s *Switch) Queues() []QueueConfig {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []QueueConfig
	for _, k := range s.traffic.queueKeys() {
		q := s.traffic.queues[k]
		if q.ratePPS != 0 || q.depth != 0 {
			out = append(out, QueueConfig{Port: k.port, Queue: k.queue, RatePPS: q.ratePPS, DepthPkts: q.depth})
		}
	}
	return out
}

// QueueStats returns, by port and queue, every queue that has carried
// traffic since SetFlows.
func (s *Switch) QueueStats() []QueueStats {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []QueueStats
	for _, k := range s.traffic.queueKeys() {
		q := s.traffic.queues[k]
		if q.stats != (QueueStats{Port: k.port, Queue: k.queue}) {
			out = append(out, q.stats)
		}
	}
	return out
}

func (t *trafficState) queue(k queueKey) *queueState {
	q := t.queues[k]
	if q == nil {
		if t.queues == nil {
			t.queues = map[queueKey]*queueState{}
		}
		q = &queueState{backlog: map[legKey]uint64{}, stats: QueueStats{Port: k.port, Queue: k.queue}}
		t.queues[k] = q
	}
	return q
}

func (t *trafficState) queueKeys() []queueKey {
	keys := make([]queueKey, 0, len(t.queues))
	for k := range t.queues {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].port != keys[j].port {
			return keys[i].port < keys[j].port
		}
		return keys[i].queue < keys[j].queue
	})
	return keys
}

// resetQueues empties every queue and zeroes the statistics (SetFlows: the
// packets waiting belong to flows that are gone).
func (t *trafficState) resetQueues() {
	for k, q := range t.queues {
		q.backlog = map[legKey]uint64{}
		q.stats = QueueStats{Port: k.port, Queue: k.queue}
	}
}

// restartQueues puts every queue back to the default setting and drops
// what waits in it, as a restarted BMv2 forgets its thrift queue settings.
// The statistics stay cumulative, like FlowStats.
func (t *trafficState) restartQueues() {
	for _, q := range t.queues {
		q.ratePPS, q.depth = 0, 0
		q.backlog = map[legKey]uint64{}
		q.stats.BacklogPackets = 0
	}
}

// egressOut is what the egress did to one flow in an Advance, per color.
type egressOut struct {
	delivered, dropped [3]uint64
}

// egress queues the packets of this Advance that survived the pipeline
// (arrivals, indexed like runs) behind what waits already, serves every
// port by strict priority under its queue and port rates, and counts the
// departures in the egress counters. It returns per flow what left and
// what was dropped. Called with mu held.
func (t *trafficState) egress(runs []*flowRun, arrivals [][3]uint64, queueOf func(i int, c Color) (queueKey, bool), count func(i int, c Color, k queueKey, packets uint64), dt time.Duration) []egressOut {
	out := make([]egressOut, len(runs))
	index := make(map[*flowRun]int, len(runs))
	for i, r := range runs {
		index[r] = i
	}
	// Arrivals join their queue; a leg may also hold packets queued
	// before a table change sent the flow elsewhere.
	arriving := map[queueKey]map[legKey]uint64{}
	for i, r := range runs {
		for c := Green; c <= Red; c++ {
			k, ok := queueOf(i, c)
			if !ok || arrivals[i][c] == 0 {
				continue
			}
			if arriving[k] == nil {
				arriving[k] = map[legKey]uint64{}
				t.queue(k)
			}
			arriving[k][legKey{r, c}] += arrivals[i][c]
		}
	}
	ports := map[uint32]bool{}
	for k, q := range t.queues {
		if len(q.backlog) > 0 || arriving[k] != nil {
			ports[k.port] = true
		}
	}
	for _, port := range sortedPorts(ports) {
		capacity := math.Inf(1) // bytes this Advance
		if bps, ok := t.portRate[port]; ok {
			capacity = bps * dt.Seconds() / 8
		}
		for qi := MaxQueues - 1; qi >= 0; qi-- {
			k := queueKey{port, uint8(qi)}
			q := t.queues[k]
			if q == nil {
				continue
			}
			capacity = q.serve(arriving[k], dt, capacity, func(l legKey, sent, dropped uint64) {
				i, ok := index[l.run]
				if !ok {
					return // a flow replaced since; resetQueues forgot it
				}
				out[i].delivered[l.color] += sent
				out[i].dropped[l.color] += dropped
				if sent > 0 {
					count(i, l.color, k, sent)
				}
			})
		}
	}
	return out
}

func sortedPorts(set map[uint32]bool) []uint32 {
	out := make([]uint32, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// serve runs one queue for an Advance of dt with capacity bytes left on its
// port, reports each leg's departures and drops, and returns the capacity
// left for lower queues.
func (q *queueState) serve(arriving map[legKey]uint64, dt time.Duration, capacity float64, report func(l legKey, sent, dropped uint64)) float64 {
	waiting := map[legKey]uint64{}
	for l, n := range q.backlog {
		waiting[l] += n
	}
	for l, n := range arriving {
		waiting[l] += n
	}
	legs := sortedLegs(waiting)
	var packets, bytes float64
	for _, l := range legs {
		packets += float64(waiting[l])
		bytes += float64(waiting[l]) * float64(l.run.f.PacketSize)
	}
	if packets == 0 {
		return capacity
	}
	frac := 1.0
	if q.ratePPS > 0 {
		frac = min(frac, float64(q.ratePPS)*dt.Seconds()/packets)
	}
	if bytes*frac > capacity {
		frac = capacity / bytes
	}
	capacity = max(0, capacity-bytes*frac)

	remaining := map[legKey]uint64{}
	var left uint64
	for _, l := range legs {
		n := waiting[l]
		sent := n
		if frac < 1 {
			// The epsilon keeps a whole number of packets whole despite
			// rounding (rate·dt/n·n may come out just below it).
			want := float64(n)*frac + l.run.carry[l.color]
			sent = min(n, uint64(math.Floor(want+1e-9)))
			l.run.carry[l.color] = max(0, want-float64(sent))
		}
		remaining[l] = n - sent
		left += n - sent
		q.stats.DeliveredPackets += sent
		q.stats.DeliveredBytes += sent * uint64(l.run.f.PacketSize)
	}
	// Tail drop beyond the depth, the same fraction for every flow.
	q.backlog = map[legKey]uint64{}
	q.stats.BacklogPackets = 0
	for _, l := range legs {
		r := remaining[l]
		keep := r
		if left > uint64(q.depth) {
			keep = uint64(float64(r) * float64(q.depth) / float64(left))
		}
		if keep > 0 {
			q.backlog[l] = keep
			q.stats.BacklogPackets += keep
		}
		dropped := r - keep
		q.stats.DroppedPackets += dropped
		q.stats.DroppedBytes += dropped * uint64(l.run.f.PacketSize)
		report(l, waiting[l]-r, dropped)
	}
	return capacity
}

// sortedLegs orders legs by flow (SetFlows order), then color, so that
// rounding is deterministic.
func sortedLegs(m map[legKey]uint64) []legKey {
	out := make([]legKey, 0, len(m))
	for l := range m {
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].run.seq != out[j].run.seq {
			return out[i].run.seq < out[j].run.seq
		}
		return out[i].color < out[j].color
	})
	return out
}
