package target

import (
	"cmp"
	"context"
	"fmt"
	"net"
	"slices"
	"sync"

	"github.com/p4qos/p4qos/internal/thrift"
)

// BMv2 queue defaults (simple_switch 1.15.5): a queue is not rate-limited
// until a rate is set (rate 0 means "no limit" too), and holds 64 packets
// (SimpleSwitch's egress_buffers capacity).
const (
	DefaultQueueRatePPS = 0
	DefaultQueueDepth   = 64
	// QueuePacketBytes is the packet size at which a rate in bits/s becomes
	// BMv2's packets/s: exact for full-size packets, generous for smaller.
	QueuePacketBytes = 1500
)

// The simple_switch thrift service and the p4qos read-back extension that
// the embedded switch also serves (BMv2 has no getter for queue settings).
const (
	ThriftService       = "simple_switch"
	MethodSetQueueRate  = "set_egress_priority_queue_rate"  // (1:i32 port, 2:i32 priority, 3:i64 rate_pps) → i32
	MethodSetQueueDepth = "set_egress_priority_queue_depth" // (1:i32 port, 2:i32 priority, 3:i32 depth_pkts) → i32
	MethodGetQueueRate  = "p4qos_get_egress_priority_queue_rate"
	MethodGetQueueDepth = "p4qos_get_egress_priority_queue_depth"
	// MethodGetQueueBacklog and MethodGetQueueDrops report a queue's
	// packets waiting and its tail drops (cumulative), for p4qos top.
	MethodGetQueueBacklog = "p4qos_get_egress_priority_queue_backlog"
	MethodGetQueueDrops   = "p4qos_get_egress_priority_queue_drops"
)

// PacketsPerSecond converts a rate in bits/s into BMv2's queue rate unit,
// packets/s of QueuePacketBytes, rounding up so a queue never runs slower
// than asked (at least 1). 0 stays 0: not limited.
func PacketsPerSecond(bps float64) int64 {
	if bps <= 0 {
		return 0
	}
	const bits = QueuePacketBytes * 8
	return max(int64((bps+bits-1)/bits), 1)
}

// ThriftQueues configures queues through simple_switch's thrift interface
// (what `simple_switch_CLI set_queue_rate/set_queue_depth` calls). With
// ReadBack, it first reads each queue (a p4qos extension that the embedded
// switch serves), writes only what differs and counts drift.
type ThriftQueues struct {
	Addr     string
	ReadBack bool
	// Dial opens the connection (nil: TCP).
	Dial func(ctx context.Context, addr string) (net.Conn, error)

	mu      sync.Mutex
	applied map[queueKey]queueParams
}

type queueKey struct {
	port  uint32
	queue uint8
}

type queueParams struct {
	ratePPS int64
	depth   int64
}

// Apply implements QueueConfigurator.
func (q *ThriftQueues) Apply(ctx context.Context, qs []QueueSetting) (QueueStats, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	want := map[queueKey]queueParams{}
	for k := range q.applied {
		want[k] = queueParams{DefaultQueueRatePPS, DefaultQueueDepth}
	}
	for _, s := range qs {
		p := queueParams{PacketsPerSecond(s.Rate), int64(s.Depth)}
		if p.depth == 0 {
			p.depth = DefaultQueueDepth
		}
		want[queueKey{s.Port, s.Queue}] = p
	}
	var st QueueStats
	if len(want) == 0 {
		return st, nil
	}
	c, err := thrift.DialWith(ctx, q.Addr, q.Dial)
	if err != nil {
		return st, fmt.Errorf("queue interface %s: %w", q.Addr, err)
	}
	defer c.Close()
	keys := make([]queueKey, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b queueKey) int {
		return cmp.Or(cmp.Compare(a.port, b.port), cmp.Compare(a.queue, b.queue))
	})
	for _, k := range keys {
		n, drift, err := q.applyOne(ctx, c, k, want[k])
		st.Written += n
		st.Drift += drift
		if err != nil {
			return st, fmt.Errorf("queue interface %s: port %d queue %d: %w", q.Addr, k.port, k.queue, err)
		}
	}
	q.applied = map[queueKey]queueParams{}
	for _, s := range qs {
		k := queueKey{s.Port, s.Queue}
		q.applied[k] = want[k]
	}
	return st, nil
}

func (q *ThriftQueues) applyOne(ctx context.Context, c *thrift.Client, k queueKey, p queueParams) (written, drift int, err error) {
	port, prio := thrift.I32(1, int32(k.port)), thrift.I32(2, int32(k.queue))
	setRate, setDepth := true, true
	if q.ReadBack {
		rate, err := c.CallInt(ctx, ThriftService, MethodGetQueueRate, port, prio)
		if err != nil {
			return 0, 0, err
		}
		depth, err := c.CallInt(ctx, ThriftService, MethodGetQueueDepth, port, prio)
		if err != nil {
			return 0, 0, err
		}
		setRate, setDepth = rate != p.ratePPS, depth != p.depth
		// Drift is a difference from what this controller last applied;
		// the first application of a setting is not drift.
		if last, ok := q.applied[k]; ok && (rate != last.ratePPS || depth != last.depth) {
			drift = 1
		}
	}
	if setRate {
		if err := callOK(ctx, c, MethodSetQueueRate, port, prio, thrift.I64(3, p.ratePPS)); err != nil {
			return written, drift, err
		}
		written++
	}
	if setDepth {
		if err := callOK(ctx, c, MethodSetQueueDepth, port, prio, thrift.I32(3, int32(p.depth))); err != nil {
			return written, drift, err
		}
		written++
	}
	return written, drift, nil
}

// callOK calls a simple_switch setter, which returns 0 on success.
func callOK(ctx context.Context, c *thrift.Client, method string, args ...thrift.Field) error {
	rc, err := c.CallInt(ctx, ThriftService, method, args...)
	if err != nil {
		return err
	}
	if rc != 0 {
		return fmt.Errorf("%s returned %d", method, rc)
	}
	return nil
}
