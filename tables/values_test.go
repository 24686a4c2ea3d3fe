package tables

import (
	"bytes"
	"math"
	"math/big"
	"math/bits"
	"net"
	"net/netip"
	"testing"

	"google.golang.org/grpc/codes"
)

func TestEncodeValue(t *testing.T) {
	two127 := new(big.Int).Lsh(big.NewInt(1), 127) // 2^127: bit 127 set, needs 128 bits
	tests := []struct {
		desc  string
		v     any
		width int32
		want  []byte
		code  codes.Code
	}{
		// The first rows are the spec's own examples (§8.3 table "Examples of
		// Valid Bytestring Encoding", canonical column).
		{"bit<8> 99", 99, 8, []byte{0x63}, codes.OK},
		{"bit<16> 99", 99, 16, []byte{0x63}, codes.OK},
		{"bit<16> 12388", 12388, 16, []byte{0x30, 0x64}, codes.OK},
		{"bit<12> 99", 99, 12, []byte{0x63}, codes.OK},
		{"zero is one byte", 0, 16, []byte{0x00}, codes.OK},
		// 511 = 0x1ff is the largest bit<9>; 512 = 0x200 needs 10 bits.
		{"bit<9> max", 511, 9, []byte{0x01, 0xff}, codes.OK},
		{"bit<9> overflow", 512, 9, nil, codes.OutOfRange},
		{"bit<2> 3", uint8(3), 2, []byte{0x03}, codes.OK},
		{"bit<2> 4", uint8(4), 2, nil, codes.OutOfRange},
		{"uint64 max in 64 bits", uint64(math.MaxUint64), 64, bytes.Repeat([]byte{0xff}, 8), codes.OK},
		{"uint64 max in 63 bits", uint64(math.MaxUint64), 63, nil, codes.OutOfRange},
		{"negative", -1, 8, nil, codes.InvalidArgument},
		{"decimal string", "4096", 16, []byte{0x10, 0x00}, codes.OK},
		{"hex string", "0x1f", 8, []byte{0x1f}, codes.OK},
		{"hex string odd digits and leading zeros", "0x0001f", 8, []byte{0x1f}, codes.OK},
		{"IPv4", "10.0.0.1", 32, []byte{10, 0, 0, 1}, codes.OK},
		{"IPv4 with leading zero octets is shortened", "0.0.1.2", 32, []byte{1, 2}, codes.OK},
		{"IPv4 in 24 bits", "10.0.0.1", 24, nil, codes.OutOfRange},
		{"IPv6", "2001:db8::1", 128, []byte{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, codes.OK},
		{"MAC leading zero byte stripped", "00:11:22:33:44:55", 48, []byte{0x11, 0x22, 0x33, 0x44, 0x55}, codes.OK},
		{"MAC with dashes", "0a-0b-0c-0d-0e-0f", 48, []byte{0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f}, codes.OK},
		{"bytes non-canonical", []byte{0, 0, 5}, 8, []byte{5}, codes.OK},
		{"bytes empty", []byte{}, 8, nil, codes.InvalidArgument},
		{"big.Int 2^127 fits 128", two127, 128, append([]byte{0x80}, make([]byte, 15)...), codes.OK},
		{"big.Int 2^127 overflows 127", two127, 127, nil, codes.OutOfRange},
		{"big decimal string", "170141183460469231731687303715884105728", 128, append([]byte{0x80}, make([]byte, 15)...), codes.OK},
		{"netip.Addr", netip.MustParseAddr("192.168.1.1"), 32, []byte{192, 168, 1, 1}, codes.OK},
		{"net.IP v4 in 16-byte form", net.ParseIP("192.168.1.1"), 32, []byte{192, 168, 1, 1}, codes.OK},
		{"net.HardwareAddr", net.HardwareAddr{0, 0, 0, 0, 0, 1}, 48, []byte{1}, codes.OK},
		{"garbage string", "ten", 8, nil, codes.InvalidArgument},
		{"bad address", "10.0.0.256", 32, nil, codes.InvalidArgument},
		{"unsupported type", 1.5, 8, nil, codes.InvalidArgument},
		{"nil", nil, 8, nil, codes.InvalidArgument},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			got, err := EncodeValue(tc.v, tc.width)
			if c := Code(err); c != tc.code {
				t.Fatalf("EncodeValue(%v, %d) error %v, want code %v", tc.v, tc.width, err, tc.code)
			}
			if tc.code == codes.OK && !bytes.Equal(got, tc.want) {
				t.Fatalf("EncodeValue(%v, %d) = %x, want %x", tc.v, tc.width, got, tc.want)
			}
		})
	}
}

