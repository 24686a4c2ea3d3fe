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

// ParseBitrate parses a rate such as "10Mbps", "1.5 Gbps", "10MBps" (bytes/s)
// or "2500" (bit/s) and returns bits per second. Units are case-sensitive
// (see the package comment); negative, NaN and infinite rates are errors.
func ParseBitrate(s string) (float64, error) {
	v, unit, err := split(s)
	if err != nil {
		return 0, err
	}
	mult := 1.0
	if unit != "" {
		u, ok := lookup(rateUnits, unit)
		if !ok {
			return 0, fmt.Errorf("%w: %s: %s", ErrSyntax, yamlerr.Quote(s), rateHint(v, unit))
		}
		mult = u.mult
	}
	r := v * mult
	if r < 0 || math.IsNaN(r) || math.IsInf(r, 0) {
		return 0, fmt.Errorf("%w: %s: rate must be a finite number ≥ 0", ErrSyntax, yamlerr.Quote(s))
	}
	return r, nil
}

// ParseBytes parses a size such as "64KB", "1.5MiB", "3Kb" (kilobits) or
// "1500" (bytes) and returns bytes. The size must come to a whole number of
// bytes: a fraction would be silently rounded by whoever programs it.
func ParseBytes(s string) (uint64, error) {
	v, unit, err := split(s)
	if err != nil {
		return 0, err
	}
	mult := 1.0
	if unit != "" {
		u, ok := lookup(sizeUnits, unit)
		if !ok {
			return 0, fmt.Errorf("%w: %s: %s", ErrSyntax, yamlerr.Quote(s), sizeHint(v, unit))
		}
		mult = u.mult
	}
	b := v * mult
	if b < 0 || math.IsNaN(b) || b >= math.MaxUint64 {
		return 0, fmt.Errorf("%w: %s: size must be a finite number ≥ 0", ErrSyntax, yamlerr.Quote(s))
	}
	whole := math.Round(b)
	// Float arithmetic leaves crumbs ("1.1KB" is 1100.0000000000002), so
	// compare with a tolerance far below one byte and far above the crumbs.
	if math.Abs(b-whole) > math.Max(1e-9, b*1e-12) {
		return 0, fmt.Errorf("%w: %s is %s bytes: a size must be a whole number of bytes", ErrSyntax, yamlerr.Quote(s), num(b))
	}
	return uint64(whole), nil
}

// split separates "12.5 Mbps" into 12.5 and "Mbps" (case kept).
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
	return v, strings.TrimSpace(s[i:]), nil
}

// rateHint explains why unit is not a rate unit and what to write instead.
func rateHint(v float64, unit string) string {
	if alts := readings(rateUnits, unit); len(alts) > 0 {
		return fmt.Sprintf("ambiguous unit %s (case matters: b is bits, B is bytes): write %s", yamlerr.Quote(unit), rateChoices(v, alts))
	}
	if alts := readings(rateUnits, unit+"bps"); isPrefix(unit) && len(alts) > 0 {
		return fmt.Sprintf("%s needs a unit: write %s", yamlerr.Quote(unit), rateChoices(v, alts))
	}
	if isUnit(sizeUnits, unit) {
		msg := fmt.Sprintf("%s is a size, not a rate", yamlerr.Quote(unit))
		if alts := readings(rateUnits, unit+"ps"); len(alts) > 0 {
			msg += ": write " + rateChoices(v, alts)
		}
		return msg
	}
	return fmt.Sprintf("unknown rate unit %s (want bps, Kbps, Mbps, Gbps or Tbps for bits/s, Bps, KBps, MBps or GBps for bytes/s, or tc's kbit, mbit, gbit)", yamlerr.Quote(unit))
}

// sizeHint explains why unit is not a size unit and what to write instead.
func sizeHint(v float64, unit string) string {
	if alts := readings(sizeUnits, unit); len(alts) > 0 {
		return fmt.Sprintf("ambiguous unit %s (case matters: b is bits, B is bytes): write %s", yamlerr.Quote(unit), sizeChoices(v, alts))
	}
	if alts := readings(sizeUnits, unit+"b"); isPrefix(unit) && len(alts) > 0 {
		return fmt.Sprintf("%s needs a unit: write %s", yamlerr.Quote(unit), sizeChoices(v, alts))
	}
	if isUnit(rateUnits, unit) {
		return fmt.Sprintf("%s is a rate, not a size (want B, KB, KiB, MB, MiB, GB or GiB)", yamlerr.Quote(unit))
	}
	return fmt.Sprintf("unknown size unit %s (want B, KB, KiB, MB, MiB, GB or GiB for bytes, or b, Kb, Mb for bits)", yamlerr.Quote(unit))
}

// rateChoices lists "10Mbps for megabits/s or 10MBps for megabytes/s (= 80Mbps)".
func rateChoices(v float64, alts []unitDef) string {
	parts := make([]string, len(alts))
	for i, u := range alts {
		written := num(v) + u.name
		parts[i] = written + " for " + u.what
		// Spell out the conversion, which is what the user may not expect.
		if strings.Contains(u.what, "bytes") {
			parts[i] += " (= " + FormatBitrate(v*u.mult) + ")"
		}
	}
	return strings.Join(parts, " or ")
}

// sizeChoices lists "64KB for kilobytes or 64Kb for kilobits (= 8KB)".
func sizeChoices(v float64, alts []unitDef) string {
	parts := make([]string, len(alts))
	for i, u := range alts {
		written := num(v) + u.name
		parts[i] = written + " for " + u.what
		// Spell out the conversion, which is what the user may not expect.
		switch b := v * u.mult; {
		case !strings.Contains(u.what, "bits"):
		case b != math.Trunc(b) || b >= math.MaxUint64:
			parts[i] += " (= " + num(b) + " bytes)"
		default:
			parts[i] += " (= " + FormatBytes(uint64(b)) + ")"
		}
	}
	return strings.Join(parts, " or ")
}

// num prints a number briefly, however the user wrote it.
func num(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

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
