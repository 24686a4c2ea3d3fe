package units

import (
	"errors"
	"testing"
)

func TestParseBitrate(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		bad  bool
	}{
		{"10Mbps", 10e6, false},
		{"10 Mbps", 10e6, false},
		{"1.5Gbps", 1.5e9, false},
		{"2500", 2500, false},
		{"100kbps", 100e3, false},
		{"1Tbps", 1e12, false},
		{"3 mbit/s", 3e6, false},
		{"1e3Kbps", 1e6, false},
		{"0", 0, false},
		{"-1Mbps", 0, true},
		{"10MB", 0, true}, // a size, not a rate
		{"fast", 0, true},
		{"", 0, true},
		{"1..2Mbps", 0, true},
	}
	for _, tc := range tests {
		got, err := ParseBitrate(tc.in)
		if tc.bad {
			if err == nil || !errors.Is(err, ErrSyntax) {
				t.Errorf("ParseBitrate(%q) = %v, %v; want ErrSyntax", tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseBitrate(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestParseBytes(t *testing.T) {
	tests := []struct {
		in   string
		want uint64
		bad  bool
	}{
		{"64KB", 64000, false},
		{"64KiB", 65536, false},
		{"1500", 1500, false},
		{"1500B", 1500, false},
		{"1.5MiB", 1572864, false},
		{"2 MB", 2e6, false},
		{"1GiB", 1 << 30, false},
		{"-5KB", 0, true},
		{"5Mbps", 0, true},
		{"KB", 0, true},
	}
	for _, tc := range tests {
		got, err := ParseBytes(tc.in)
		if tc.bad {
			if err == nil {
				t.Errorf("ParseBytes(%q) = %v; want an error", tc.in, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseBytes(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
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
	for _, s := range []string{"10Mbps", "1.5 Gbps", "0", "-3", "1e400Gbps", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseBitrate(s)
		if err == nil && (v < 0 || v != v) {
			t.Fatalf("ParseBitrate(%q) = %v without error", s, v)
		}
	})
}
