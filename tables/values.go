package tables

import (
	"encoding/hex"
	"fmt"
	"math/big"
	"math/bits"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"google.golang.org/grpc/codes"

	"github.com/p4qos/p4qos/internal/yamlerr"
)

// EncodeValue converts a human value to the canonical P4Runtime bytestring
// for an unsigned field of the given bit width (P4Runtime v1.5 §8.3: the
// shortest big-endian string that holds the value; 0 is the single byte
// 0x00, because the spec defines 0 as needing one bit and rejects empty
// strings). A value that does not fit in bitwidth bits is a
// *ValidationError with codes.OutOfRange; an unparseable value has
// codes.InvalidArgument.
//
// Accepted values: signed and unsigned Go integers (negative is an error),
// *big.Int, []byte (big-endian, any length), netip.Addr, net.IP,
// net.HardwareAddr, and strings: decimal, 0x-hex, IPv4, IPv6, MAC
// (aa:bb:cc:dd:ee:ff or aa-bb-cc-dd-ee-ff).
func EncodeValue(v any, bitwidth int32) ([]byte, error) {
	b, err := rawBytes(v)
	if err != nil {
		return nil, invalidArg("%v", err)
	}
	b = Canonical(b)
	if n := BitLen(b); n > int(bitwidth) {
		return nil, outOfRange("value %s needs %d bits, field has %d", formatHuman(v), n, bitwidth)
	}
	return b, nil
}

// formatHuman prints v for an error message without dumping raw bytes.
func formatHuman(v any) string {
	if b, ok := v.([]byte); ok {
		return "0x" + hex.EncodeToString(b)
	}
	return fmt.Sprintf("%v", v)
}

// Canonical returns b with leading zero bytes removed, keeping one byte for
// zero (§8.3). It returns a sub-slice of b, not a copy. An empty b is returned
// as is: the spec makes it invalid, not zero.
func Canonical(b []byte) []byte {
	i := 0
	for i < len(b)-1 && b[i] == 0 {
		i++
	}
	return b[i:]
}

// BitLen is the number of significant bits of the big-endian unsigned value
// b (0 for zero).
func BitLen(b []byte) int {
	for i, c := range b {
		if c != 0 {
			return (len(b)-i-1)*8 + bits.Len8(c)
		}
	}
	return 0
}

// isZero reports whether the big-endian value b is 0.
func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// rawBytes turns a human value into big-endian bytes (not yet canonical).
func rawBytes(v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return nil, fmt.Errorf("missing value")
	case []byte:
		if len(x) == 0 {
			return nil, fmt.Errorf("empty bytestring")
		}
		return x, nil
	case string:
		return parseString(x)
	case int:
		return signed(int64(x))
	case int8:
		return signed(int64(x))
	case int16:
		return signed(int64(x))
	case int32:
		return signed(int64(x))
	case int64:
		return signed(x)
	case uint:
		return uintBytes(uint64(x)), nil
	case uint8:
		return uintBytes(uint64(x)), nil
	case uint16:
		return uintBytes(uint64(x)), nil
	case uint32:
		return uintBytes(uint64(x)), nil
	case uint64:
		return uintBytes(x), nil
	case *big.Int:
		if x == nil || x.Sign() < 0 {
			return nil, fmt.Errorf("negative or nil big.Int %v", x)
		}
		if x.Sign() == 0 {
			return []byte{0}, nil
		}
		return x.Bytes(), nil
	case netip.Addr:
		if !x.IsValid() {
			return nil, fmt.Errorf("invalid address")
		}
		return x.AsSlice(), nil
	case net.IP:
		if v4 := x.To4(); v4 != nil {
			return v4, nil
		}
		if len(x) != net.IPv6len {
			return nil, fmt.Errorf("invalid IP %v", x)
		}
		return x, nil
	case net.HardwareAddr:
		if len(x) == 0 {
			return nil, fmt.Errorf("empty MAC")
		}
		return x, nil
	default:
		return nil, fmt.Errorf("unsupported value type %T", v)
	}
}

func signed(x int64) ([]byte, error) {
	if x < 0 {
		return nil, fmt.Errorf("negative value %d", x)
	}
	return uintBytes(uint64(x)), nil
}

func uintBytes(x uint64) []byte {
	n := (bits.Len64(x) + 7) / 8
	if n == 0 {
		return []byte{0}
	}
	b := make([]byte, n)
	for i := n - 1; i >= 0; i-- {
		b[i] = byte(x)
		x >>= 8
	}
	return b
}

