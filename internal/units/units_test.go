package units

import (
	"errors"
	"math"
	"strings"
	"testing"
	"unicode"
)

// TestParseBitrate covers every accepted rate spelling and every refused one
// with the hint it must carry.
func TestParseBitrate(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		hint string // non-empty: an error containing this is wanted
	}{
		// bits/s, SI prefixes
		{"2500", 2500, ""},
		{"0", 0, ""},
		{"1e3Kbps", 1e6, ""},
		{"10bps", 10, ""},
		{"100Kbps", 100e3, ""},
		{"100kbps", 100e3, ""}, // k is the SI kilo; documented to differ from tc
		{"10Mbps", 10e6, ""},
		{"10 Mbps", 10e6, ""},
		{"1.5Gbps", 1.5e9, ""},
		{"1Tbps", 1e12, ""},
		{"3Mb/s", 3e6, ""},
		{"3kb/s", 3e3, ""},
		{"2 b/s", 2, ""},
		// bit/s spellings
		{"5bit/s", 5, ""},
		{"5kbit/s", 5e3, ""},
		{"5Kbit/s", 5e3, ""},
		{"5Mbit/s", 5e6, ""},
		{"5Gbit/s", 5e9, ""},
		{"5Tbit/s", 5e12, ""},
		{"3 mbit/s", 3e6, ""},
		// tc's spellings: "bit" cannot be bytes, so case does not matter
		{"10bit", 10, ""},
		{"10kbit", 10e3, ""},
		{"10mbit", 10e6, ""},
		{"10gbit", 10e9, ""},
		{"10tbit", 10e12, ""},
		{"10Mbit", 10e6, ""},
		{"10MBIT", 10e6, ""},
		// bytes/s, ×8
		{"10Bps", 80, ""},
		{"10KBps", 80e3, ""},
		{"10kBps", 80e3, ""},
		{"10MBps", 80e6, ""},
		{"10GBps", 80e9, ""},
		{"1TBps", 8e12, ""},
		{"10MB/s", 80e6, ""},
		{"10 B/s", 80, ""},
		// ambiguous: case was the only thing telling bits from bytes
		{"10mbps", 0, `ambiguous unit "mbps" (case matters: b is bits, B is bytes): write 10Mbps for megabits/s or 10MBps for megabytes/s (= 80Mbps)`},
		{"10MBPS", 0, `write 10Mbps for megabits/s or 10MBps for megabytes/s (= 80Mbps)`},
		{"1.5gbps", 0, `write 1.5Gbps for gigabits/s or 1.5GBps for gigabytes/s (= 12Gbps)`},
		{"1tbps", 0, `write 1Tbps for terabits/s or 1TBps for terabytes/s (= 8Tbps)`},
		{"100KBPS", 0, `write 100Kbps for kilobits/s or 100KBps for kilobytes/s (= 800Kbps)`},
		{"10BPS", 0, `write 10bps for bits/s or 10Bps for bytes/s (= 80bps)`},
		{"10mb/s", 0, `write 10Mb/s for megabits/s or 10MB/s for megabytes/s (= 80Mbps)`},
		// a size where a rate belongs
		{"10MB", 0, `"MB" is a size, not a rate: write 10Mbps for megabits/s or 10MBps for megabytes/s (= 80Mbps)`},
		{"10Mb", 0, `"Mb" is a size, not a rate: write 10Mbps`},
		{"10KiB", 0, `"KiB" is a size, not a rate`},
		// a prefix without a unit
		{"10M", 0, `"M" needs a unit: write 10Mbps for megabits/s or 10MBps for megabytes/s (= 80Mbps)`},
		{"64k", 0, `"k" needs a unit: write 64Kbps`},
		// not a rate at all
		{"-1Mbps", 0, "rate must be a finite number ≥ 0"},
		{"1e400Gbps", 0, "bad number"},
		{"fast", 0, "does not start with a number"},
		{"", 0, "does not start with a number"},
		{"1..2Mbps", 0, "bad number"},
		{"10 furlongs", 0, `unknown rate unit "furlongs" (want bps, Kbps`},
		{"10Kibps", 0, `unknown rate unit "Kibps"`},
	}
	for _, tc := range tests {
		got, err := ParseBitrate(tc.in)
		if tc.hint != "" {
			if !errors.Is(err, ErrSyntax) || !strings.Contains(err.Error(), tc.hint) {
				t.Errorf("ParseBitrate(%q) = %v, %v; want ErrSyntax with %q", tc.in, got, err, tc.hint)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseBitrate(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

// TestParseBytes covers every accepted size spelling and every refused one
// with the hint it must carry.
func TestParseBytes(t *testing.T) {
	tests := []struct {
		in   string
		want uint64
		hint string
	}{
		// bytes
		{"1500", 1500, ""},
		{"1500B", 1500, ""},
		{"64KB", 64000, ""},
		{"64kB", 64000, ""},
		{"2 MB", 2e6, ""},
		{"1GB", 1e9, ""},
		{"1TB", 1e12, ""},
		{"64KiB", 65536, ""},
		{"1.5MiB", 1572864, ""},
		{"1GiB", 1 << 30, ""},
		{"1TiB", 1 << 40, ""},
		{"1.1KB", 1100, ""}, // 1.1*1000 is not exact in floating point
		// bits, ÷8
		{"16b", 2, ""},
		{"3Kb", 375, ""},
		{"1Mb", 125000, ""},
		{"1Gb", 125e6, ""},
		{"1Tb", 125e9, ""},
		{"1Kib", 128, ""},
		{"1Mib", 1 << 17, ""},
		{"8bit", 1, ""},
		{"8kbit", 1000, ""},
		{"8mbit", 1e6, ""},
		{"8Gbit", 1e9, ""},
		// not whole bytes
		{"12b", 0, `"12b" is 1.5 bytes: a size must be a whole number of bytes`},
		{"1b", 0, "is 0.125 bytes"},
		{"0.0005KB", 0, "is 0.5 bytes"},
		{"1.5B", 0, "is 1.5 bytes"},
		// ambiguous
		{"64kb", 0, `ambiguous unit "kb" (case matters: b is bits, B is bytes): write 64KB for kilobytes or 64Kb for kilobits (= 8KB)`},
		{"10mb", 0, `write 10MB for megabytes or 10Mb for megabits (= 1.25MB)`},
		{"1gb", 0, `write 1GB for gigabytes or 1Gb for gigabits (= 125MB)`},
		{"10mB", 0, `write 10MB for megabytes or 10Mb for megabits`},
		{"1mib", 0, `write 1MiB for mebibytes or 1Mib for mebibits (= 128KiB)`},
		{"1KIB", 0, `write 1KiB for kibibytes or 1Kib for kibibits (= 128B)`},
		// a prefix without a unit (tc's "64k" is bytes, SI would say nothing)
		{"64k", 0, `"k" needs a unit: write 64KB for kilobytes or 64Kb for kilobits (= 8KB)`},
		{"1Mi", 0, `"Mi" needs a unit: write 1MiB`},
		// a rate where a size belongs
		{"5Mbps", 0, `"Mbps" is a rate, not a size`},
		{"5Mbit/s", 0, `"Mbit/s" is a rate, not a size`},
		// not a size at all
		{"-5KB", 0, "size must be a finite number ≥ 0"},
		{"1e30TB", 0, "size must be a finite number ≥ 0"},
		{"KB", 0, "does not start with a number"},
		{"5 bytes", 0, `unknown size unit "bytes" (want B, KB`},
	}
	for _, tc := range tests {
		got, err := ParseBytes(tc.in)
		if tc.hint != "" {
			if !errors.Is(err, ErrSyntax) || !strings.Contains(err.Error(), tc.hint) {
				t.Errorf("ParseBytes(%q) = %v, %v; want ErrSyntax with %q", tc.in, got, err, tc.hint)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseBytes(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

// TestCaseOnlyTellsBitsFromBytes checks the rule the parser relies on: two
// accepted spellings that differ in meaning differ in more than the case of
// their prefix, so a reader who gets the prefix case wrong (k/K) is not
// silently given another quantity.
func TestCaseOnlyTellsBitsFromBytes(t *testing.T) {
	fold := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r == 'b' || r == 'B' {
				return r
			}
			return unicode.ToLower(r)
		}, s)
	}
	for name, us := range map[string][]unitDef{"rate": rateUnits, "size": sizeUnits} {
		seen := map[string]unitDef{}
		for _, u := range us {
			if prev, ok := seen[fold(u.name)]; ok && prev.mult != u.mult {
				t.Errorf("%s units %q (%v) and %q (%v) differ only in the case of their prefix", name, prev.name, prev.mult, u.name, u.mult)
			}
			seen[fold(u.name)] = u
			if got, ok := lookup(us, u.name); !ok || got.mult != u.mult {
				t.Errorf("%s unit %q: lookup = %v, %v", name, u.name, got, ok)
			}
		}
	}
}

func TestFormatRoundTrip(t *testing.T) {
	for _, bps := range []float64{0, 999, 1000, 12.5e6, 10e9, 3.25e12} {
		s := FormatBitrate(bps)
		back, err := ParseBitrate(s)
		if err != nil || back != bps {
			t.Errorf("FormatBitrate(%v) = %q, parses back as %v, %v", bps, s, back, err)
		}
	}
	for _, n := range []uint64{0, 1, 1500, 65536, 64000, 1 << 30, 1234567} {
		s := FormatBytes(n)
		back, err := ParseBytes(s)
		// Decimal rendering keeps three decimals, so allow that rounding.
		if err != nil || (back != n && float64(back) < float64(n)*0.999) {
			t.Errorf("FormatBytes(%v) = %q, parses back as %v, %v", n, s, back, err)
		}
	}
	if got := FormatBitrate(12.5e6); got != "12.5Mbps" {
		t.Errorf("FormatBitrate(12.5e6) = %q, want 12.5Mbps", got)
	}
	if got := FormatBytes(65536); got != "64KiB" {
		t.Errorf("FormatBytes(65536) = %q, want 64KiB", got)
	}
}

func FuzzParseBitrate(f *testing.F) {
	for _, s := range []string{"10Mbps", "1.5 Gbps", "0", "-3", "1e400Gbps", "x", "10mbps", "10MBps", "64k", "5Kb"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseBitrate(s)
		if err == nil && (v < 0 || math.IsNaN(v) || math.IsInf(v, 0)) {
			t.Fatalf("ParseBitrate(%q) = %v without error", s, v)
		}
		if err != nil && !errors.Is(err, ErrSyntax) {
			t.Fatalf("ParseBitrate(%q): error %v does not wrap ErrSyntax", s, err)
		}
	})
}

func FuzzParseBytes(f *testing.F) {
	for _, s := range []string{"64KB", "1.5MiB", "1500", "12b", "3Kb", "64kb", "-1", "1e30TB", "64k", "1.1KB"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseBytes(s)
		if err != nil {
			if !errors.Is(err, ErrSyntax) {
				t.Fatalf("ParseBytes(%q): error %v does not wrap ErrSyntax", s, err)
			}
			return
		}
		// An accepted size formats and parses back to within the three
		// decimals FormatBytes keeps (near 2⁶⁴ rounding up would overflow).
		if n > 1<<60 {
			return
		}
		back, err := ParseBytes(FormatBytes(n))
		if err != nil || math.Abs(float64(back)-float64(n)) > float64(n)*0.001+0.5 {
			t.Fatalf("ParseBytes(%q) = %d; FormatBytes gives %q, which parses as %d, %v", s, n, FormatBytes(n), back, err)
		}
	})
}
