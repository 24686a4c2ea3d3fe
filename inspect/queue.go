package inspect

import (
	"context"

	"github.com/p4qos/p4qos/compiler/contract"
	"github.com/p4qos/p4qos/internal/thrift"
	"github.com/p4qos/p4qos/target"
)

// queueSide is what a target's queue interface reports of one queue; nil
// where it does not (BMv2 has setters only; the sim serves p4qos's
// read-back calls too).
type queueSide struct{ rate, depth, backlog, drops *int64 }

// used reports whether the queue interface reported anything but defaults.
func (q queueSide) used() bool {
	for _, v := range []*int64{q.rate, q.depth, q.backlog, q.drops} {
		if v != nil && *v != 0 {
			return true
		}
	}
	return false
}

// queueSides asks the switch's queue interface, when it has one, about
// every queue of the ports in idx (queue_counter indexes), keeping those
// that counted or report something (a starved queue only drops). A queue
// interface that is down or lacks a call leaves the values out: top still
// shows the rest.
func (r *reader) queueSides(ctx context.Context, idx map[int64]Counter) map[int64]queueSide {
	out := map[int64]queueSide{}
	if r.t.Thrift == "" || len(idx) == 0 {
		return out
	}
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	c, err := thrift.Dial(ctx, r.t.Thrift)
	if err != nil {
		return out
	}
	defer c.Close()
	get := func(method string, port, queue int64) *int64 {
		v, err := c.CallInt(ctx, target.ThriftService, method, thrift.I32(1, int32(port)), thrift.I32(2, int32(queue)))
		if err != nil {
			return nil
		}
		return &v
	}
	ports := map[int64]bool{}
	for i := range idx {
		ports[i/contract.QueuesPerPort] = true
	}
	for port := range ports {
		for queue := range int64(contract.QueuesPerPort) {
			q := queueSide{
				rate: get(target.MethodGetQueueRate, port, queue), depth: get(target.MethodGetQueueDepth, port, queue),
				backlog: get(target.MethodGetQueueBacklog, port, queue), drops: get(target.MethodGetQueueDrops, port, queue),
			}
			if i := port*contract.QueuesPerPort + queue; q.used() || idx[i] != (Counter{}) {
				out[i] = q
			}
		}
	}
	return out
}