// parseString accepts decimal, 0x-hex, IPv4, IPv6 and MAC strings.
func parseString(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, fmt.Errorf("empty value")
	}
	if mac, ok := parseMAC(s); ok {
		return mac, nil
	}
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
		h := s[2:]
		if h == "" {
			return nil, fmt.Errorf("bad hex %s", yamlerr.Quote(s))
		}
		if len(h)%2 == 1 {
			h = "0" + h
		}
		b, err := hex.DecodeString(h)
		if err != nil {
			return nil, fmt.Errorf("bad hex %s", yamlerr.Quote(s))
		}
		return b, nil
	}
	if strings.ContainsAny(s, ".:") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("bad address %s", yamlerr.Quote(s))
		}
		if a.Zone() != "" {
			return nil, fmt.Errorf("address %s has a zone", yamlerr.Quote(s))
		}
		return a.AsSlice(), nil
	}
	if u, err := strconv.ParseUint(s, 10, 64); err == nil {
		return uintBytes(u), nil
	}
	n, ok := new(big.Int).SetString(s, 10)
	if !ok || n.Sign() < 0 {
		return nil, fmt.Errorf("cannot parse %s as a number, address or MAC", yamlerr.Quote(s))
	}
	return n.Bytes(), nil
}

// parseMAC accepts exactly six two-digit hex groups separated by ':' or '-'.
// Looser forms are left to the IPv6 parser, which is why this is stricter
// than net.ParseMAC.
func parseMAC(s string) ([]byte, bool) {
	if len(s) != 17 {
		return nil, false
	}
	sep := s[2]
	if sep != ':' && sep != '-' {
		return nil, false
	}
	out := make([]byte, 6)
	for i := 0; i < 6; i++ {
		if i > 0 && s[3*i-1] != sep {
			return nil, false
		}
		b, err := hex.DecodeString(s[3*i : 3*i+2])
		if err != nil {
			return nil, false
		}
		out[i] = b[0]
	}
	return out, true
}

// parsePrefix splits "value/len"; value is anything parseString accepts.
func parsePrefix(s string) ([]byte, int32, error) {
	i := strings.LastIndexByte(s, '/')
	if i < 0 {
		return nil, 0, fmt.Errorf("prefix %s has no /length", yamlerr.Quote(s))
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s[i+1:]), 10, 32)
	if err != nil || n < 0 {
		return nil, 0, fmt.Errorf("prefix %s: bad length", yamlerr.Quote(s))
	}
	v, err := parseString(s[:i])
	if err != nil {
		return nil, 0, fmt.Errorf("prefix %s: %w", yamlerr.Quote(s), err)
	}
	return v, int32(n), nil
}

// withinMask reports whether value has no bit set outside mask, i.e.
// value & mask == value (§9.1.1), for big-endian values of any lengths.
func withinMask(value, mask []byte) bool {
	off := len(value) - len(mask) // value bytes above the mask's top byte
	for i, v := range value {
		var m byte
		if j := i - off; j >= 0 {
			m = mask[j]
		}
		if v&^m != 0 {
			return false
		}
	}
	return true
}

// cmpBytes compares big-endian unsigned values of any length.
func cmpBytes(a, b []byte) int {
	a, b = Canonical(a), Canonical(b)
	if len(a) != len(b) {
		if len(a) < len(b) {
			return -1
		}
		return 1
	}
	for i := range a {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}

// equalValue compares two bytestrings as unsigned integers.
func equalValue(a, b []byte) bool { return cmpBytes(a, b) == 0 }

// trailingZeros counts the zero bits at the low end of b; a zero value has
// 8*len(b).
func trailingZeros(b []byte) int {
	n := 0
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == 0 {
			n += 8
			continue
		}
		return n + bits.TrailingZeros8(b[i])
	}
	return n
}

// maxValue reports whether b is 2^w - 1, the all-ones value of a w-bit field.
func isAllOnes(b []byte, w int32) bool {
	return BitLen(b) == int(w) && trailingOnes(b) == int(w)
}

func trailingOnes(b []byte) int {
	n := 0
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == 0xff {
			n += 8
			continue
		}
		return n + bits.TrailingZeros8(^b[i])
	}
	return n
}

// checkBytestring applies §8.3 to a received bytestring: non-empty and the
// value fits in w bits. Extra leading zero bytes are accepted.
func checkBytestring(what string, b []byte, w int32) error {
	if len(b) == 0 {
		return &ValidationError{Code: codes.OutOfRange, Msg: what + ": empty bytestring"}
	}
	if n := BitLen(b); n > int(w) {
		return &ValidationError{Code: codes.OutOfRange, Msg: fmt.Sprintf("%s: value 0x%x needs %d bits, field has %d", what, b, n, w)}
	}
	return nil
}
