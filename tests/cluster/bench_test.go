package cluster

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	ccluster "github.com/p4qos/p4qos/controller/cluster"
)

// BenchmarkFailover measures, with 3 `p4qos run --cluster` processes and 8
// sims, the failover time: from SIGKILL of the most loaded master to the
// moment every one of its switches has the new master's fencing id as its
// primary (the new master's writes are accepted from then on), against the
// lease TTL; and the mastership moves when an instance leaves and when one
// joins, against the minimum that reaches the balanced share.
//
//	go test -run '^$' -bench Failover -benchtime 3x ./tests/cluster/
func BenchmarkFailover(b *testing.B) {
	for _, lease := range []time.Duration{time.Second, 2 * time.Second, ccluster.DefaultLeaseTTL} {
		b.Run(fmt.Sprintf("lease=%v", lease), func(b *testing.B) {
			var failover, overTTL time.Duration
			var joinMoves, joinMin, leaveMoves, leaveMin int
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
				bd := newBedLease(b, 3, lease)
				own := bd.waitWhole(ctx, "three instances master and converge the eight switches")
				order := byLoad(bd, own)
				victim, survivors := order[0], order[1:]
				mine := 0
				for _, o := range own {
					if o.id == victim.id {
						mine++
					}
				}
				released0 := bd.released(survivors)
				b.StartTimer()
				killed := time.Now()
				victim.signal(b, syscall.SIGKILL)
				for {
					if _, msg := bd.mastered(ctx, liveSet(survivors...)); msg == "" {
						break
					}
					if ctx.Err() != nil {
						b.Fatal("no failover within 3 minutes")
					}
					time.Sleep(5 * time.Millisecond)
				}
				took := time.Since(killed)
				b.StopTimer()
				failover += took
				overTTL += took - lease
				leaveMoves += mine + bd.released(survivors) - released0 // victim's switches, plus any survivor gave up
				leaveMin += mine
				// A new instance joins: the survivors (4 + 4) give up only
				// what is above ⌈8/3⌉ = 3 each.
				released1 := bd.released(survivors)
				joinMin += 2
				bd.start("c9")
				waitFor(b, "the joined instance gets its share", func() string {
					own, msg := bd.mastered(ctx, liveSet(bd.procs...))
					if msg != "" {
						return msg
					}
					return balanced(own, len(survivors)+1)
				})
				joinMoves += bd.released(survivors) - released1
				cancel()
			}
			n := float64(b.N)
			b.ReportMetric(failover.Seconds()/n, "failover-s")
			b.ReportMetric(lease.Seconds(), "lease-s")
			b.ReportMetric(overTTL.Seconds()/n, "over-lease-s")
			b.ReportMetric(float64(leaveMoves)/n, "moves-leave")
			b.ReportMetric(float64(leaveMin)/n, "moves-leave-min")
			b.ReportMetric(float64(joinMoves)/n, "moves-join")
			b.ReportMetric(float64(joinMin)/n, "moves-join-min")
		})
	}
}

// balanced says "" when no instance masters more than ⌈8/instances⌉.
func balanced(own map[string]owner, instances int) string {
	share := (len(switchNames) + instances - 1) / instances
	n := map[string]int{}
	for _, o := range own {
		if n[o.id]++; n[o.id] > share {
			return fmt.Sprintf("%s masters more than %d", o.id, share)
		}
	}
	return ""
}

// released sums the instances' released masterships.
func (b *bed) released(ps []*proc) int {
	n := 0
	for _, p := range ps {
		for _, sw := range switchNames {
			n += int(max(p.metric("p4qos_cluster_mastership_changes_total", `switch="`+sw+`"`, `change="released"`), 0))
		}
	}
	return n
}
