package units

import "strings"

// unitDef is one accepted spelling of a unit.
type unitDef struct {
	name string  // exactly as written; matching is case-sensitive
	mult float64 // bit/s (rates) or bytes (sizes) per one of the unit
	what string  // the reading in words, for hints: "megabytes/s"
}

// prefix is an SI or IEC multiplier as it appears before a unit.
type prefix struct {
	sym  string
	mult float64
	word string
}

// Upper-case K comes before k so that hints suggest KB and Kbps, the
// spellings used throughout the docs.
var (
	decimal = []prefix{{"", 1, ""}, {"K", 1e3, "kilo"}, {"k", 1e3, "kilo"}, {"M", 1e6, "mega"}, {"G", 1e9, "giga"}, {"T", 1e12, "tera"}}
	binary  = []prefix{{"Ki", 1 << 10, "kibi"}, {"Mi", 1 << 20, "mebi"}, {"Gi", 1 << 30, "gibi"}, {"Ti", 1 << 40, "tebi"}}
	// tcOnly are tc's lower-case prefixes, valid only before "bit": there
	// they cannot be mistaken for milli or for bytes.
	tcOnly = []prefix{{"m", 1e6, "mega"}, {"g", 1e9, "giga"}, {"t", 1e12, "tera"}}
)

// rateUnits and sizeUnits are built once and only read afterwards.
var (
	rateUnits = buildRateUnits()
	sizeUnits = buildSizeUnits()
)

func buildRateUnits() []unitDef {
	var us []unitDef
	for _, p := range decimal {
		bits, bytes := p.word+"bits/s", p.word+"bytes/s"
		us = append(us,
			unitDef{p.sym + "bps", p.mult, bits},
			unitDef{p.sym + "b/s", p.mult, bits},
			unitDef{p.sym + "bit/s", p.mult, bits},
			unitDef{p.sym + "bit", p.mult, bits},
			unitDef{p.sym + "Bps", 8 * p.mult, bytes},
			unitDef{p.sym + "B/s", 8 * p.mult, bytes})
	}
	for _, p := range tcOnly {
		us = append(us, unitDef{p.sym + "bit", p.mult, p.word + "bits/s"}, unitDef{p.sym + "bit/s", p.mult, p.word + "bits/s"})
	}
	return us
}

func buildSizeUnits() []unitDef {
	var us []unitDef
	for _, p := range append(decimal[:len(decimal):len(decimal)], binary...) {
		us = append(us, unitDef{p.sym + "B", p.mult, p.word + "bytes"})
		// Lower-case k before b is left out: "64kb" is SI for kilobits but
		// is commonly written meaning kilobytes, so it is refused as ambiguous.
		if p.sym != "k" {
			us = append(us, unitDef{p.sym + "b", p.mult / 8, p.word + "bits"})
		}
	}
	for _, p := range append(decimal[:len(decimal):len(decimal)], tcOnly...) {
		us = append(us, unitDef{p.sym + "bit", p.mult / 8, p.word + "bits"})
	}
	return us
}

// lookup finds name among us. Spellings with the word "bit" are matched
// case-insensitively, as tc does, since nothing spelled "bit" can be read as
// bytes.
func lookup(us []unitDef, name string) (unitDef, bool) {
	if u, ok := find(us, name); ok {
		return u, true
	}
	if low := strings.ToLower(name); strings.Contains(low, "bit") {
		return find(us, low)
	}
	return unitDef{}, false
}

// isPrefix reports whether name, up to case, is a bare prefix such as tc's
// "64k", which leaves open whether bits or bytes are meant.
func isPrefix(name string) bool {
	for _, p := range append(decimal[1:len(decimal):len(decimal)], binary...) {
		if strings.EqualFold(p.sym, name) {
			return true
		}
	}
	return false
}

// find returns the spelling equal to name.
func find(us []unitDef, name string) (unitDef, bool) {
	for _, u := range us {
		if u.name == name {
			return u, true
		}
	}
	return unitDef{}, false
}

// isUnit reports whether name is, up to case, one of us.
func isUnit(us []unitDef, name string) bool {
	return len(readings(us, name)) > 0
}

// readings returns the distinct meanings of name when case is ignored, one
// spelling each (the first in table order).
func readings(us []unitDef, name string) []unitDef {
	var out []unitDef
	seen := map[float64]bool{}
	for _, u := range us {
		if strings.EqualFold(u.name, name) && !seen[u.mult] {
			seen[u.mult] = true
			out = append(out, u)
		}
	}
	return out
}
