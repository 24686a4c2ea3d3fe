package allocator

import (
	"bytes"
	"strconv"
	"unicode/utf8"

	"github.com/p4qos/p4qos/internal/units"
)

// decodeJSON is ParseProblem's fast path for JSON input. It decodes a
// problem straight from the bytes into a Problem, with no node tree and no
// per-value allocations beyond the Problem's own strings and slices.
//
// It is deliberately all-or-nothing: on anything it does not take as
// certainly valid — a syntax error, an unknown or duplicate key, a string
// escape, a null where a value is needed, a bad unit, deep nesting — it
// returns ok=false and ParseProblem reads the same bytes through the YAML
// path, which reports every problem with its line. So valid input is fast
// and invalid input gets exactly the messages it always had; the two paths
// agreeing on every input the fast one accepts is what FuzzParseProblemJSON
// checks.
//
// On failure it returns nil and the byte offset where it gave up.
func decodeJSON(data []byte) (p *Problem, failedAt int) {
	if !utf8.Valid(data) {
		// Where: the first invalid byte.
		for i := 0; i < len(data); {
			r, n := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && n <= 1 {
				return nil, i
			}
			i += n
		}
	}
	d := &jsonDecoder{data: data}
	p = &Problem{}
	if !d.problem(p) {
		return nil, d.pos
	}
	d.space()
	if d.pos != len(d.data) {
		return nil, d.pos // trailing data
	}
	return p, 0
}

// maxJSONDepth bounds the children recursion; deeper input takes the YAML
// path, whose nesting limits and messages apply.
const maxJSONDepth = 64

type jsonDecoder struct {
	data []byte
	pos  int
}

func (d *jsonDecoder) space() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, or 0 at the end.
func (d *jsonDecoder) peek() byte {
	d.space()
	if d.pos < len(d.data) {
		return d.data[d.pos]
	}
	return 0
}

func (d *jsonDecoder) consume(c byte) bool {
	if d.peek() != c {
		return false
	}
	d.pos++
	return true
}

// literal consumes the bytes of lit (null, true, false) after any space.
func (d *jsonDecoder) literal(lit string) bool {
	d.space()
	if !bytes.HasPrefix(d.data[d.pos:], []byte(lit)) {
		return false
	}
	d.pos += len(lit)
	return true
}

// str reads a string without escapes (escaped strings take the slow path:
// names and units never need them).
func (d *jsonDecoder) str() (string, bool) {
	if !d.consume('"') {
		return "", false
	}
	start := d.pos
	for d.pos < len(d.data) {
		switch c := d.data[d.pos]; {
		case c == '"':
			s := string(d.data[start:d.pos])
			d.pos++
			return s, true
		case c == '\\' || c < 0x20 || c >= 0x7f:
			// Escapes, and DEL and non-ASCII, which YAML treats
			// differently (DEL is not printable there; U+0085, U+2028
			// and U+2029 are line breaks folded inside quotes).
			return "", false
		}
		d.pos++
	}
	return "", false
}

// number reads a JSON number token and converts it as the YAML path does
// (strconv.ParseFloat of the same text).
func (d *jsonDecoder) number() (float64, bool) {
	d.space()
	start := d.pos
	if d.pos < len(d.data) && d.data[d.pos] == '-' {
		d.pos++
	}
	digits := d.pos
	for d.pos < len(d.data) && d.data[d.pos] >= '0' && d.data[d.pos] <= '9' {
		d.pos++
	}
	if d.pos == digits || (d.data[digits] == '0' && d.pos-digits > 1) {
		return 0, false // no digits, or a leading zero (YAML would read 012 as octal)
	}
	if d.pos < len(d.data) && d.data[d.pos] == '.' {
		d.pos++
		frac := d.pos
		for d.pos < len(d.data) && d.data[d.pos] >= '0' && d.data[d.pos] <= '9' {
			d.pos++
		}
		if d.pos == frac {
			return 0, false
		}
	}
	if d.pos < len(d.data) && (d.data[d.pos] == 'e' || d.data[d.pos] == 'E') {
		d.pos++
		if d.pos < len(d.data) && (d.data[d.pos] == '+' || d.data[d.pos] == '-') {
			d.pos++
		}
		exp := d.pos
		for d.pos < len(d.data) && d.data[d.pos] >= '0' && d.data[d.pos] <= '9' {
			d.pos++
		}
		if d.pos == exp {
			return 0, false
		}
	}
	v, err := strconv.ParseFloat(string(d.data[start:d.pos]), 64)
	return v, err == nil
}

