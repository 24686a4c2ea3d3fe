package units

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/p4qos/p4qos/internal/yamlerr"
)

// ErrSyntax is wrapped by every parse error, so callers can tell a malformed
// quantity from other failures.
var ErrSyntax = errors.New("invalid quantity")

var rateUnits = map[string]float64{
	"bps": 1, "kbps": 1e3, "mbps": 1e6, "gbps": 1e9, "tbps": 1e12,
	"bit/s": 1, "kbit/s": 1e3, "mbit/s": 1e6, "gbit/s": 1e9, "tbit/s": 1e12,
}

var sizeUnits = map[string]float64{
	"b": 1, "kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12,
	"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
}

// split separates "12.5 Mbps" into 12.5 and "mbps".
func split(s string) (float64, string, error) {
	s = strings.TrimSpace(s)
	i := 0
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.' || s[i] == 'e' || s[i] == 'E' || s[i] == '+' || s[i] == '-') {
		// An 'e' that starts a unit ("5e" never does) is part of the number only
		// if a digit or sign follows.
		if (s[i] == 'e' || s[i] == 'E') && (i+1 >= len(s) || !strings.ContainsRune("0123456789+-", rune(s[i+1]))) {
			break
		}
		i++
	}
	if i == 0 {
		return 0, "", fmt.Errorf("%w: %s does not start with a number", ErrSyntax, yamlerr.Quote(s))
	}
	v, err := strconv.ParseFloat(s[:i], 64)
	if err != nil {
		return 0, "", fmt.Errorf("%w: %s: bad number", ErrSyntax, yamlerr.Quote(s))
	}
	return v, strings.ToLower(strings.TrimSpace(s[i:])), nil
}

// ParseBitrate parses a rate such as "10Mbps", "1.5 Gbps" or "2500" (bit/s)
// and returns bits per second. Negative, NaN and infinite rates are errors.
func ParseBitrate(s string) (float64, error) {
	v, unit, err := split(s)
	if err != nil {
		return 0, err
	}
	mult := 1.0
	if unit != "" {
		m, ok := rateUnits[unit]
		if !ok {
			return 0, fmt.Errorf("%w: %s: unknown rate unit %s (want bps, Kbps, Mbps, Gbps or Tbps)", ErrSyntax, yamlerr.Quote(s), yamlerr.Quote(unit))
		}
		mult = m
	}
	r := v * mult
	if r < 0 || math.IsNaN(r) || math.IsInf(r, 0) {
		return 0, fmt.Errorf("%w: %s: rate must be a finite number ≥ 0", ErrSyntax, yamlerr.Quote(s))
	}
	return r, nil
}

// ParseBytes parses a size such as "64KB", "1.5MiB" or "1500" (bytes).
// Fractions of a byte are rounded to the nearest byte.
func ParseBytes(s string) (uint64, error) {
	v, unit, err := split(s)
	if err != nil {
		return 0, err
	}
	mult := 1.0
	if unit != "" {
		m, ok := sizeUnits[unit]
		if !ok {
			return 0, fmt.Errorf("%w: %s: unknown size unit %s (want B, KB, KiB, MB, MiB, GB or GiB)", ErrSyntax, yamlerr.Quote(s), yamlerr.Quote(unit))
		}
		mult = m
	}
	b := math.Round(v * mult)
	if b < 0 || math.IsNaN(b) || b >= math.MaxUint64 {
		return 0, fmt.Errorf("%w: %s: size must be a finite number ≥ 0", ErrSyntax, yamlerr.Quote(s))
	}
	return uint64(b), nil
}

// FormatBitrate renders bits per second with the largest decimal unit that
// keeps the value ≥ 1, with up to three significant decimals: "12.5Mbps".
func FormatBitrate(bps float64) string {
	switch {
	case math.IsInf(bps, 1):
		return "unbounded"
	case math.IsNaN(bps):
		return "NaN"
	}
	units := []struct {
		div  float64
		name string
	}{{1e12, "Tbps"}, {1e9, "Gbps"}, {1e6, "Mbps"}, {1e3, "Kbps"}}
	a := math.Abs(bps)
	for _, u := range units {
		if a >= u.div {
			return trim(bps/u.div) + u.name
		}
	}
	return trim(bps) + "bps"
}

// FormatBytes renders a byte count with binary units when it is a whole
// number of them (65536 → "64KiB") and decimal units otherwise.
func FormatBytes(n uint64) string {
	bin := []struct {
		div  uint64
		name string
	}{{1 << 40, "TiB"}, {1 << 30, "GiB"}, {1 << 20, "MiB"}, {1 << 10, "KiB"}}
	for _, u := range bin {
		if n >= u.div && n%u.div == 0 {
			return strconv.FormatUint(n/u.div, 10) + u.name
		}
	}
	dec := []struct {
		div  float64
		name string
	}{{1e12, "TB"}, {1e9, "GB"}, {1e6, "MB"}, {1e3, "KB"}}
	for _, u := range dec {
		if float64(n) >= u.div {
			return trim(float64(n)/u.div) + u.name
		}
	}
	return strconv.FormatUint(n, 10) + "B"
}

func trim(v float64) string {
	s := strconv.FormatFloat(v, 'f', 3, 64)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}
