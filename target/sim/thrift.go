package sim

import (
	"context"
	"fmt"
	"math"
	"net"

	"github.com/p4qos/p4qos/internal/thrift"
	"github.com/p4qos/p4qos/target"
)

// ServeThrift serves simple_switch's queue calls on lis until ctx ends, so
// that the controller sets the sim's queues exactly as it sets BMv2's
// (target.ThriftQueues), plus two p4qos read-back calls that BMv2 lacks:
//
//	set_egress_priority_queue_rate(port, priority, rate_pps)   → SetQueue
//	set_egress_priority_queue_depth(port, priority, depth_pkts) → SetQueue
//	set_egress_queue_rate(port, rate_pps), set_egress_queue_depth(port, depth_pkts): every queue of the port
//	p4qos_get_egress_priority_queue_rate(port, priority)  → the rate (0: not limited)
//	p4qos_get_egress_priority_queue_depth(port, priority) → the depth (0: the sim's default, no buffer)
//	p4qos_get_egress_priority_queue_backlog(port, priority) → packets waiting (QueueStats.BacklogPackets)
//	p4qos_get_egress_priority_queue_drops(port, priority)   → tail drops since SetFlows (QueueStats.DroppedPackets)
//
// Setters return 0 on success, like simple_switch; an invalid queue is a
// Thrift exception naming it.
func (s *Switch) ServeThrift(ctx context.Context, lis net.Listener) error {
	srv := &thrift.Server{Service: target.ThriftService, Handler: s.thriftCall}
	return srv.Serve(ctx, lis)
}

func (s *Switch) thriftCall(method string, m *thrift.Message) (thrift.Field, error) {
	arg := func(id int16) (int64, error) {
		f, ok := m.Field(id)
		if !ok || (f.Type != thrift.TypeI32 && f.Type != thrift.TypeI64) {
			return 0, fmt.Errorf("%s: argument %d missing or not an integer", method, id)
		}
		return f.Int, nil
	}
	port, err := arg(1)
	if err != nil {
		return thrift.Field{}, err
	}
	if port < 0 || port > math.MaxUint32 {
		return thrift.Field{}, fmt.Errorf("%s: port %d out of range", method, port)
	}
	queues := func() ([]uint8, int64, error) { // (queues addressed, value, error)
		switch method {
		case "set_egress_queue_rate", "set_egress_queue_depth":
			v, err := arg(2)
			all := make([]uint8, MaxQueues)
			for i := range all {
				all[i] = uint8(i)
			}
			return all, v, err
		}
		q, err := arg(2)
		if err != nil {
			return nil, 0, err
		}
		if q < 0 || q >= MaxQueues {
			return nil, 0, fmt.Errorf("%s: port %d queue %d: %v: queues are 0..%d", method, port, q, ErrInvalidQueue, MaxQueues-1)
		}
		v, _ := arg(3)
		return []uint8{uint8(q)}, v, nil
	}
	qs, v, err := queues()
	if err != nil {
		return thrift.Field{}, err
	}
	p := uint32(port)
	switch method {
	case target.MethodGetQueueRate:
		return thrift.I64(0, s.queueOf(p, qs[0]).RatePPS), nil
	case target.MethodGetQueueDepth:
		return thrift.I32(0, int32(s.queueOf(p, qs[0]).DepthPkts)), nil
	case target.MethodGetQueueBacklog, target.MethodGetQueueDrops:
		st := QueueStats{}
		for _, q := range s.QueueStats() {
			if q.Port == p && q.Queue == qs[0] {
				st = q
			}
		}
		v := st.BacklogPackets
		if method == target.MethodGetQueueDrops {
			v = st.DroppedPackets
		}
		return thrift.I64(0, int64(min(v, math.MaxInt64))), nil
	case target.MethodSetQueueRate, "set_egress_queue_rate":
		for _, q := range qs {
			if err := s.SetQueue(p, q, v, s.queueOf(p, q).DepthPkts); err != nil {
				return thrift.Field{}, err
			}
		}
		return thrift.I32(0, 0), nil
	case target.MethodSetQueueDepth, "set_egress_queue_depth":
		if v < 0 || v > math.MaxInt32 {
			return thrift.Field{}, fmt.Errorf("%s: depth %d out of range", method, v)
		}
		for _, q := range qs {
			if err := s.SetQueue(p, q, s.queueOf(p, q).RatePPS, int(v)); err != nil {
				return thrift.Field{}, err
			}
		}
		return thrift.I32(0, 0), nil
	}
	return thrift.Field{}, thrift.ErrUnknownMethod
}

// queueOf is one queue's setting (zero values when it has the default).
func (s *Switch) queueOf(port uint32, queue uint8) QueueConfig {
	for _, q := range s.Queues() {
		if q.Port == port && q.Queue == queue {
			return q
		}
	}
	return QueueConfig{Port: port, Queue: queue}
}