// countStrings counts the elements of the list of plain strings that
// starts at the next '[' without consuming anything; it stops at anything
// else (the decoder then fails there), so it is a capacity hint only.
func (d *jsonDecoder) countStrings() int {
	i, n := d.pos, 0
	skip := func() {
		for i < len(d.data) && (d.data[i] == ' ' || d.data[i] == '\t' || d.data[i] == '\n' || d.data[i] == '\r') {
			i++
		}
	}
	skip()
	if i >= len(d.data) || d.data[i] != '[' {
		return 0
	}
	i++
	for {
		skip()
		if i >= len(d.data) || d.data[i] != '"' {
			return n
		}
		end := bytes.IndexByte(d.data[i+1:], '"')
		if end < 0 {
			return n
		}
		i += end + 2
		n++
		skip()
		if i >= len(d.data) || d.data[i] != ',' {
			return n
		}
		i++
	}
}

// rate reads a number of bits/s or a string with units.
func (d *jsonDecoder) rate() (float64, bool) {
	if d.peek() != '"' {
		return d.number()
	}
	s, ok := d.str()
	if !ok {
		return 0, false
	}
	v, err := units.ParseBitrate(s)
	return v, err == nil
}

// object calls field for each key of an object; field returns false to
// give up. Duplicate keys are left to field (via seen masks).
func (d *jsonDecoder) object(field func(key string) bool) bool {
	if !d.consume('{') {
		return false
	}
	if d.consume('}') {
		return true
	}
	for {
		d.space()
		keyAt := d.pos
		k, ok := d.str()
		if !ok || !d.consume(':') {
			return false
		}
		if valueAt := d.pos; !field(k) {
			if d.pos == valueAt {
				d.pos = keyAt // an unknown key: point at it, not past it
			}
			return false
		}
		if d.consume('}') {
			return true
		}
		if !d.consume(',') {
			return false
		}
	}
}

// array calls elem for each element of an array; null is not an array
// here (callers that allow null check for it first).
func (d *jsonDecoder) array(elem func() bool) bool {
	if !d.consume('[') {
		return false
	}
	if d.consume(']') {
		return true
	}
	for {
		if !elem() {
			return false
		}
		if d.consume(']') {
			return true
		}
		if !d.consume(',') {
			return false
		}
	}
}

// once marks bit in seen and reports whether it was clear: a duplicate key
// is an error the YAML path reports.
func once(seen *uint8, bit uint8) bool {
	if *seen&bit != 0 {
		return false
	}
	*seen |= bit
	return true
}

func (d *jsonDecoder) problem(p *Problem) bool {
	var seen uint8
	return d.object(func(k string) bool {
		switch k {
		case "mode":
			s, ok := d.str()
			p.Mode = Mode(s)
			return once(&seen, 1) && ok
		case "links":
			p.Links = []Link{} // present: non-nil, as the YAML path makes it
			return once(&seen, 2) && (d.literal("null") || d.array(func() bool {
				var l Link
				var lseen uint8
				if !d.object(func(k string) bool {
					var ok bool
					switch k {
					case "name":
						l.Name, ok = d.str()
						return once(&lseen, 1) && ok
					case "capacity":
						l.Capacity, ok = d.rate()
						return once(&lseen, 2) && ok
					}
					return false
				}) || lseen&2 == 0 {
					return false
				}
				p.Links = append(p.Links, l)
				return true
			}))
		case "flow_groups":
			p.FlowGroups = []FlowGroup{}
			return once(&seen, 4) && (d.literal("null") || d.array(func() bool {
				p.FlowGroups = append(p.FlowGroups, FlowGroup{})
				return d.flowGroup(&p.FlowGroups[len(p.FlowGroups)-1])
			}))
		case "objective":
			s, ok := d.str()
			p.Objective = Objective(s)
			return once(&seen, 8) && ok
		case "alpha":
			a, ok := d.number()
			p.Alpha = &a
			return once(&seen, 16) && ok
		}
		return false
	})
}

