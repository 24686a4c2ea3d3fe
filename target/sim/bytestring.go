package sim

import (
	"math/big"
	"math/bits"

	"google.golang.org/grpc/codes"
)

// canonical checks a received unsigned bytestring against a bit<W> width and
// returns its canonical (shortest) form. P4Runtime §8.3: the receiver accepts
// any length as long as the value fits in W bits; an empty string or a value
// that does not fit is OUT_OF_RANGE. Storing the canonical form gives
// read-write symmetry for clients that send canonical strings and makes the
// entity identity independent of padding.
func canonical(b []byte, width int32, what string) ([]byte, error) {
	if len(b) == 0 {
		return nil, statusf(codes.OutOfRange, "%s: empty bytestring", what)
	}
	i := 0
	for i < len(b)-1 && b[i] == 0 {
		i++
	}
	v := b[i:]
	if bitLen(v) > int(width) {
		return nil, statusf(codes.OutOfRange, "%s: value %#x does not fit in %d bits", what, b, width)
	}
	out := make([]byte, len(v))
	copy(out, v)
	return out, nil
}

// bitLen is the number of significant bits of a big-endian unsigned value.
func bitLen(v []byte) int {
	for i, c := range v {
		if c != 0 {
			return (len(v)-i-1)*8 + bits.Len8(c)
		}
	}
	return 0
}

func toBig(b []byte) *big.Int { return new(big.Int).SetBytes(b) }

// bytesToUint64 decodes a big-endian value of at most 8 significant bytes.
func bytesToUint64(b []byte) uint64 {
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v
}

// trailingZeroBits counts the zero bits at the low end of a big-endian value.
func trailingZeroBits(v []byte) int {
	n := 0
	for i := len(v) - 1; i >= 0; i-- {
		if v[i] == 0 {
			n += 8
			continue
		}
		return n + bits.TrailingZeros8(v[i])
	}
	return n
}

// maxValue is 2^w - 1.
func maxValue(w int32) *big.Int {
	one := big.NewInt(1)
	return new(big.Int).Sub(new(big.Int).Lsh(one, uint(w)), one)
}