func TestCanonicalAndBitLen(t *testing.T) {
	tests := []struct {
		in     []byte
		canon  []byte
		bitLen int
	}{
		{[]byte{0}, []byte{0}, 0},
		{[]byte{0, 0, 0}, []byte{0}, 0},
		{[]byte{0, 1}, []byte{1}, 1},
		{[]byte{0, 0x80}, []byte{0x80}, 8},
		{[]byte{0x01, 0x00}, []byte{0x01, 0x00}, 9},
		{[]byte{}, []byte{}, 0},
	}
	for _, tc := range tests {
		if got := Canonical(tc.in); !bytes.Equal(got, tc.canon) {
			t.Errorf("Canonical(%x) = %x, want %x", tc.in, got, tc.canon)
		}
		if got := BitLen(tc.in); got != tc.bitLen {
			t.Errorf("BitLen(%x) = %d, want %d", tc.in, got, tc.bitLen)
		}
	}
}

func TestFormatValueRoundTrip(t *testing.T) {
	tests := []struct {
		human string
		width int32
		name  string
	}{
		{"10.1.2.3", 32, "ipv4_dst"},
		{"0.0.0.0", 32, "ipv4_src"},
		{"2001:db8::1", 128, "ipv6_dst"},
		{"::", 128, "ipv6_dst"},
		{"00:11:22:33:44:55", 48, "smac"},
		{"511", 9, "port"},
		{"0", 8, "class_id"},
		{"3232235777", 32, "counter_value"}, // 32 bits without an address hint stays decimal
		{"0x0102030405060708090a", 80, "wide"},
	}
	for _, tc := range tests {
		b, err := EncodeValue(tc.human, tc.width)
		if err != nil {
			t.Fatalf("EncodeValue(%q): %v", tc.human, err)
		}
		if got := FormatValue(b, tc.width, tc.name); got != tc.human {
			t.Errorf("FormatValue(EncodeValue(%q)) = %q", tc.human, got)
		}
	}
}

// FuzzEncodeUint checks EncodeValue against math/bits for every uint64 and
// width: it fits iff bits.Len64(v) <= width, and the bytes decode back to v
// without a leading zero byte.
func FuzzEncodeUint(f *testing.F) {
	f.Add(uint64(0), int32(1))
	f.Add(uint64(511), int32(9))
	f.Add(uint64(512), int32(9))
	f.Add(uint64(math.MaxUint64), int32(64))
	f.Fuzz(func(t *testing.T, v uint64, width int32) {
		if width < 1 || width > 200 {
			t.Skip("bit widths outside 1..200 are not P4Info widths")
		}
		b, err := EncodeValue(v, width)
		if fits := bits.Len64(v) <= int(width); fits != (err == nil) {
			t.Fatalf("EncodeValue(%d, %d) err=%v, fits=%v", v, width, err, fits)
		}
		if err != nil {
			return
		}
		if len(b) == 0 || (len(b) > 1 && b[0] == 0) {
			t.Fatalf("EncodeValue(%d) = %x is not canonical", v, b)
		}
		var back uint64
		for _, c := range b {
			back = back<<8 | uint64(c)
		}
		if back != v {
			t.Fatalf("EncodeValue(%d) = %x decodes to %d", v, b, back)
		}
	})
}

func TestWithinMask(t *testing.T) {
	tests := []struct {
		value, mask []byte
		want        bool
	}{
		{[]byte{10, 0, 0, 0}, []byte{255, 0, 0, 0}, true},
		{[]byte{10, 1, 0, 0}, []byte{255, 0, 0, 0}, false},
		{[]byte{0x01}, []byte{0x01, 0xff}, true},       // shorter value is zero-padded
		{[]byte{0x01, 0x00}, []byte{0xff}, false},      // value bit 8 above an 8-bit mask
		{[]byte{0x00, 0x00, 0x0f}, []byte{0x0f}, true}, // leading zero bytes are harmless
		{[]byte{0}, []byte{0}, true},
	}
	for _, tc := range tests {
		if got := withinMask(tc.value, tc.mask); got != tc.want {
			t.Errorf("withinMask(%x, %x) = %v, want %v", tc.value, tc.mask, got, tc.want)
		}
	}
}