func (d *jsonDecoder) flowGroup(fg *FlowGroup) bool {
	var seen uint8
	var ok bool
	return d.object(func(k string) bool {
		if known, ok := d.sharedField(k, &seen, &fg.Name, &fg.Demand, &fg.Function); known {
			return ok
		}
		switch k {
		case "paths":
			fg.Paths = []Path{}
			return once(&seen, 16) && (d.literal("null") || d.array(func() bool {
				pa := Path{Weight: 1}
				var pseen uint8
				if !d.object(func(k string) bool {
					switch k {
					case "links":
						// Sized up front: a path can be millions of links
						// long, and growing the slice by doubling would
						// leave each old copy behind as garbage.
						pa.Links = make([]string, 0, d.countStrings())
						return once(&pseen, 1) && (d.literal("null") || d.array(func() bool {
							s, ok := d.str()
							pa.Links = append(pa.Links, s)
							return ok
						}))
					case "weight":
						pa.Weight, ok = d.number()
						return once(&pseen, 2) && ok
					}
					return false
				}) {
					return false
				}
				fg.Paths = append(fg.Paths, pa)
				return true
			}))
		case "children":
			return once(&seen, 32) && d.children(&fg.Children, 1)
		}
		return false
	})
}

func (d *jsonDecoder) children(out *[]Child, depth int) bool {
	if depth > maxJSONDepth {
		return false
	}
	*out = []Child{} // present: non-nil, as the YAML path makes it
	if d.literal("null") {
		return true
	}
	return d.array(func() bool {
		var c Child
		var seen uint8
		if !d.object(func(k string) bool {
			if known, ok := d.sharedField(k, &seen, &c.Name, &c.Demand, &c.Function); known {
				return ok
			}
			switch k {
			case "children":
				return once(&seen, 16) && d.children(&c.Children, depth+1)
			}
			return false
		}) {
			return false
		}
		*out = append(*out, c)
		return true
	})
}

// sharedField reads the keys flow groups and children share; known is
// false for any other key. Their seen bits are 1, 2, 4 and 8.
func (d *jsonDecoder) sharedField(k string, seen *uint8, name *string, demand **float64, f *BandwidthFunction) (known, ok bool) {
	switch k {
	case "name":
		*name, ok = d.str()
		return true, once(seen, 1) && ok
	case "demand":
		*demand, ok = d.demand()
		return true, once(seen, 2) && ok
	case "function":
		return true, once(seen, 4) && d.points(f)
	case "weight":
		return true, once(seen, 8) && d.weight(f)
	}
	return false, false
}

func (d *jsonDecoder) demand() (*float64, bool) {
	if d.literal("null") {
		return nil, true
	}
	v, ok := d.rate()
	return &v, ok
}

func (d *jsonDecoder) weight(f *BandwidthFunction) bool {
	w, ok := d.rate()
	f.Weight = w
	return ok && w > 0
}

// points reads [[share, rate], ...]; an empty list is an error (the YAML
// path says "function has no points").
func (d *jsonDecoder) points(f *BandwidthFunction) bool {
	ok := d.array(func() bool {
		var pt Point
		var ok bool
		if !d.consume('[') {
			return false
		}
		if pt.Share, ok = d.number(); !ok || !d.consume(',') {
			return false
		}
		if pt.Rate, ok = d.rate(); !ok || !d.consume(']') {
			return false
		}
		f.Points = append(f.Points, pt)
		return true
	})
	return ok && len(f.Points) > 0
}
