package allocator

import (
	"bytes"
	"strconv"
	"unicode/utf8"
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
// agreeing on every input the fast one accepts is what FuzzDecodeJSON
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
	if !decodeProblem(valueReader{j: d}, p) {
		return nil, d.pos
	}
	d.space()
	if d.pos != len(d.data) {
		return nil, d.pos // trailing data
	}
	return p, 0
}

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

func (d *jsonDecoder) str() (string, bool) {
	b, ok := d.rawStr()
	return string(b), ok
}

// rawStr reads a string without escapes (escaped strings take the slow
// path: names and units never need them).
func (d *jsonDecoder) rawStr() ([]byte, bool) {
	if !d.consume('"') {
		return nil, false
	}
	start := d.pos
	for d.pos < len(d.data) {
		switch c := d.data[d.pos]; {
		case c == '"':
			s := d.data[start:d.pos]
			d.pos++
			return s, true
		case c == '\\' || c < 0x20 || c >= 0x7f:
			// Escapes, and DEL and non-ASCII, which YAML treats
			// differently (DEL is not printable there; U+0085, U+2028
			// and U+2029 are line breaks folded inside quotes).
			return nil, false
		}
		d.pos++
	}
	return nil, false
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

func (d *jsonDecoder) null() bool { return d.literal("null") }

// listLen counts the elements of the list of plain strings that
// starts at the next '[' without consuming anything; it stops at anything
// else (the decoder then fails there), so it is a capacity hint only.
func (d *jsonDecoder) listLen() int {
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
	s, ok := d.rawStr()
	if !ok {
		return 0, false
	}
	return parseRate(string(s))
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
		k, ok := d.rawStr()
		if !ok || !d.consume(':') {
			return false
		}
		if valueAt := d.pos; !field(keyString(k)) {
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
