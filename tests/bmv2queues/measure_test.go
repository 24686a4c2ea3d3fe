package bmv2queues

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/p4qos/p4qos/tests/internal/bmv2env"
)

// sample is one measurement of a queue's departure rate.
type sample struct {
	sent, got int
	// pps is the departure rate: the inverse of the least-squares slope of
	// departure time against departure index.
	pps float64
	// span is the time from the first departure to the last.
	span time.Duration
}

func (s sample) String() string {
	return fmt.Sprintf("%.1f pps (%d of %d frames over %v)", s.pps, s.got, s.sent, s.span.Round(time.Millisecond))
}

// fitRate is the rate of events at times ts: 1/slope of the least-squares
// line through (i, ts[i]). A backlogged BMv2 queue stamps packet i with
// the departure time t0 + i/rate when it is enqueued (QueueingLogicPriRL:
// each stamp is the previous one plus 1/rate), so the departures lie on
// that line however late BMv2's egress thread or the capture goroutine
// wakes for any one of them; the fit averages such lateness out instead of
// letting the first and last frame alone decide.
func fitRate(ts []time.Time) float64 {
	n := len(ts)
	if n < 2 {
		return 0
	}
	var mi, mt float64
	for i, t := range ts {
		mi += float64(i)
		mt += t.Sub(ts[0]).Seconds()
	}
	mi, mt = mi/float64(n), mt/float64(n)
	var sit, sii float64
	for i, t := range ts {
		di := float64(i) - mi
		sit += di * (t.Sub(ts[0]).Seconds() - mt)
		sii += di * di
	}
	if sit <= 0 {
		return math.Inf(1)
	}
	return sii / sit
}

// burst sends n frames to UDP port dport back to back into port inPort
// and measures their departures from port outPort. It returns once all n
// have left, or nothing has left for 2 s (a queue that dropped some), and
// fails the test if a frame is not the test's, comes out of order, or has
// the wrong DSCP (bulk frames must carry AF11, 10: proof they were
// classified into the shaped queue; others keep 0).
func (b *bed) burst(n int, dport uint16) sample {
	b.t.Helper()
	capture := b.sw.Port(outPort).Capture()
	for i := range n {
		if err := b.sw.Port(inPort).Send(udpFrame(uint32(i), dport)); err != nil {
			b.t.Fatalf("send frame %d: %v", i, err)
		}
	}
	bmv2env.WaitForFrames([]*bmv2env.Capture{capture}, n, 2*time.Second, 60*time.Second)
	times := capture.Times()
	frames := capture.Stop(b.t)
	if !b.sw.Alive() {
		b.t.Fatalf("simple_switch_grpc exited\n%s", b.sw.Log())
	}
	wantDSCP := byte(0)
	if dport == bulkPort {
		wantDSCP = 10
	}
	last := -1
	for i, f := range frames {
		seq, port, err := departed(f)
		if err != nil {
			b.t.Fatalf("departure %d: %v", i, err)
		}
		if port != dport || int(seq) >= n || int(seq) <= last {
			b.t.Fatalf("departure %d is frame %d to port %d, after frame %d: want frames 0..%d to port %d in order", i, seq, port, last, n-1, dport)
		}
		if dscp := f[15] >> 2; dscp != wantDSCP {
			b.t.Fatalf("frame %d left with DSCP %d, want %d", seq, dscp, wantDSCP)
		}
		last = int(seq)
	}
	s := sample{sent: n, got: len(frames), pps: fitRate(times)}
	if len(times) > 1 {
		s.span = times[len(times)-1].Sub(times[0])
	}
	return s
}

// within fails the test unless got is within tol (a fraction) of want.
func within(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol*want {
		t.Errorf("%s: %.1f, want %.1f ± %.0f%%", what, got, want, tol*100)
	}
}

// TestFitRate checks the rate estimate on departures with known spacing,
// with and without one late outlier.
func TestFitRate(t *testing.T) {
	t0 := time.Unix(1000, 0)
	var ts []time.Time
	for i := range 100 {
		ts = append(ts, t0.Add(time.Duration(i)*5*time.Millisecond)) // 200 per second
	}
	if got := fitRate(ts); math.Abs(got-200) > 1e-6 {
		t.Errorf("evenly spaced at 5 ms: %v per second, want 200", got)
	}
	// One departure seen 40 ms late (a busy test process) hardly moves
	// the estimate.
	ts[50] = ts[50].Add(40 * time.Millisecond)
	if got := fitRate(ts); math.Abs(got-200) > 1 {
		t.Errorf("one frame late: %v per second, want 200 ± 1", got)
	}
	if got := fitRate(ts[:1]); got != 0 {
		t.Errorf("one departure: %v, want 0 (no rate)", got)
	}
}
