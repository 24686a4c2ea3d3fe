package tables

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	p4v1 "github.com/p4lang/p4runtime/go/p4/v1"

	"github.com/p4qos/p4qos/compiler/contract"
)

var benchSizes = []int{1_000, 10_000, 100_000}

// reportPerEntry adds wall ns/entry and CPU ns/entry (process CPU time since
// cpu0, which includes GC work on other threads) so that sizes compare.
func reportPerEntry(b *testing.B, n int, cpu0 time.Duration) {
	per := float64(b.N) * float64(n)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/per, "ns/entry")
	b.ReportMetric(float64((processCPU()-cpu0).Nanoseconds())/per, "cpu-ns/entry")
}

// benchAddr returns the i-th /32 of 10.0.0.0/8.
func benchAddr(i int) netip.Addr {
	return netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
}

// benchEntries builds n acl entries: a ternary address, a range and a
// two-parameter action each, varied by i (and by salt in the action).
func benchEntries(tb testing.TB, s *Schema, n, salt int) []*p4v1.Entity {
	out := make([]*p4v1.Entity, n)
	for i := range out {
		te, err := s.TableEntry("acl",
			[]Match{Ternary(contract.KeyIPv4Src, benchAddr(i), "255.255.255.255"), Range(contract.KeyL4DstPort, 1000, 2000+i%1000)},
			Action(contract.SetClass, Param(contract.ParamClassID, (i+salt)%256), Param(contract.ParamDSCP, i%64)),
			Priority(int32(i%1000+1)))
		if err != nil {
			tb.Fatal(err)
		}
		out[i] = EntityOf(te)
	}
	return out
}

// BenchmarkEncode builds and validates n table entries from human values
// (IPv4 parse, canonical encoding, P4Info checks) per op.
func BenchmarkEncode(b *testing.B) {
	s := testSchema(b)
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			cpu0 := processCPU()
			for b.Loop() {
				benchEntries(b, s, n, 0)
			}
			reportPerEntry(b, n, cpu0)
		})
	}
}

// BenchmarkValidate runs ValidateEntity, as the sim does on every write, on
// n entries per op.
func BenchmarkValidate(b *testing.B) {
	s := testSchema(b)
	for _, n := range benchSizes {
		es := benchEntries(b, s, n, 0)
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			cpu0 := processCPU()
			for b.Loop() {
				for _, e := range es {
					if err := s.ValidateEntity(e); err != nil {
						b.Fatal(err)
					}
				}
			}
			reportPerEntry(b, n, cpu0)
		})
	}
}

// BenchmarkDiff diffs n current entries against an intent of n entries in
// which 10% changed action, 5% were removed and 5% are new.
func BenchmarkDiff(b *testing.B) {
	s := testSchema(b)
	for _, n := range benchSizes {
		current := benchEntries(b, s, n, 0)
		changed := benchEntries(b, s, n+n/20, 1)
		intent := make([]*p4v1.Entity, 0, n)
		for i := n / 20; i < n+n/20; i++ { // drop the first 5%, add 5% new
			if i%10 == 0 {
				intent = append(intent, changed[i])
			} else if i < n {
				intent = append(intent, current[i])
			} else {
				intent = append(intent, changed[i])
			}
		}
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			cpu0 := processCPU()
			var plan Plan
			for b.Loop() {
				var err error
				if plan, err = Diff(s, current, intent); err != nil {
					b.Fatal(err)
				}
			}
			ins, mod, del := plan.Counts()
			if ins != n/20 || del != n/20 || mod == 0 {
				b.Fatalf("plan %d/%d/%d, want %d inserts and deletes", ins, mod, del, n/20)
			}
			reportPerEntry(b, n, cpu0)
		})
	}
}
