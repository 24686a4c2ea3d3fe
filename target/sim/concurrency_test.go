package sim

import (
	"context"
	"encoding/binary"
	"math/big"
	"slices"
	"sync"
	"testing"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"
	"google.golang.org/grpc"
)

// bigWriteHarness is a primary on the generic pipeline whose t_tern can
// hold n entries, with one t_exact entry (key 1) to read while writing.
func bigWriteHarness(tb testing.TB, n int, opts ...Option) *harness {
	tb.Helper()
	info := loadP4Info(tb, "testdata/generic.p4info.txtpb")
	info.GetTables()[1].Size = int64(n) // t_tern
	h := newHarness(tb, opts...)
	h.primary(1)
	h.setPipeline(info, 1)
	h.mustWrite(1, insert(exactEntry(1)))
	return h
}

// ternBatch is n distinct t_tern INSERTs.
func ternBatch(n int) []*p4v1.Update {
	us := make([]*p4v1.Update, n)
	for i := range us {
		us[i] = insert(ternKey(i))
	}
	return us
}

func ternKey(i int) *p4v1.Entity {
	return ternEntry(1, binary.BigEndian.AppendUint32(nil, uint32(i)), []byte{0xff, 0xff, 0xff, 0xff})
}

// readSample is one Read issued while a big Write may be running.
type readSample struct {
	start, end time.Duration // since the Write was sent
	// first and last report whether the batch's first and last entries
	// were visible to this Read.
	first, last bool
}

// writeSpan records, through a server interceptor, when the switch began
// and finished handling the one Write with more than one update.
type writeSpan struct {
	mu         sync.Mutex
	t0         time.Time
	begin, end time.Duration
}

func (w *writeSpan) interceptor(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	wr, ok := req.(*p4v1.WriteRequest)
	if !ok || len(wr.GetUpdates()) <= 1 {
		return handler(ctx, req)
	}
	w.mu.Lock()
	w.begin = time.Since(w.t0)
	w.mu.Unlock()
	resp, err := handler(ctx, req)
	w.mu.Lock()
	w.end = time.Since(w.t0)
	w.mu.Unlock()
	return resp, err
}

func (w *writeSpan) get() (begin, end time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.begin, w.end
}

// readDuringWrite sends batch and, until it returns, reads the t_exact entry
// plus the batch's first and last entries in a loop. Times are relative to
// span.t0, which it sets.
func readDuringWrite(tb testing.TB, h *harness, span *writeSpan, batch []*p4v1.Update) []readSample {
	tb.Helper()
	n := len(batch)
	span.mu.Lock()
	span.t0 = time.Now()
	t0 := span.t0
	span.mu.Unlock()
	done := make(chan error, 1)
	go func() { done <- h.write(1, batch...) }()
	var samples []readSample
	for {
		select {
		case err := <-done:
			if err != nil {
				tb.Fatalf("big Write: %v", err)
			}
			return samples
		default:
		}
		start := time.Since(t0)
		got, err := h.read(exactEntry(1), ternKey(0), ternKey(n-1))
		if err != nil {
			tb.Fatalf("Read during the Write: %v", err)
		}
		s := readSample{start: start, end: time.Since(t0)}
		if len(got) == 0 || got[0].GetTableEntry().GetTableId() != tExact {
			tb.Fatalf("Read during the Write lost the t_exact entry: %v", got)
		}
		for _, e := range got[1:] {
			v := e.GetTableEntry().GetMatch()[0].GetTernary().GetValue()
			if new(big.Int).SetBytes(v).Sign() == 0 {
				s.first = true
			} else {
				s.last = true
			}
		}
		samples = append(samples, s)
	}
}

// TestSim_HugeWriteDoesNotStallReads: a Write of many updates used to hold
// the switch's lock from its first update to its last, so every other
// client's Read waited for all of it. A Read issued while the switch
// handles the Write must now complete before the Write does, and (P4Runtime
// "Parallelism of Read and Write Requests") it must still see the state
// before the Write began or after it completed, never a part of it.
func TestSim_HugeWriteDoesNotStallReads(t *testing.T) {
	n := 200_000
	if testing.Short() {
		n = 50_000
	}
	span := &writeSpan{}
	h := bigWriteHarness(t, n, WithServerOptions(grpc.ChainUnaryInterceptor(span.interceptor)))
	samples := readDuringWrite(t, h, span, ternBatch(n))
	begin, end := span.get()

	// Reads issued in the first half of the switch's handling of the Write
	// have the second half to complete: no wall-clock threshold, only the
	// order of events. Before the fix they all completed after it.
	var issued, early int
	for i, s := range samples {
		if s.first != s.last {
			t.Errorf("read %d saw part of the batch (first entry %v, last %v)", i, s.first, s.last)
		}
		if s.start < begin || s.start > begin+(end-begin)/2 {
			continue
		}
		issued++
		if s.end < end {
			early++
		} else {
			t.Errorf("a Read issued %v into the switch's %v handling of the Write completed %v after it", s.start-begin, end-begin, s.end-end)
		}
	}
	t.Logf("Write of %d updates handled in %v; %d reads in all, %d issued in its first half, %d of them done before it", n, end-begin, len(samples), issued, early)
	if issued == 0 {
		t.Errorf("no Read was issued while the switch handled the Write")
	}
}

// BenchmarkReadDuringBigWrite measures how long Reads wait while another
// client's Write of 200k updates runs. Of the Reads pending at some point
// while the switch handles the Write, read-p50-ms is the median latency and
// read-max-ms the worst; write-ms is the switch's handling of the Write.
func BenchmarkReadDuringBigWrite(b *testing.B) {
	const n = 200_000
	span := &writeSpan{}
	h := bigWriteHarness(b, n, WithServerOptions(grpc.ChainUnaryInterceptor(span.interceptor)))
	info := loadP4Info(b, "testdata/generic.p4info.txtpb")
	info.GetTables()[1].Size = n
	batch := ternBatch(n)
	var lat []time.Duration
	var handled time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		h.setPipeline(info, 1) // VERIFY_AND_COMMIT: empty tables again
		h.mustWrite(1, insert(exactEntry(1)))
		b.StartTimer()
		samples := readDuringWrite(b, h, span, batch)
		begin, end := span.get()
		handled += end - begin
		for _, s := range samples {
			if s.end > begin && s.start < end {
				lat = append(lat, s.end-s.start)
			}
		}
	}
	if len(lat) == 0 {
		b.Fatal("no Read overlapped the switch's handling of the Write")
	}
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1e3 }
	b.ReportMetric(ms(lat[len(lat)/2]), "read-p50-ms")
	b.ReportMetric(ms(lat[len(lat)-1]), "read-max-ms")
	b.ReportMetric(ms(handled)/float64(b.N), "write-ms")
}
